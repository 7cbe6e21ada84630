"""The house rules of the layout, checked on every file (README, Layout):

- ``curation.core`` (the shared core) imports nothing else from lessmore;
- ``lessmore`` (the command and the pipeline, above the stages) imports only the shared core;
- ``curation`` imports only itself; ``training`` and ``evaluation`` import the shared core and
  themselves, never ``curation``'s stage code nor each other;
- no module imports itself back through others (no import circle, lazy imports included).
"""

import ast
from pathlib import Path

import pytest

from tests import PROJECT_ROOT

PACKAGES = ("lessmore", "curation", "training", "evaluation")
CORE = "curation.core"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path) -> set[str]:
    """Absolute names of the lessmore modules a file imports (relative imports resolved; a name
    imported from a package counts as that package and as ``package.name``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    package = parts[:-1]
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


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def allowed(src: str, target: str) -> bool:
    """Whether module ``src`` may import ``target`` (see the module docstring)."""
    if within(src, CORE):
        return within(target, CORE)
    top = src.split(".")[0]
    if top == "curation":
        return within(target, "curation")
    return within(target, CORE) or within(target, top)


def find_violations(root: Path) -> list[str]:
    """``src imports target`` for every import the rules forbid, over the packages in ``root``."""
    bad = []
    for path in sorted(p for pkg in PACKAGES if (root / pkg).is_dir()
                       for p in (root / pkg).rglob("*.py")):
        src = module_name(path, root)
        bad += [f"{src} imports {t}" for t in sorted(imported_modules(path, root))
                if not allowed(src, t)]
    return bad


def find_circles(root: Path) -> list[list[str]]:
    """Every import circle among the modules in ``root`` (each as the modules along it)."""
    files = {module_name(p, root): p for pkg in PACKAGES if (root / pkg).is_dir()
             for p in (root / pkg).rglob("*.py")}
    graph = {}
    for name, path in files.items():
        targets = {t for t in imported_modules(path, root) if t in files and t != name}
        # `from pkg import mod` is an edge to pkg.mod; `from pkg import name` one to pkg itself
        graph[name] = {t for t in targets if not any(u.startswith(t + ".") for u in targets)}
    circles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return circles


FILES = sorted(p for pkg in PACKAGES for p in (PROJECT_ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_import_direction(path):
    src = module_name(path, PROJECT_ROOT)
    bad = sorted(t for t in imported_modules(path, PROJECT_ROOT) if not allowed(src, t))
    assert not bad, f"{src} imports {bad}"


def test_no_import_circle():
    assert find_circles(PROJECT_ROOT) == []


def test_rule_catches_a_violation():
    assert not allowed("training.run", "evaluation.benchmarks.metrics")
    assert not allowed("training.run", "curation.filters")  # stage code, not the core
    assert not allowed("evaluation.run", "curation.core_extras")  # a name that only starts alike
    assert not allowed("curation.core.models", "curation.run")
    assert not allowed("curation.run", "training.run")
    assert not allowed("lessmore.pipeline", "evaluation.config")
    assert allowed("evaluation.run", "curation.core.models")
    assert allowed("lessmore.pipeline", "curation.core.config")


def _plant(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_planted_violation_and_circle_are_found(tmp_path):
    root = _plant(tmp_path, {
        "curation/__init__.py": "", "curation/core/__init__.py": "",
        "curation/core/a.py": "from . import b\n",
        "curation/core/b.py": "def f():\n    from .a import g\n",  # a lazy import closes it
        "curation/filters.py": "",
        "training/__init__.py": "", "training/run.py": "from curation.filters import x\n",
        "lessmore/__init__.py": "", "lessmore/pipeline.py": "import evaluation.config\n",
        "evaluation/__init__.py": "", "evaluation/config.py": "",
    })
    assert find_violations(root) == ["lessmore.pipeline imports evaluation.config",
                                     "training.run imports curation.filters",
                                     "training.run imports curation.filters.x"]
    assert find_circles(root) == [["curation.core.a", "curation.core.b", "curation.core.a"]]


def test_no_remote_code_or_pickle_weights_by_default():
    for path in FILES:
        text = path.read_text()
        assert "trust_remote_code=True" not in text, path
        assert "use_safetensors=False" not in text, path
