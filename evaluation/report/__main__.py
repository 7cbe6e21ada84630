"""``python -m evaluation.report results=[DIR,...] out=DIR`` (same as ``lessmore report``)."""

from curation.core.config import stage_main

from . import config  # noqa: F401  (registers the schema)
from .run import run

main = stage_main("report")(run)

if __name__ == "__main__":
    main()
