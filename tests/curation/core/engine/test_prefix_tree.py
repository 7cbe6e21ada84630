"""The radix tree that decides which prompt tokens are encoded once for several prompts."""

from curation.core.engine.prefix_tree import PrefixPlan

SHOT = [[100 + k] * 20 for k in range(3)]  # three 20-token shots
# Shots in a different order per item, as lm-eval's sampler draws them, then the question.
SEQS = [SHOT[0] + SHOT[1] + [1], SHOT[0] + SHOT[1] + [2], SHOT[0] + SHOT[2] + [3],
        SHOT[0] + SHOT[2] + [4], SHOT[1] + SHOT[0] + [5], SHOT[1] + SHOT[0] + [6]]


def runs(plan, i):
    """Sequence i rebuilt from its path's nodes and its tail."""
    return [t for n in plan.path[i] for t in plan.nodes[n].tokens] + plan.tail(i)


def test_every_shared_run_is_one_node():
    plan = PrefixPlan(SEQS, [len(s) - 1 for s in SEQS], min_shared=16)
    shapes = sorted((n.start, len(n.tokens), n.users) for n in plan.nodes)
    # shot 0 (4 users), then shot 1 or shot 2 below it (2 each); shots 1+0 as one run (2 users)
    assert shapes == [(0, 20, 4), (0, 40, 2), (20, 20, 2), (20, 20, 2)]
    assert plan.shared_tokens() == 100  # of 246: each item then encodes one token of its own
    for i, seq in enumerate(SEQS):
        assert runs(plan, i) == seq and plan.tail(i) == seq[-1:]
        assert plan.split[i] == sum(len(plan.nodes[n].tokens) for n in plan.path[i])
        for parent, child in zip(plan.path[i], plan.path[i][1:], strict=False):
            assert plan.nodes[child].parent == parent
            assert plan.ancestors(plan.nodes[child]) == plan.path[i][:plan.path[i].index(child)]
    assert plan.order == [0, 1, 2, 3, 4, 5]


def test_runs_shorter_than_the_minimum_stay_in_the_tails():
    plan = PrefixPlan(SEQS, [len(s) - 1 for s in SEQS], min_shared=30)
    # shot 0 alone (20 tokens) is too short; the 40-token runs of each pair are shared
    assert sorted((n.start, len(n.tokens), n.users) for n in plan.nodes) == [(0, 40, 2)] * 3
    assert all(runs(plan, i) == seq for i, seq in enumerate(SEQS))
    off = PrefixPlan(SEQS, [len(s) - 1 for s in SEQS], min_shared=10**9)
    assert off.nodes == [] and all(off.tail(i) == seq for i, seq in enumerate(SEQS))


def test_shareable_caps_what_nodes_cover():
    """Scoring needs the logits of a continuation's positions, so those stay in the tail."""
    seqs = [SHOT[0] + SHOT[1] + [9], SHOT[0] + SHOT[1] + [8]]
    plan = PrefixPlan(seqs, [20, 40], min_shared=4)  # the first scores the whole of shot 1
    assert [(n.start, len(n.tokens), n.users) for n in plan.nodes] == [(0, 20, 2)]
    assert [plan.tail(i) for i in range(2)] == [SHOT[1] + [9], SHOT[1] + [8]]
    assert all(runs(plan, i) == seq for i, seq in enumerate(seqs))
    uncapped = PrefixPlan(seqs, [40, 40], min_shared=4)
    assert [len(uncapped.tail(i)) for i in range(2)] == [1, 1]


def test_duplicates_empty_and_single_sequences():
    same = [SHOT[0] + [1]] * 3
    plan = PrefixPlan(same, [20] * 3, min_shared=4)
    assert len(plan.nodes) == 1 and plan.nodes[0].users == 3
    assert all(plan.tail(i) == [1] for i in range(3))
    assert PrefixPlan([], [], 4).order == []
    one = PrefixPlan([[1, 2, 3]], [2], 1)
    assert one.nodes == [] and one.tail(0) == [1, 2, 3]
