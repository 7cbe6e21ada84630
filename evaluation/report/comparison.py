"""Who is compared with whom: every ``results.json`` found (an :class:`Entry`), each tuned
result paired with its base (a :class:`Comparison`), and the comparisons grouped by run.

A tuned result is paired with the base result its ``model.base.path`` names (preferring the one
evaluated beside it, ``<eval>/base/``) for the same suite; one run evaluated with several suites
gives one comparison per suite, and the report's panels gather them.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.core.config import UserError
from curation.core.contract import RESULTS, SAMPLES
from curation.core.io import read_jsonl

from ..results import Results, load_results

log = logging.getLogger(__name__)


@dataclass
class Entry:
    """One ``results.json`` and the folder it lies in (its samples beside it)."""

    dir: Path
    results: Results
    _samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return f"{self.results.model.name} ({self.results.model.role})"

    def samples_path(self, benchmark: str) -> Path:
        return self.dir / SAMPLES / f"{benchmark}.jsonl"

    def read_samples(self, benchmark: str) -> list[dict[str, Any]]:
        """The benchmark's sample rows (read once), or [] when the file is missing or broken."""
        if benchmark not in self._samples:
            path = self.samples_path(benchmark)
            try:
                self._samples[benchmark] = read_jsonl(path) if path.is_file() else []
            except (OSError, ValueError) as e:
                log.warning("unreadable samples %s (%s)", path, e)
                self._samples[benchmark] = []
        return self._samples[benchmark]


@dataclass
class Comparison:
    subject: Entry  # a tuned model, or a model shown on its own
    base: Entry | None = None


@dataclass
class Run:
    """Every comparison of one tuned model (one per suite), under one display label."""

    label: str
    comparisons: list[Comparison]

    @property
    def model_path(self) -> str:
        return self.comparisons[0].subject.results.model.path


def collect_results(dirs: list[str]) -> list[Entry]:
    """Every ``results.json`` under the given folders (or the files themselves), in path order."""
    found: dict[Path, None] = {}
    for d in dirs:
        path = Path(d).expanduser()
        if not path.exists():
            raise UserError(f"results folder not found: {d}")
        files = [path] if path.is_file() else sorted(path.rglob(RESULTS))
        found.update((f.resolve(), None) for f in files)
    if not found:
        raise UserError(f"no {RESULTS} under {', '.join(dirs)}")
    return [Entry(f.parent, load_results(f)) for f in sorted(found)]


def pair_results(entries: list[Entry]) -> list[Comparison]:
    """Each tuned result with its base; results used as nobody's base are shown alone."""
    candidates = [e for e in entries if e.results.model.role in ("base", "model")]
    comparisons, used = [], set()
    for entry in entries:
        if entry.results.model.role == "tuned":
            base = find_base(entry, candidates)
            used.add(id(base))
            comparisons.append(Comparison(entry, base))
    comparisons += [Comparison(e) for e in candidates if id(e) not in used]
    return comparisons


def find_base(tuned: Entry, candidates: list[Entry]) -> Entry | None:
    want = tuned.results.model.base or {}
    matches = [c for c in candidates if c.results.suite == tuned.results.suite
               and c.results.model.path == want.get("path")]
    siblings = [c for c in matches if c.dir.parent == tuned.dir.parent]
    if not matches:
        log.warning("no base results for %s (base %s)", tuned.dir, want.get("path"))
    return (siblings or matches or [None])[0]


def group_runs(comparisons: list[Comparison]) -> list[Run]:
    """Paired comparisons grouped by tuned model path, in first-seen order. A run is labelled
    by its folder name, or by its last two path parts where two runs share a folder name; a
    run evaluated twice on the same metrics (say with and without the chat template) becomes
    one run per evaluation, labelled ``name @ evaluation folder``."""
    groups: dict[str, list[Comparison]] = {}
    for c in comparisons:
        if c.base is not None:
            groups.setdefault(c.subject.results.model.path, []).append(c)
    names = Counter(g[0].subject.results.model.name for g in groups.values())
    runs = []
    for path, group in groups.items():
        name = group[0].subject.results.model.name
        label = name if names[name] == 1 else "/".join(Path(path).parts[-2:])
        parts = split_overlapping(group)
        runs += [Run(label if len(parts) == 1 else f"{label} @ {part[0].subject.dir.parent.name}",
                     part) for part in parts]
    return runs


def split_overlapping(group: list[Comparison]) -> list[list[Comparison]]:
    """Comparisons gathered so that no two in one part report the same metric key."""
    parts: list[list[Comparison]] = []
    for c in group:
        keys = set(c.subject.results.metrics)
        part = next((p for p in parts if not any(keys & set(x.subject.results.metrics)
                                                 for x in p)), None)
        if part is None:
            parts.append([c])
        else:
            part.append(c)
    return parts
