"""``python -m training data=CURATED_DIR out=RUN_DIR [method=full] [model=tiny trainer=smoke]``."""

from curation.core.config import stage_main

from . import config  # noqa: F401  (registers the train schema before Hydra composes)
from .run import run

main = stage_main("train")(run)

if __name__ == "__main__":
    main()
