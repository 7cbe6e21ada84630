"""A plain wheel install runs every stage from outside the checkout: the wheel holds the four
packages, the Hydra configs and the sample data, and finds them without the source tree.

The wheel is built from this checkout and installed with ``--no-deps`` into a fresh virtual
environment in a temporary folder; that environment reads its dependencies (torch,
transformers, ...) from the test's own environment through a ``.pth`` line, so the test needs
no network, and nothing of the checkout is importable there (no ``PYTHONPATH``, another working
directory, and the checkout's own editable-install hook is not on that path).
"""

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests import PROJECT_ROOT


def run(argv, *, cwd, env, timeout=600):
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{argv}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory, cache_dir):
    """(the fresh environment's bin folder, a working directory outside the checkout, env)."""
    root = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["LESSMORE_CACHE"] = str(cache_dir)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(root / "dist"), str(PROJECT_ROOT)], cwd=root, env=env)
    wheel = next((root / "dist").glob("lessmore-*.whl"))
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=root, env=env)
    purelib = Path(run([str(venv / "bin" / "python"), "-c",
                        "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       cwd=root, env=env).stdout.strip())
    (purelib / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         str(wheel)], cwd=root, env=env)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return venv / "bin", elsewhere, env, wheel


def test_the_wheel_holds_the_configs_and_the_sample_data(installed):
    *_, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_conf = {f"lessmore/conf/{p.relative_to(PROJECT_ROOT / 'conf')}"
                    for p in (PROJECT_ROOT / "conf").rglob("*.yaml")}
    assert shipped_conf <= names
    assert {"lessmore/data/qa/facts.jsonl", "lessmore/data/chats/chats.jsonl",
            "lessmore/cli.py", "curation/core/engine/engine.py",
            "evaluation/report/__main__.py"} <= names
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


def test_installed_packages_come_from_the_wheel(installed):
    bin_dir, elsewhere, env, _ = installed
    out = run([str(bin_dir / "python"), "-c",
               "import curation, lessmore, training, evaluation\n"
               "from curation.core.config import CONF_DIR\n"
               "print(curation.__file__, lessmore.__file__, CONF_DIR)"],
              cwd=elsewhere, env=env).stdout.split()
    venv = bin_dir.parent.resolve()
    assert all(Path(p).resolve().is_relative_to(venv) for p in out), out
    assert not any(Path(p).resolve().is_relative_to(PROJECT_ROOT) for p in out), out


def test_curate_runs_from_the_wheel(installed, tmp_path):
    bin_dir, elsewhere, env, _ = installed
    facts = tmp_path / "qa.jsonl"
    facts.write_text("".join(json.dumps({"question": f"What is {i} plus {i}?",
                                         "answers": [str(2 * i)], "group": "sums"}) + "\n"
                             for i in range(12)))
    out = tmp_path / "curated"
    run([str(bin_dir / "lessmore"), "curate", f"input={facts}", f"out={out}", "model=tiny",
         "budget=5", "show_progress=false"], cwd=elsewhere, env=env)
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    assert counts["kept"] == 5 and counts["rows_in"] == 12


def test_the_whole_pipeline_runs_from_the_wheel_on_its_own_sample_data(installed, tmp_path):
    bin_dir, elsewhere, env, _ = installed
    out = tmp_path / "demo"
    proc = run([str(bin_dir / "lessmore"), "pipeline", f"out={out}", "model=tiny", "budget=20",
                "train=['trainer=smoke']", "evaluate=['limit=4']"], cwd=elsewhere, env=env)
    assert f"report written to {(out / 'report' / 'report.html').resolve()}" in proc.stdout
    inputs = json.loads((out / "curated" / "manifest.json").read_text())["inputs"]
    venv = bin_dir.parent.resolve()
    assert inputs and all(Path(p).resolve().is_relative_to(venv) for p in inputs), inputs
    for rel in ("run/manifest.json", "results/tuned/results.json", "results/base/results.json",
                "results/weights/weights.json", "report/report.md"):
        assert (out / rel).is_file(), rel
