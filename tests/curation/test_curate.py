"""`lessmore curate` end to end on the tiny model: accounting, outputs, determinism."""

import json

import pytest

from curation import config as _schema  # noqa: F401  (registers the schema)
from curation.core.config import UserError, compose_config
from curation.core.io import read_jsonl
from curation.run import run
from tests import PROJECT_ROOT

CHAT = [{"role": "user", "content": "What is tea?"},
        {"role": "assistant", "content": "A drink made from leaves."}]


def make_pool(path):
    rows = [{"id": f"q{i}", "question": f"What is the capital of land {i}?",
             "answers": [f"City {i}"], "group": "capital" if i % 2 else "river",
             "split": "heldout" if i % 5 == 0 else "pool"} for i in range(20)]
    rows += [{"id": "c1", "messages": CHAT}, {"id": "c2", "messages": CHAT},  # exact duplicate
             {"id": "c3", "messages": [{"role": "user", "content": "Long?"},
                                       {"role": "assistant",
                                        "content": " ".join(f"w{i}" for i in range(400))}]}]
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
        f.write('{"messages": [\n')  # malformed
        f.write(json.dumps({"id": "c4", "messages": []}) + "\n")  # empty conversation
    return path


def curate(tmp_path, name, **overrides):
    pool = tmp_path / "pool.jsonl"
    if not pool.exists():
        make_pool(pool)
    args = [f"input={pool}", f"out={tmp_path / name}", "model=tiny", "budget=8",
            "max_length=200", "show_progress=false",
            *[f"{k}={v}" for k, v in overrides.items()]]
    return run(compose_config("curate", args)), tmp_path / name


@pytest.fixture(scope="module")
def curated(tmp_path_factory, cache_dir):
    tmp = tmp_path_factory.mktemp("curate")
    return curate(tmp, "out", splits="[pool]")


def test_every_row_is_kept_filtered_or_rejected(curated):
    manifest, out = curated
    c = manifest["counts"]
    assert c["rows_in"] == 25 == c["kept"] + c["filtered"] + c["rejected"]
    assert c["rejected"] == 2 and c["kept"] == 8
    filtered = read_jsonl(out / "filtered.jsonl")
    rejected = read_jsonl(out / "rejected.jsonl")
    assert len(filtered) == c["filtered"] and len(rejected) == c["rejected"]
    steps = {f["step"] for f in filtered}
    assert {"split", "exact_dedup", "length", "select"} <= steps
    assert all(f["reason"] for f in filtered)
    long = next(f for f in filtered if f["step"] == "length")  # over_length=drop, the default
    assert long["id"] == "c3" and long["reason"].startswith("over_length: ")
    dup = next(f for f in filtered if f["step"] == "exact_dedup")
    assert dup["id"] == "c2" and "c1" in dup["reason"]
    assert {r["line"] for r in rejected} == {24, 25} and all(r["file"] for r in rejected)
    assert manifest["filtered_by_step"]["split"] == 4  # ids 0, 5, 10, 15 are held out


def test_outputs_and_probe_columns(curated):
    manifest, out = curated
    import datasets

    ds = datasets.load_from_disk(str(out / "dataset"))
    assert len(ds) == 8 and ds["id"] == [r["id"] for r in read_jsonl(out / "train.jsonl")]
    for col in ("probe_category", "probe_p_greedy", "len_tokens", "sel_rank"):
        assert col in ds.column_names
    qa = [r for r in ds if r["answers"]]
    assert all(r["probe_category"] in {"HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown"}
               for r in qa)
    assert all(r["split"] != "heldout" for r in ds)
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "| 25 | 8 |" in card and "tiny" in card
    # the protocol beside every category, marked approximate (quick: 3 x 2, not SliCK's 10 x 16)
    assert "approximate: SliCK uses 10 x 16" in card
    assert all(f"| {cat} (quick, approximate) |" in card for cat in manifest["categories_probed"])
    probe_step = next(s for s in manifest["steps"] if s["name"] == "probe")
    assert probe_step["rows_by_kind"]["short_answer"] == 16 and "Rows by probe:" in card
    assert (out / "config.yaml").read_text().count("budget: 8") == 1
    assert sum(manifest["categories_probed"].values()) == 16  # 20 QA rows, 4 held out
    assert manifest["tokens"]["assistant"] > 0


def test_same_inputs_and_seed_give_identical_bytes(tmp_path, cache_dir):
    _, a = curate(tmp_path, "a")
    _, b = curate(tmp_path, "b")
    # cache/ holds resumable intermediate results, not outputs
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and "cache" not in p.parts)
    assert files and files == sorted(p.relative_to(b) for p in b.rglob("*")
                                     if p.is_file() and "cache" not in p.parts)
    for rel in files:
        same = (a / rel).read_bytes() == (b / rel).read_bytes()
        if rel.name in ("config.yaml", "manifest.json"):  # they name their own `out`
            same = (a / rel).read_text().replace(str(a), str(b)) == (b / rel).read_text()
        assert same, rel


def test_over_length_error_names_the_row(tmp_path, cache_dir):
    with pytest.raises(UserError, match=r"pool.jsonl:23: row 'c3' has \d+ tokens .*"
                                        r"set over_length=drop or truncate"):
        curate(tmp_path, "out", over_length="error")


def test_over_length_truncate_keeps_and_counts(tmp_path, cache_dir):
    manifest, _ = curate(tmp_path, "out", over_length="truncate", budget=100, select="random")
    assert manifest["tokens"]["truncated_rows"] == 1
    assert "length" not in manifest["filtered_by_step"]


def test_quality_filters_and_ifd_scoring_are_wired(tmp_path, cache_dir):
    manifest, out = curate(tmp_path, "scored", score="ifd", budget=100, select="random")
    steps = [s["name"] for s in manifest["steps"]]
    assert steps.index("exact_dedup") < steps.index("refusal") < steps.index("length")
    assert steps.index("probe") < steps.index("score") < steps.index("ifd") < steps.index("select")
    score = next(s for s in manifest["steps"] if s["name"] == "score")
    assert score["failures"] == {} and "truncated" in score
    rows = read_jsonl(out / "train.jsonl")
    chats = [r for r in rows if not r["answers"]]
    assert chats and all(r["score_ifd"] is not None and r["score_ifd"] < 1.0 for r in chats)
    assert all(r["score_ifd"] is None for r in rows if r["answers"])
    manifest, _ = curate(tmp_path, "unfiltered", filters="none", budget=100)
    assert "refusal" not in [s["name"] for s in manifest["steps"]]


def test_planted_near_duplicates_in_sample_chats_are_removed(tmp_path, cache_dir):
    """data/chats plants near-duplicates (listed in data/README.md): semantic dedup with MiniLM
    finds them and keeps one of each pair (by default SemDeDup's ``hard`` order: the one farther
    from its cluster's centroid; ``dedup.keep=index``: the original, which comes first)."""
    import re


    readme = (PROJECT_ROOT / "data/README.md").read_text()
    pairs = re.findall(r"^\| `(chat-\d+)` \| `(chat-\d+)` \| near_dup", readme, re.M)
    assert len(pairs) >= 15

    def curate_chats(name, *overrides):
        out = tmp_path / name
        manifest = run(compose_config("curate", [
            f"input={PROJECT_ROOT / 'data/chats/chats.jsonl'}", f"out={out}", "model=tiny",
            "probe=none", "filters=none", "budget=1000", "show_progress=false", *overrides]))
        # case- or whitespace-only copies already go at exact dedup
        dropped = {f["id"]: f for f in read_jsonl(out / "filtered.jsonl")
                   if f["step"] in ("semantic_dedup", "exact_dedup")}
        return manifest, out, dropped

    manifest, out, dropped = curate_chats("chats")
    for orig, dup in pairs:  # exactly one of each pair goes, naming the other
        assert (orig in dropped) != (dup in dropped), (orig, dup)
        gone, other = (orig, dup) if orig in dropped else (dup, orig)
        assert other in dropped[gone]["reason"]
    _, _, by_index = curate_chats("chats_index", "++dedup.keep=index")
    assert all(dup in by_index and orig not in by_index for orig, dup in pairs)
    assert manifest["counts"]["kept"] + manifest["counts"]["filtered"] + \
        manifest["counts"]["rejected"] == manifest["counts"]["rows_in"]
    assert (out / "plots/embedding_map.png").exists()
