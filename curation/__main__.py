"""``python -m curation input=PATH_OR_HUB_NAME out=DIR`` (same as ``lessmore curate``)."""

from . import config  # noqa: F401  (registers the schema)
from .core.config import stage_main
from .run import run

main = stage_main("curate")(run)

if __name__ == "__main__":
    main()
