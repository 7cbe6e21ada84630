"""Dedup, diversity and budgeted selection over sentence embeddings (DESIGN §3.4).

Every function takes L2-normalised rows (float32 or float16, possibly a read-only memory map of
1M × 384 rows), reads them in blocks upcast to float32, and never builds an N × N matrix. Work is
done with matrix products over blocks, not a Python loop over candidates; ties always go to the
lower index, and all randomness comes from ``seed``, so the same inputs give the same output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def fit_spherical_kmeans(emb: np.ndarray, k: int, *, sample_size: int = 100_000,
                         n_iter: int = 20, seed: int = 0, block: int = 65536) -> np.ndarray:
    """Spherical k-means (cosine) on a seeded sample of ``emb``: ``(k, d)`` unit centroids.

    Starts from ``k`` distinct sampled rows; a cluster that empties is re-seeded with the
    sampled rows farthest from their centroid. Stops early once no label changes.
    """
    n = len(emb)
    if n == 0:
        raise ValueError("cannot cluster an empty embedding matrix")
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=sample_size, replace=False)) if n > sample_size else None
    x = _rows(emb, sample if sample is not None else slice(None))
    k = max(1, min(int(k), len(x)))
    centroids = x[np.sort(rng.choice(len(x), size=k, replace=False))]
    labels = None
    for _ in range(n_iter):
        new_labels, best = _nearest(x, centroids, block)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centroids = _mean_directions(x, labels, centroids, best)
    return centroids


def assign_clusters(emb: np.ndarray, centroids: np.ndarray, block: int = 65536) -> np.ndarray:
    """The nearest centroid (highest cosine) of every row, computed ``block`` rows at a time."""
    return _nearest(emb, np.asarray(centroids, dtype=np.float32), block)[0]


SEMDEDUP_RULES = ("original", "kept_only")
KEEP_ORDERS = ("hard", "easy", "random", "index")


def semdedup(emb: np.ndarray, priority: Sequence[float] | np.ndarray | None = None, *,
             eps: float, k: int | None = None, seed: int = 0, block: int = 2048,
             labels: np.ndarray | None = None, rule: str = "original",
             keep: str = "hard") -> tuple[np.ndarray, np.ndarray]:
    """SemDeDup (Abbas et al., 2023): ``(keep_mask, duplicate_of)``.

    Rows are clustered (spherical k-means, ``k`` ≈ N/1000 by default, or the given ``labels``)
    and each cluster is put in keep order: descending ``priority`` when given (NaN last), then
    by ``keep``, then lower index first. ``keep`` is the reference code's ``which_to_keep``:

    - ``hard`` (its default): farthest from the cluster centroid first, so the least typical
      row of a group of duplicates is the one kept;
    - ``easy``: nearest to the centroid first; ``random``: a permutation seeded by ``seed``;
    - ``index``: input order (the earlier row is kept).

    The centroid is the normalised mean of the cluster's rows (the spherical k-means centroid of
    the final assignment). ``rule`` decides which earlier rows count:

    - ``original`` (the paper's and facebookresearch/SemDeDup's): a row is dropped when its
      cosine to ANY earlier row of its cluster exceeds ``1 - eps`` (``M = triu(S, 1).max(0)``,
      drop where ``M > 1 - eps``), whether that row was kept or not. A chain a~b, b~c with
      a≁c loses b and c.
    - ``kept_only``: a row is dropped when its cosine to an earlier *kept* row exceeds
      ``1 - eps`` (the greedy walk; in the chain above only b goes).

    ``duplicate_of[i]`` is the most similar earlier row that counted (the first in keep order
    on ties), or -1 for kept rows. Deterministic: the same inputs and ``seed`` give the same bytes.
    """
    if rule not in SEMDEDUP_RULES:
        raise ValueError(f"semdedup rule must be one of {SEMDEDUP_RULES}, not {rule!r}")
    if keep not in KEEP_ORDERS:
        raise ValueError(f"semdedup keep must be one of {KEEP_ORDERS}, not {keep!r}")
    n = len(emb)
    priority = np.zeros(n) if priority is None else np.asarray(priority, dtype=np.float64)
    if priority.shape != (n,):
        raise ValueError(f"priority has shape {priority.shape}, expected ({n},)")
    kept = np.zeros(n, dtype=bool)
    duplicate_of = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return kept, duplicate_of
    if labels is None:
        k = k if k is not None else default_num_clusters(n)
        labels = assign_clusters(emb, fit_spherical_kmeans(emb, k, seed=seed))
    labels = np.asarray(labels)
    # NaN priorities sort last (lowest priority); -0.0 == 0.0 keeps ties by index
    order = np.lexsort((np.arange(n), _keep_key(emb, labels, keep, seed), -priority, labels))
    threshold = 1.0 - eps
    for walk in np.split(order, np.flatnonzero(np.diff(labels[order])) + 1):
        if rule == "kept_only":
            idx, dup = _greedy_walk(emb, walk, threshold, len(walk), block)
            kept[idx] = True
        else:
            best, dup = _max_to_earlier(emb, walk, block)
            kept[walk] = ~(best > threshold)
            dup[kept[walk]] = -1
        duplicate_of[walk] = dup
    return kept, duplicate_of


def _keep_key(emb: np.ndarray, labels: np.ndarray, keep: str, seed: int,
              block: int = 65536) -> np.ndarray:
    """The sort key (ascending) that puts each cluster in ``keep`` order (ties: lower index)."""
    n = len(emb)
    if keep == "index":
        return np.zeros(n)
    if keep == "random":
        return np.random.default_rng(seed).permutation(n).astype(np.float64)
    # cosine to the normalised mean of the row's cluster, in float64 so sums do not depend on
    # the block size; hard: lowest cosine (farthest) first, easy: highest first
    ids, dense = np.unique(labels, return_inverse=True)
    sums = np.zeros((len(ids), emb.shape[1]), dtype=np.float64)
    for lo in range(0, n, block):
        part = dense[lo:lo + block]
        by = np.argsort(part, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(part[by]) != 0])
        x = _rows(emb, slice(lo, lo + block)).astype(np.float64)[by]
        sums[part[by][starts]] += np.add.reduceat(x, starts, axis=0)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    centroids = sums / np.where(norms > 0, norms, 1.0)
    cos = np.empty(n, dtype=np.float64)
    for lo in range(0, n, block):
        x = _rows(emb, slice(lo, lo + block)).astype(np.float64)
        cos[lo:lo + block] = np.einsum("ij,ij->i", x, centroids[dense[lo:lo + block]])
    return cos if keep == "hard" else -cos


def _max_to_earlier(emb: np.ndarray, walk: np.ndarray, block: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """For each position of ``walk``: the highest cosine to an earlier row of the walk (-inf for
    the first) and that row (first in walk order on ties): the column maxima of the strictly
    upper triangle of the walk's similarity matrix, ``block`` × ``block`` products at a time."""
    m = len(walk)
    x = _rows_in_order(emb, walk)
    best = np.full(m, -np.inf, dtype=np.float32)
    at = np.full(m, -1, dtype=np.int64)
    for lo in range(0, m, block):
        cols = x[lo:lo + block]
        for plo in range(0, min(lo + block, m), block):
            sims = x[plo:plo + block] @ cols.T  # rows: earlier candidates, columns: this block
            if plo + block > lo:  # the diagonal block: only strictly earlier rows count
                rows = np.arange(plo, plo + len(sims))[:, None]
                sims[rows >= np.arange(lo, lo + len(cols))[None, :]] = -np.inf
            top = sims.argmax(axis=0)
            value = sims[top, np.arange(len(cols))]
            better = value > best[lo:lo + len(cols)]  # strict: an earlier block wins ties
            best[lo:lo + len(cols)][better] = value[better]
            at[lo:lo + len(cols)][better] = plo + top[better]
    return best, np.where(at >= 0, walk[np.maximum(at, 0)], -1)


def default_num_clusters(n: int) -> int:
    """SemDeDup's k ≈ N/1000, at least 1."""
    return max(1, round(n / 1000))


def score_first_select(emb: np.ndarray, scores: Sequence[float] | np.ndarray, budget: int, *,
                       tau: float, block: int = 1024) -> np.ndarray:
    """DEITA's score-first, diversity-aware selection: indices of at most ``budget`` rows.

    Walks rows by descending score (ties: lower index first; NaN last) and keeps a row only if
    its maximum cosine to the rows kept so far is ≤ ``tau``. Done ``block`` candidates at a time:
    one product of the block against the kept set, then a block × block product to settle
    conflicts inside the block in score order. Returned in selection order.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(emb),):
        raise ValueError(f"scores has shape {scores.shape}, expected ({len(emb)},)")
    walk = np.argsort(-scores, kind="stable")
    return _greedy_walk(emb, walk, tau, max(0, int(budget)), block)[0]


def kcenter_greedy(emb: np.ndarray, k: int, *, seed: int = 0,
                   initial: Sequence[int] | np.ndarray | None = None,
                   pool_cap: int | None = None, block: int = 65536) -> np.ndarray:
    """Farthest-point (k-center greedy) selection by cosine distance: ``k`` row indices.

    The pool is every row, or a seeded sample of ``pool_cap`` rows. Each step picks the pool
    row farthest from everything chosen so far (and from the rows in ``initial``, which are
    never returned), then updates a running max-cosine vector with one matrix-vector product.
    Without ``initial`` the first centre is a seeded random pool row.
    """
    n = len(emb)
    rng = np.random.default_rng(seed)
    pool = np.arange(n)
    if pool_cap is not None and n > pool_cap:
        pool = np.sort(rng.choice(n, size=pool_cap, replace=False))
    x = _rows(emb, pool if len(pool) < n else slice(None))
    # closeness to the chosen set; chosen and initial rows are set to +inf so never re-picked
    closest = np.full(len(pool), -np.inf, dtype=np.float32)
    if initial is not None and len(initial):
        initial = np.asarray(initial, dtype=np.int64)
        for start in range(0, len(initial), 4096):
            seen = _rows(emb, np.sort(initial[start:start + 4096]))
            for lo in range(0, len(x), block):
                np.maximum(closest[lo:lo + block], (x[lo:lo + block] @ seen.T).max(axis=1),
                           out=closest[lo:lo + block])
        closest[np.isin(pool, initial)] = np.inf
    k = min(int(k), int(np.sum(closest < np.inf)))
    chosen = np.empty(k, dtype=np.int64)
    if k == 0:
        return chosen
    pick = int(np.argmin(closest)) if initial is not None and len(initial) else \
        int(rng.integers(len(pool)))
    sims = np.empty(len(pool), dtype=np.float32)
    for step in range(k):
        chosen[step] = pick
        np.matmul(x, x[pick], out=sims)
        np.maximum(closest, sims, out=closest)
        closest[pick] = np.inf
        pick = int(np.argmin(closest))
    return pool[chosen]


def _rows(emb: np.ndarray, index: Any) -> np.ndarray:
    """Rows of a (possibly memory-mapped, float16) matrix as a float32 array in memory."""
    return np.asarray(emb[index], dtype=np.float32)


def _nearest(emb: np.ndarray, centroids: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """The best centroid of every row and its cosine, ``block`` rows at a time."""
    n = len(emb)
    labels = np.empty(n, dtype=np.int64)
    best = np.empty(n, dtype=np.float32)
    for lo in range(0, n, block):
        sims = _rows(emb, slice(lo, lo + block)) @ centroids.T
        labels[lo:lo + block] = sims.argmax(axis=1)
        best[lo:lo + block] = sims[np.arange(len(sims)), labels[lo:lo + block]]
    return labels, best


def _mean_directions(x: np.ndarray, labels: np.ndarray, old: np.ndarray,
                     best: np.ndarray) -> np.ndarray:
    """Normalised cluster means; empty clusters take the rows worst served by their centroid."""
    k = len(old)
    counts = np.bincount(labels, minlength=k)
    ends = np.cumsum(counts)
    grouped = x[np.argsort(labels, kind="stable")]
    # one contiguous sum per cluster (a loop over k clusters, 4× faster than np.add.reduceat)
    sums = np.stack([grouped[e - c:e].sum(axis=0) for c, e in zip(counts, ends, strict=True)])
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    centroids = old.copy()
    ok = norms[:, 0] > 0
    centroids[ok] = sums[ok] / norms[ok]
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        centroids[empty] = x[np.argsort(best, kind="stable")[:empty.size]]
    return centroids


def _greedy_walk(emb: np.ndarray, walk: np.ndarray, threshold: float, budget: int,
                 block: int) -> tuple[np.ndarray, np.ndarray]:
    """Walk rows ``walk`` in order, keeping a row iff its max cosine to the kept rows is
    ≤ ``threshold``, until ``budget`` rows are kept.

    Returns the kept row indices (in walk order) and, for every walked row, the most similar
    kept row it lost to (-1 if kept or not reached). One product per block against the kept
    set, one block × block product for conflicts inside the block.
    """
    cap = min(budget, len(walk))
    kept_vecs = np.empty((cap, emb.shape[1]), dtype=np.float32)
    kept_idx = np.empty(cap, dtype=np.int64)
    duplicate_of = np.full(len(walk), -1, dtype=np.int64)
    n_kept = 0
    for lo in range(0, len(walk), block):
        if n_kept >= cap:
            break
        idx = walk[lo:lo + block]
        x = _rows_in_order(emb, idx)
        best, best_at = _best_match(x, kept_vecs[:n_kept], kept_idx[:n_kept])
        inner = x @ x.T
        np.fill_diagonal(inner, -np.inf)
        here = _settle_block(inner, best <= threshold, threshold)[:cap - n_kept]
        reached = len(idx) if n_kept + here.size < cap else here[-1] + 1  # stop at the budget
        lost = np.flatnonzero(~np.isin(np.arange(reached), here))
        duplicate_of[lo + lost] = _lost_to(lost, here, inner, best, best_at, idx)
        kept_vecs[n_kept:n_kept + here.size] = x[here]
        kept_idx[n_kept:n_kept + here.size] = idx[here]
        n_kept += here.size
    return kept_idx[:n_kept], duplicate_of


def _best_match(x: np.ndarray, kept: np.ndarray, kept_idx: np.ndarray):
    """Each row's highest cosine to the kept rows, and which kept row (-inf, -1 if none)."""
    if not len(kept):
        return np.full(len(x), -np.inf, dtype=np.float32), np.full(len(x), -1, dtype=np.int64)
    sims = x @ kept.T
    at = sims.argmax(axis=1)
    return sims[np.arange(len(x)), at], kept_idx[at]


def _settle_block(inner: np.ndarray, alive: np.ndarray, threshold: float) -> np.ndarray:
    """Positions kept in one block: the alive rows, greedy in order over their conflicts."""
    # most rows conflict with no other row, so pairs are looked for only among those that do
    hot = np.flatnonzero(alive & (inner.max(axis=1) > threshold))
    first, second = np.nonzero(inner[np.ix_(hot, hot)] > threshold)
    upper = first < second
    return np.flatnonzero(_resolve_in_order(alive, hot[first[upper]], hot[second[upper]]))


def _lost_to(lost, here, inner, best, best_at, idx) -> np.ndarray:
    """For the rows ``lost`` of a block: the most similar kept row, from earlier blocks
    (``best``/``best_at``) or kept earlier in this block (``here``)."""
    if not lost.size or not here.size:
        return best_at[lost]
    sims = np.where(here[None, :] < lost[:, None], inner[np.ix_(lost, here)], -np.inf)
    at = sims.argmax(axis=1)
    closer = sims[np.arange(lost.size), at] > best[lost]
    return np.where(closer, idx[here[at]], best_at[lost])


def _rows_in_order(emb: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``emb[idx]`` as float32, read in ascending row order (sequential on a memory map)."""
    order = np.argsort(idx, kind="stable")
    out = np.empty((len(idx), emb.shape[1]), dtype=np.float32)
    out[order] = emb[idx[order]]
    return out


def _resolve_in_order(alive: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Exact greedy over conflicting pairs (``first[p] < second[p]``, both alive): which alive
    items are kept when walking in order and keeping an item iff no *kept* earlier item
    conflicts with it.

    Vectorised in rounds over the pair list: every undecided item with no undecided earlier
    partner is kept (its earlier partners are all dropped), then every undecided item paired
    with a newly kept earlier one is dropped. The first undecided item is always kept, so each
    round decides at least one item; rounds are few unless conflicts form long chains.
    """
    kept = alive.copy()  # items in no pair are decided: kept
    undecided = np.zeros(len(alive), dtype=bool)
    undecided[first] = undecided[second] = True
    kept[undecided] = False
    while first.size:
        blocked = np.zeros(len(alive), dtype=bool)
        blocked[second] = True
        free = undecided & ~blocked
        kept |= free
        undecided &= ~free
        undecided[second[free[first]]] = False  # dropped: a kept earlier partner
        still = undecided[first] & undecided[second]
        first, second = first[still], second[still]
        # items left with no pair at all (their partners were all dropped) are kept next round
    kept |= undecided
    return kept
