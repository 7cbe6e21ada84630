"""Offline by construction: the hub is switched off before transformers is imported, torch is
pinned to one thread per process, and models are tiny ones built locally once per session."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("LESSMORE_TEST_THREADS", "1")))

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """A private model cache for the session (tiny models are built into it)."""
    path = tmp_path_factory.mktemp("lessmore-cache")
    os.environ["LESSMORE_CACHE"] = str(path)
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(cache_dir) -> Path:
    from curation.core.tiny import build_tiny_model

    return build_tiny_model(cache_dir / "models" / "tiny")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is absent")
    return path


@pytest.fixture(scope="session")
def tiny_model_cfg(tiny_model_dir):
    from curation.core.models import ModelConfig

    return ModelConfig(name="tiny", path=str(tiny_model_dir), dtype="float32", device="cpu")


@pytest.fixture(scope="session")
def tiny_lm(tiny_model_cfg):
    from curation.core.models import load_model

    return load_model(tiny_model_cfg)


class Killed(RuntimeError):
    """What the ``counted`` engine raises after ``die_after`` calls: a run killed mid-way."""


@pytest.fixture
def counted(monkeypatch):
    """Count the prompts the real engine generates for; optionally die (:class:`Killed`,
    "killed mid-run") after ``die_after`` calls."""
    from curation.core.engine import GenerationEngine

    state = {"prompts": 0, "calls": 0, "die_after": None}
    original = GenerationEngine.generate

    def generate(self, prompts, settings, **kwargs):
        if state["die_after"] is not None and state["calls"] >= state["die_after"]:
            raise Killed("killed mid-run")
        state["calls"] += 1
        state["prompts"] += len(prompts)
        return original(self, prompts, settings, **kwargs)

    monkeypatch.setattr(GenerationEngine, "generate", generate)
    return state
