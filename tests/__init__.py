"""lessmore's tests. They mirror the packages (``tests/curation/core/`` is the shared core's) and
are packages themselves, so two test modules may share a basename."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout: conf/, data/, the packages
