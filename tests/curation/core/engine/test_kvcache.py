"""The in-place KV cache layer behaves as transformers' DynamicLayer does."""

import pytest
import torch
from transformers.cache_utils import DynamicLayer

from curation.core.engine.kvcache import RoomyLayer, roomy_cache


def pair(batch, tokens, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, tokens, 4, generator=g), torch.randn(batch, 3, tokens, 4, generator=g)


def roomy_like(keys, values, room):
    """A RoomyLayer holding (keys, values) with ``room`` spare positions of garbage after them."""
    pad = torch.full((*keys.shape[:2], room, keys.shape[-1]), float("nan"))
    return RoomyLayer(torch.cat([keys, pad], 2), torch.cat([values, pad.clone()], 2), keys.shape[2])


def same(a, b):
    return torch.equal(a.keys, b.keys) and torch.equal(a.values, b.values)


def test_updates_within_and_beyond_the_room_match_dynamic_layer():
    start = pair(2, 5, 0)
    ref, roomy = DynamicLayer(), roomy_like(*start, room=2)
    ref.update(*start)
    for step in range(4):  # the third update outgrows the room
        new = pair(2, 1 + step % 2, step + 1)
        out_ref, out = ref.update(*new), roomy.update(*new)
        assert torch.equal(out_ref[0], out[0]) and torch.equal(out_ref[1], out[1])
        assert same(ref, roomy) and roomy.get_seq_length() == ref.get_seq_length()
    assert not torch.isnan(roomy.keys).any()  # the spare room never shows


def test_batch_operations_and_crop_match_dynamic_layer():
    start = pair(3, 6, 7)
    ref, roomy = DynamicLayer(), roomy_like(*start, room=4)
    ref.update(*start)
    for op in (lambda x: x.batch_select_indices(torch.tensor([2, 0])),
               lambda x: x.batch_repeat_interleave(2), lambda x: x.crop(-2)):
        op(ref), op(roomy)
        assert same(ref, roomy)
    new = pair(4, 1, 9)
    ref.update(*new), roomy.update(*new)
    assert same(ref, roomy)


def test_roomy_cache_is_a_dynamic_cache_of_roomy_layers():
    keys, values = pair(2, 5, 3)
    cache = roomy_cache([(keys, values)] * 2, 5, config=None)
    assert len(cache.layers) == 2 and all(isinstance(x, RoomyLayer) for x in cache.layers)
    assert cache.get_seq_length() == 5


def test_crop_takes_a_negative_count_as_dynamic_layer_does():
    layer = roomy_like(*pair(1, 4, 5), room=1)
    layer.crop(-3)
    assert layer.get_seq_length() == 1
    with pytest.raises(ValueError, match="negative"):
        layer.crop(2)
