"""Selection algorithms on tiny synthetic embeddings: each equals a naive per-candidate
reference, respects its budget and threshold, and gives the same bytes twice."""

import numpy as np
import pytest

from curation.diversity import (
    assign_clusters,
    fit_spherical_kmeans,
    kcenter_greedy,
    score_first_select,
    semdedup,
)


def make_embeddings(n, d=16, seed=0, dup_share=0.3, noise=0.3):
    """Unit rows where ``dup_share`` of them are noisy copies of others (near-duplicates)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    m = int(n * dup_share)
    x[rng.integers(0, n, m)] = x[rng.integers(0, n, m)] + noise * rng.standard_normal((m, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def naive_greedy(emb, walk, threshold, budget):
    """The textbook loop: one comparison of each candidate against the kept list."""
    kept, dup = [], np.full(len(emb), -1)
    for i in walk:
        if len(kept) >= budget:
            break
        if kept:
            sims = emb[kept] @ emb[i]
            if sims.max() > threshold:
                dup[i] = kept[int(sims.argmax())]
                continue
        kept.append(int(i))
    return np.array(kept, dtype=np.int64), dup


def naive_kcenter(emb, k, first):
    chosen = [first]
    while len(chosen) < k:
        dist = (1 - emb @ emb[chosen].T).min(axis=1)
        dist[chosen] = -1
        chosen.append(int(dist.argmax()))
    return np.array(chosen)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("tau", [0.5, 0.8, 0.95])
@pytest.mark.parametrize("block", [1, 7, 1024])
def test_score_first_equals_naive_reference(seed, tau, block):
    emb = make_embeddings(300, seed=seed)
    scores = np.random.default_rng(seed).random(300)
    got = score_first_select(emb, scores, 40, tau=tau, block=block)
    want, _ = naive_greedy(emb, np.argsort(-scores, kind="stable"), tau, 40)
    np.testing.assert_array_equal(got, want)


def test_score_first_respects_budget_and_tau_and_is_deterministic():
    emb = make_embeddings(2000, seed=1, dup_share=0.6, noise=0.1)
    scores = np.random.default_rng(1).random(2000)
    got = score_first_select(emb, scores, 100, tau=0.7, block=64)
    assert len(got) == 100 and len(set(got.tolist())) == 100
    sims = emb[got] @ emb[got].T
    np.fill_diagonal(sims, -1)
    assert sims.max() <= 0.7
    assert got.tobytes() == score_first_select(emb, scores, 100, tau=0.7, block=64).tobytes()
    assert len(score_first_select(emb, scores, 10**6, tau=0.7)) < 2000  # duplicates refused


def test_score_first_ties_and_nan_scores():
    emb = np.eye(4, dtype=np.float32)
    assert score_first_select(emb, [1, 1, np.nan, 1], 4, tau=0.5).tolist() == [0, 1, 3, 2]


def naive_semdedup(emb, priority, labels, threshold, rule, key):
    """The paper's loop per cluster: sort by (priority desc, key, index); ``original`` compares
    with every earlier row (``triu(S, 1).max(0)``), ``kept_only`` with earlier kept rows."""
    keep, dup = np.zeros(len(emb), bool), np.full(len(emb), -1)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        walk = members[np.lexsort((members, key[members], -priority[members]))]
        if rule == "kept_only":
            kept, d = naive_greedy(emb, walk, threshold, 10**9)
            keep[kept] = True
            dup[members] = d[members]
            continue
        sims = emb[walk] @ emb[walk].T
        for j in range(1, len(walk)):
            earlier = sims[:j, j]
            if earlier.max() > threshold:
                dup[walk[j]] = walk[int(earlier.argmax())]
        keep[walk] = dup[walk] == -1
    return keep, dup


def centroid_cos(emb, labels):
    cos = np.empty(len(emb))
    for c in np.unique(labels):
        m = labels == c
        centre = emb[m].astype(np.float64).sum(axis=0)
        cos[m] = emb[m].astype(np.float64) @ (centre / np.linalg.norm(centre))
    return cos


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("block", [3, 64, 2048])
@pytest.mark.parametrize("rule", ["original", "kept_only"])
@pytest.mark.parametrize("keep", ["index", "hard", "easy"])
def test_semdedup_equals_naive_reference(seed, block, rule, keep):
    emb = make_embeddings(300, seed=seed, dup_share=0.5, noise=0.2)
    rng = np.random.default_rng(seed)
    priority, labels = rng.integers(0, 5, 300).astype(float), rng.integers(0, 3, 300)
    got = semdedup(emb, priority, eps=0.2, labels=labels, block=block, rule=rule, keep=keep)
    cos = centroid_cos(emb, labels)
    key = {"index": np.zeros(300), "hard": cos, "easy": -cos}[keep]
    want = naive_semdedup(emb, priority, labels, 0.8, rule, key)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def chain():
    """a~b (cos 0.955), b~c (0.955), a≁c (0.825) at 1 - eps = 0.9; a is farthest from the
    centroid of the three, b nearest."""
    angles = np.array([0.0, 0.3, 0.6])
    return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)


def test_chain_differs_between_rules():
    emb, eps = chain(), 1 - np.cos(0.45)
    keep, dup = semdedup(emb, [3, 2, 1], eps=eps, rule="kept_only")
    # b is dropped, so c is compared with a only and kept
    assert keep.tolist() == [True, False, True] and dup.tolist() == [-1, 0, -1]
    keep, dup = semdedup(emb, [3, 2, 1], eps=eps, rule="original")
    # the paper's rule: c is closer than 1 - eps to b, an earlier row, though b was dropped
    assert keep.tolist() == [True, False, False] and dup.tolist() == [-1, 0, 1]
    assert semdedup(emb, [3, 2, 1], eps=eps)[0].tolist() == [True, False, False]  # the default


def test_keep_orders_choose_the_kept_row():
    emb, eps = chain(), 1 - np.cos(0.45)
    # hard: the rows farthest from the centroid (a and c) come first and are both kept; b,
    # nearest the centroid, is last and dropped, under either rule
    for rule in ("original", "kept_only"):
        keep, dup = semdedup(emb, eps=eps, keep="hard", rule=rule)
        assert keep.tolist() == [True, False, True] and dup[1] in (0, 2)
    # easy: b, nearest the centroid, first; a and c each lose to b
    keep, dup = semdedup(emb, eps=eps, keep="easy")
    assert keep.tolist() == [False, True, False] and dup.tolist() == [1, -1, 1]
    assert semdedup(emb, eps=eps, keep="easy", rule="kept_only")[0].tolist() == [False, True,
                                                                                   False]
    # index: input order; reversed (c, b, a) the original rule keeps c alone
    assert semdedup(emb[::-1].copy(), eps=eps, keep="index")[0].tolist() == [True, False, False]
    # a priority column comes before the keep order: b first, and a and c lose to it
    assert semdedup(emb, [0, 1, 0], eps=eps, keep="hard")[0].tolist() == [False, True, False]
    with pytest.raises(ValueError, match="keep"):
        semdedup(emb, eps=eps, keep="farthest")
    with pytest.raises(ValueError, match="rule"):
        semdedup(emb, eps=eps, rule="any")


def test_semdedup_random_keep_is_seeded_and_deterministic():
    emb = make_embeddings(400, seed=7, dup_share=0.6, noise=0.1)
    labels = np.random.default_rng(7).integers(0, 4, 400)
    runs = {seed: semdedup(emb, eps=0.1, labels=labels, keep="random", seed=seed)
            for seed in (0, 1)}
    again = semdedup(emb, eps=0.1, labels=labels, keep="random", seed=0)
    assert runs[0][0].tobytes() == again[0].tobytes() and runs[0][1].tobytes() == again[1].tobytes()
    assert not np.array_equal(runs[0][0], runs[1][0])  # another seed keeps other copies
    assert runs[0][0].sum() < 400


def test_original_rule_drops_a_superset_of_kept_only():
    # 60 random walks of 6 small steps: consecutive rows are near-duplicates, the ends not
    rng = np.random.default_rng(3)
    walks = [rng.standard_normal(32)]
    for _ in range(359):
        step = walks[-1] / np.linalg.norm(walks[-1]) + 0.3 * rng.standard_normal(32) / np.sqrt(32)
        walks.append(step if len(walks) % 6 else rng.standard_normal(32))
    emb = np.stack([w / np.linalg.norm(w) for w in walks]).astype(np.float32)
    labels = rng.integers(0, 3, 360)
    for keep in ("hard", "easy", "index", "random"):
        original = semdedup(emb, eps=0.1, labels=labels, keep=keep)[0]
        kept_only = semdedup(emb, eps=0.1, labels=labels, keep=keep, rule="kept_only")[0]
        assert not (~kept_only & original).any()  # every kept_only drop is an original drop
        assert original.sum() < kept_only.sum()  # and chains make the original drop more


def test_semdedup_finds_planted_copies_and_keeps_best_scored(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.standard_normal((2500, 32)).astype(np.float32)
    copies_of = rng.choice(2500, 200, replace=False)
    copies = base[copies_of] + 0.02 * rng.standard_normal((200, 32)).astype(np.float32)
    x = np.concatenate([base, copies])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    mm = np.lib.format.open_memmap(tmp_path / "e.npy", mode="w+", dtype=np.float16, shape=x.shape)
    mm[:] = x
    priority = np.zeros(len(x))
    priority[2500:] = 1.0  # the copies score higher: they are kept, their originals dropped
    keep, dup = semdedup(np.load(tmp_path / "e.npy", mmap_mode="r"), priority, eps=0.05)
    assert keep[:2500].sum() == 2300 and keep[2500:].all()
    np.testing.assert_array_equal(dup[copies_of], 2500 + np.arange(200))
    again = semdedup(np.load(tmp_path / "e.npy", mmap_mode="r"), priority, eps=0.05)
    assert keep.tobytes() == again[0].tobytes() and dup.tobytes() == again[1].tobytes()


def test_spherical_kmeans_finds_separated_clusters_deterministically():
    rng = np.random.default_rng(3)
    centres = np.eye(8, dtype=np.float32)[:4]
    x = np.repeat(centres, 50, axis=0) + 0.05 * rng.standard_normal((200, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    c1 = fit_spherical_kmeans(x, 4, sample_size=150, seed=5)
    assert c1.tobytes() == fit_spherical_kmeans(x, 4, sample_size=150, seed=5).tobytes()
    labels = assign_clusters(x, c1, block=7)
    assert all(len(set(labels[i * 50:(i + 1) * 50].tolist())) == 1 for i in range(4))
    assert len(set(labels.tolist())) == 4
    np.testing.assert_allclose(np.linalg.norm(c1, axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("seed", range(5))
def test_kcenter_equals_naive_reference(seed):
    emb = make_embeddings(200, seed=seed)
    got = kcenter_greedy(emb, 20, seed=seed)
    np.testing.assert_array_equal(got, naive_kcenter(emb, 20, int(got[0])))
    assert got.tobytes() == kcenter_greedy(emb, 20, seed=seed).tobytes()


def test_kcenter_with_initial_and_pool_cap():
    emb = make_embeddings(500, seed=2)
    initial = [3, 7]
    got = kcenter_greedy(emb, 10, initial=initial)
    assert not set(got.tolist()) & set(initial) and len(got) == 10
    # the first pick is the row farthest from the initial set
    assert got[0] == int(np.argmin((emb @ emb[initial].T).max(axis=1)))
    capped = kcenter_greedy(emb, 10, seed=4, pool_cap=100)
    assert len(set(capped.tolist())) == 10
    assert capped.tobytes() == kcenter_greedy(emb, 10, seed=4, pool_cap=100).tobytes()
    assert len(kcenter_greedy(emb[:5], 10)) == 5
