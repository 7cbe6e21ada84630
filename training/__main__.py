"""``python -m training data=CURATED_DIR out=RUN_DIR [method=full] [model=tiny trainer=smoke]``;
``launcher=accelerate`` runs it on several processes, ``-m`` sweeps (see ``launch.py``)."""

from curation.core.config import stage_main

from . import config  # noqa: F401  (registers the train schema before Hydra composes)
from .launch import launch_or_run

main = stage_main("train")(launch_or_run)

if __name__ == "__main__":
    main()
