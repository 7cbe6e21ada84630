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


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("block", [3, 64, 2048])
def test_semdedup_equals_naive_reference(seed, block):
    emb = make_embeddings(300, seed=seed, dup_share=0.5, noise=0.2)
    rng = np.random.default_rng(seed)
    priority, labels = rng.integers(0, 5, 300).astype(float), rng.integers(0, 3, 300)
    keep, dup = semdedup(emb, priority, eps=0.2, labels=labels, block=block)
    want_keep, want_dup = np.zeros(300, bool), np.full(300, -1)
    for c in range(3):
        members = np.flatnonzero(labels == c)
        walk = members[np.lexsort((members, -priority[members]))]  # ties: lower index first
        kept, d = naive_greedy(emb, walk, 0.8, 10**9)
        want_keep[kept] = True
        want_dup[members] = d[members]
    np.testing.assert_array_equal(keep, want_keep)
    np.testing.assert_array_equal(dup, want_dup)


def test_semdedup_compares_against_kept_rows_only():
    # b is close to a, c is close to b but not to a: b is dropped, so c must be kept
    a = np.array([1.0, 0.0])
    b = np.array([np.cos(0.3), np.sin(0.3)])
    c = np.array([np.cos(0.6), np.sin(0.6)])
    emb = np.stack([a, b, c]).astype(np.float32)
    keep, dup = semdedup(emb, [3, 2, 1], eps=1 - np.cos(0.45))
    assert keep.tolist() == [True, False, True] and dup.tolist() == [-1, 0, -1]


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
