"""``python -m evaluation.weights run=RUN out=DIR`` (same as ``lessmore weights``)."""

from curation.core.config import stage_main

from . import config  # noqa: F401  (registers the schema)
from .run import run

main = stage_main("weights")(run)

if __name__ == "__main__":
    main()
