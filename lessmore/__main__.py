"""``python -m lessmore COMMAND ...`` (same as the ``lessmore`` command)."""

from .cli import main

if __name__ == "__main__":
    main()
