"""The typed results schema (DESIGN §5): one ``results.json`` per (model, suite).

Everything a report needs is in the file: who was evaluated (and against which base), on which
data (fingerprints), with which prompt settings, and each metric with its n and direction. It
holds no timestamps, so the same evaluation writes the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from curation.core.config import UserError

SCHEMA_VERSION = 1
ROLES = ("base", "tuned", "model")


@dataclass(frozen=True)
class ModelInfo:
    """The evaluated model; ``base`` names the model a tuned one was trained from."""

    name: str
    path: str
    role: str  # base | tuned | model
    base: dict[str, str] | None = None  # {name, path} for role "tuned"


@dataclass
class GroupScore:
    value: float
    n: int


@dataclass
class Metric:
    """One score: the mean over n items, which direction is better, and the per-group split."""

    value: float
    n: int
    higher_is_better: bool = True
    by_group: dict[str, GroupScore] = field(default_factory=dict)


@dataclass
class BenchmarkResult:
    """What one benchmark returns: metrics keyed ``benchmark/metric``, settings and samples."""

    name: str
    metrics: dict[str, Metric]
    settings: dict[str, Any]
    data_fingerprint: str
    samples: list[dict[str, Any]]


@dataclass
class Results:
    """The content of ``results.json``."""

    model: ModelInfo
    suite: str
    metrics: dict[str, Metric]
    settings: dict[str, dict[str, Any]]  # per benchmark: prompt format, stops, decoding, …
    data_fingerprint: dict[str, str]  # per benchmark
    config: dict[str, Any]
    versions: dict[str, str]
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Results:
        metrics = {key: Metric(m["value"], m["n"], m["higher_is_better"],
                               {g: GroupScore(**s) for g, s in m.get("by_group", {}).items()})
                   for key, m in data["metrics"].items()}
        return cls(model=ModelInfo(**data["model"]), suite=data["suite"], metrics=metrics,
                   settings=data["settings"], data_fingerprint=data["data_fingerprint"],
                   config=data["config"], versions=data["versions"],
                   schema_version=data["schema_version"])


def build_metric(rows: list[dict[str, Any]], *, higher_is_better: bool = True) -> Metric:
    """The mean ``score`` of sample rows, overall and per ``group`` (groups sorted by name;
    rows whose group is None or absent count overall only)."""
    groups: dict[str, list[float]] = {}
    for row in rows:
        if row.get("group") is not None:
            groups.setdefault(str(row["group"]), []).append(row["score"])
    by_group = {g: GroupScore(_mean(s), len(s)) for g, s in sorted(groups.items())}
    return Metric(_mean([row["score"] for row in rows]), len(rows), higher_is_better, by_group)


def load_results(path: str | Path) -> Results:
    """Read and check one ``results.json``; a malformed file is a one-line user error."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"schema_version {data.get('schema_version')!r}, "
                             f"expected {SCHEMA_VERSION}")
        results = Results.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UserError(f"{path}: not a lessmore results file ({e})") from None
    if results.model.role not in ROLES:
        raise UserError(f"{path}: unknown model role {results.model.role!r}")
    return results


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
