"""The ``lessmore`` command: one entry point over the stage apps.

Each stage runs as its own module (``python -m curation`` …), found by name, so this dispatcher
imports no stage code and the import direction between stages stays one way.
"""

from __future__ import annotations

import runpy
import sys

COMMANDS = {
    "curate": ("curation", "read, validate, dedup, probe and select an SFT set"),
    "train": ("training", "fine-tune with TRL (LoRA or full) on a curated set"),
    "evaluate": ("evaluation", "evaluate a model or a training run against its base"),
    "report": ("evaluation.report", "write report.html and report.md from results"),
    "weights": ("evaluation.weights", "intruder dimensions and dW rank of a run vs its base"),
    "pipeline": ("lessmore.pipeline", "curate -> train -> evaluate -> report on the default"),
    "study": ("lessmore.study", "reproduce a seed paper's finding: lessmore study NAME out=DIR"),
}

USAGE = "usage: lessmore {" + ",".join(COMMANDS) + "} [key=value ...]\n\n" + "\n".join(
    f"  {name:<9} {help_}" for name, (_, help_) in COMMANDS.items()) + (
    "\n\nEach command is a Hydra app: add --help for its options, --cfg job for its config.")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        sys.exit(0 if argv else 2)
    command = argv.pop(0)
    if command not in COMMANDS:
        print(f"lessmore: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
        sys.exit(2)
    if command == "study" and argv and "=" not in argv[0] and not argv[0].startswith("-"):
        argv[0] = f"study={argv[0]}"  # lessmore study NAME: the conf/study/NAME.yaml preset
    sys.argv = [f"lessmore {command}", *argv]
    runpy.run_module(COMMANDS[command][0], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
