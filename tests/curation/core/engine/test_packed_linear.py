"""oneDNN-packed linear layers: same results as nn.Linear to float noise, swapped in and out
cleanly, packed again after an in-place weight change, and off where they should be."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

import curation.core.engine.packed_linear as packed_linear  # noqa: E402
from curation.core.engine import DecodeSettings, GenerationEngine  # noqa: E402
from curation.core.engine.packed_linear import PackedLinears  # noqa: E402
from curation.core.tiny import build_tiny_model  # noqa: E402

needs_onednn = pytest.mark.skipif(packed_linear._ops() is None,
                                  reason="this torch build has no oneDNN linear ops")


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.mktemp("tiny"))
    return AutoModelForCausalLM.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.a = torch.nn.Linear(24, 40)  # with a bias
        self.b = torch.nn.Linear(40, 8, bias=False)
        self.half = torch.nn.Linear(8, 8).to(torch.bfloat16)  # not float32: left alone

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.relu(self.a(x)))


@needs_onednn
def test_packed_layers_match_nn_linear_and_are_restored():
    net = Net()
    x = torch.randn(3, 5, 24)
    with torch.inference_mode():
        expected = net(x)
        packs = PackedLinears(net, enabled=True)
        assert packs.used
        with packs.active():
            assert "forward" in vars(net.a) and "forward" in vars(net.b)
            assert "forward" not in vars(net.half)
            got = net(x)
            one_row = net(x[:1, :1])  # a row's result does not depend on the rest of the batch
        assert not any("forward" in vars(m) for m in net.modules())
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
        assert torch.equal(one_row, got[:1, :1])
        assert torch.equal(net(x), expected)  # outside the block: nn.Linear's own kernel


@needs_onednn
def test_a_weight_changed_in_place_is_packed_again():
    net = Net()
    x = torch.randn(4, 24)
    packs = PackedLinears(net, enabled=True)
    with torch.inference_mode(), packs.active():
        before = net(x)
    with torch.no_grad():
        net.b.weight.mul_(2.0)  # a training step or a LoRA merge: same storage, new version
    with torch.inference_mode(), packs.active():
        after = net(x)
    torch.testing.assert_close(after, 2 * before, atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        net.a.bias.add_(1.0)  # a bias changed in place is noticed too
    with torch.inference_mode():
        expected = net(x)
        with packs.active():
            torch.testing.assert_close(net(x), expected, atol=1e-5, rtol=1e-5)


@needs_onednn
def test_inputs_needing_grad_use_the_default_kernel():
    net = Net()
    x = torch.randn(2, 24, requires_grad=True)
    with PackedLinears(net, enabled=True).active():
        out = net(x)
    out.sum().backward()  # the packed op has no backward; the fallback keeps autograd working
    assert x.grad is not None and net.a.weight.grad is not None


def test_off_when_disabled_too_big_or_unavailable(monkeypatch):
    assert not PackedLinears(Net(), enabled=False).used
    monkeypatch.setattr(packed_linear, "_physical_memory", lambda: 1000)  # weights > 1/4 of it
    assert not PackedLinears(Net(), enabled=None).used
    monkeypatch.setattr(packed_linear, "_ops", lambda: None)
    assert not PackedLinears(Net(), enabled=True).used


@needs_onednn
def test_engine_generates_on_packed_layers_and_scores_on_the_default_kernel(lm, monkeypatch):
    model, tok = lm
    prompts = ["Q: What is the capital of france?\nA:", "hello", "the river flows"]
    settings = DecodeSettings(max_new_tokens=8)
    plain = GenerationEngine(model, tok, show_progress=False, packed_linear=False)
    packed = GenerationEngine(model, tok, show_progress=False, packed_linear=True)
    assert (plain.kernel, packed.kernel) == ("default", "onednn-packed")
    calls = {"packed": 0}
    original = packed_linear._make_forward

    def counting(pack):
        forward = original(pack)

        def wrapped(self, x):
            calls["packed"] += 1
            return forward(self, x)
        return wrapped

    monkeypatch.setattr(packed_linear, "_make_forward", counting)
    assert packed.generate(prompts, settings) == plain.generate(prompts, settings)
    assert calls["packed"] > 0
    assert not any("forward" in vars(m) for m in model.modules())
    calls["packed"] = 0
    requests = [("Q: What is the capital of france?\nA:", " Paris"), ("hello", " world")]
    assert packed.loglikelihood(requests) == plain.loglikelihood(requests)  # same kernel: bits
    assert calls["packed"] == 0
