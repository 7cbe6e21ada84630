"""``python -m evaluation model.path=RUN_DIR out=DIR``: see ``conf/evaluate.yaml``."""

from curation.core.config import stage_main

from .run import run

if __name__ == "__main__":
    stage_main("evaluate")(run)()
