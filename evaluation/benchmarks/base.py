"""Benchmarks declared as data: a ``conf/suite/*.yaml`` names each benchmark's class
(``_target_``) and its definition (data, splits, prompt format, stops, decoding), and every score
is recorded with that definition.

A benchmark is a small dataclass whose fields are its definition; it gets the shared
:class:`~curation.core.engine.GenerationEngine` (or anything with the same ``generate`` /
``loglikelihood`` methods and a ``tokenizer``) and returns a
:class:`~evaluation.results.BenchmarkResult`.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from curation.core.config import UserError

from ..results import BenchmarkResult
from .panels import MetricSpec


class Benchmark(abc.ABC):
    """Base class: subclasses are dataclasses whose fields define the benchmark; every one has
    ``name`` (the metric-key prefix) and ``limit`` (first n items, None for all).

    ``metrics`` declares the report's panel of each metric the class writes (metric name, a glob
    pattern -> :class:`~evaluation.benchmarks.panels.MetricSpec`), in the order the panels list
    them; a subclass inherits its parent's. A metric matching none is reported as another metric
    with its point delta only."""

    metrics: ClassVar[dict[str, MetricSpec]] = {}
    name: str
    limit: int | None

    @abc.abstractmethod
    def load_data(self) -> Any:
        """Read and check the benchmark's data (no model needed), so a bad path fails before
        any model is loaded and the data is read once for every model evaluated."""

    @abc.abstractmethod
    def evaluate(self, engine: Any, data: Any = None) -> BenchmarkResult:
        """Run the benchmark with one model's engine, on ``data`` from :meth:`load_data`
        (loaded here when not given)."""

    def settings(self) -> dict[str, Any]:
        """The definition recorded with every score: all fields but the benchmark's name."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "name"}


def build_benchmarks(benchmarks: Mapping[str, Any], *, limit: int | None = None
                     ) -> list[Benchmark]:
    """Instantiate the suite's benchmarks, checking each entry against its class's fields
    (an unknown key or a wrong type fails here, before any model is loaded)."""
    from hydra.utils import get_class
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    built = []
    for key, entry in benchmarks.items():
        spec = dict(OmegaConf.to_container(OmegaConf.create(entry), resolve=True))
        target = spec.pop("_target_", None)
        try:
            cls = get_class(target) if target else None
        except Exception as e:  # hydra raises ImportError or ValueError depending on the cause
            raise UserError(f"suite benchmark {key!r}: cannot import {target!r} ({e})") from None
        if not (isinstance(cls, type) and issubclass(cls, Benchmark)):
            raise UserError(f"suite benchmark {key!r}: _target_ must name a Benchmark class, "
                            f"got {target!r}")
        try:
            typed = OmegaConf.merge(OmegaConf.structured(cls), spec)
            benchmark = OmegaConf.to_object(typed)  # nested dataclasses (filters) built too
        except OmegaConfBaseException as e:
            where = f".{e.full_key}" if getattr(e, "full_key", None) else ""
            raise UserError(f"suite benchmark {key}{where}: {str(e).splitlines()[0]}") from None
        if limit is not None:
            benchmark = dataclasses.replace(benchmark, limit=limit)
        built.append(benchmark)
    names = [b.name for b in built]
    if len(set(names)) != len(names):
        raise UserError(f"suite has duplicate benchmark names: {names}")
    return built
