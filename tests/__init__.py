"""lessmore's tests. They mirror the packages (``tests/curation/core/`` is the shared core's) and
are packages themselves, so two test modules may share a basename."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout: conf/, data/, the packages


def load_script(path: Path):
    """A standalone script (a benchmark, a sample-data generator) imported as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
