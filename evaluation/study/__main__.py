"""``python -m evaluation.study out=STUDY_DIR`` (run by ``lessmore study`` after its arms)."""

from curation.core.config import stage_main

from . import config  # noqa: F401  (registers the schema)
from .run import run

main = stage_main("study_report")(run)

if __name__ == "__main__":
    main()
