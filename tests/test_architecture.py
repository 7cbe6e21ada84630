"""Imports run one way: curation.core <- curation <- training, evaluation; training and
evaluation never import each other, and core imports nothing else from lessmore."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("curation", "training", "evaluation")


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the lessmore modules a file imports (relative imports resolved)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names.add(mod)
            names |= {f"{mod}.{a.name}" for a in node.names}
    return {n for n in names if n.split(".")[0] in PACKAGES}


def allowed(src: str, target: str) -> bool:
    if src.startswith("curation.core"):
        return target.startswith("curation.core")
    if src.startswith("curation"):
        return target.startswith("curation")
    top = src.split(".")[0]
    return target.startswith(("curation", top))


FILES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_import_direction(path):
    src = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    bad = sorted(t for t in imported_modules(path) if not allowed(src, t))
    assert not bad, f"{src} imports {bad}"


def test_rule_catches_a_violation(tmp_path):
    assert not allowed("training.run", "evaluation.metrics")
    assert not allowed("curation.core.models", "curation.run")
    assert not allowed("curation.run", "training.run")
    assert allowed("evaluation.run", "curation.core.models")


def test_no_remote_code_or_pickle_weights_by_default():
    for path in FILES:
        text = path.read_text()
        assert "trust_remote_code=True" not in text, path
        assert "use_safetensors=False" not in text, path
