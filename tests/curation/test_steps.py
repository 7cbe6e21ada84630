"""The step roles and the runner's side of them: apply_step builds every drop record, selects,
adds ``sel_rank`` and checks each role's contract; the run's table of contents builds the steps a
config switches on."""

import pytest
from datasets import Dataset

from curation import config as _schema  # noqa: F401  (registers the schema)
from curation.core.config import compose_config
from curation.run import STEPS, apply_steps, build_steps
from curation.steps import Annotator, Filter, Selector, Step, apply_step


def make_ds(n=5):
    return Dataset.from_list([{"id": f"r{i}", "origin": f"f:{i + 1}", "answers": None,
                               "probe_category": "Unknown" if i == 3 else None,
                               "messages": [{"role": "user", "content": f"q{i}"},
                                            {"role": "assistant", "content": f"a{i}"}]}
                              for i in range(n)])


class Doubler(Annotator):
    name = "double"

    def annotate(self, ds):
        return ds.add_column("x_double", [2 * int(i[1:]) for i in ds["id"]])


class OddFilter(Filter):
    """Annotates, then drops the odd rows by the annotation."""

    name = "odd"

    def annotate(self, ds):
        return ds.add_column("x_odd", [int(i[1:]) % 2 == 1 for i in ds["id"]])

    def drops(self, ds):
        return {i: "odd" for i, odd in enumerate(ds["x_odd"]) if odd}


class LastFirst(Selector):
    name = "pick"

    def __init__(self, input_order=False, explain=True):
        self.input_order, self.explain = input_order, explain

    def select(self, ds):
        chosen = [len(ds) - 1, 0]
        return chosen, {i: "not picked" for i in range(1, len(ds) - 1)} if self.explain else {}


def test_an_annotator_keeps_every_row_in_order():
    ds, dropped = apply_step(Doubler(), make_ds())
    assert ds["id"] == [f"r{i}" for i in range(5)] and ds["x_double"] == [0, 2, 4, 6, 8]
    assert dropped == []


def test_a_filter_annotates_then_the_runner_drops_and_records_in_input_order():
    ds, dropped = apply_step(OddFilter(), make_ds())
    assert ds["id"] == ["r0", "r2", "r4"] and ds["x_odd"] == [False] * 3
    assert dropped == [{"id": "r1", "origin": "f:2", "step": "odd", "reason": "odd"},
                       {"id": "r3", "origin": "f:4", "step": "odd", "reason": "odd",
                        "probe_category": "Unknown"}]


def test_a_selector_is_written_in_rank_or_input_order_with_its_ranks():
    ds, dropped = apply_step(LastFirst(), make_ds())
    assert ds["id"] == ["r4", "r0"] and ds["sel_rank"] == [0, 1]
    assert [d["id"] for d in dropped] == ["r1", "r2", "r3"]
    assert {d["reason"] for d in dropped} == {"not picked"}
    ds, _ = apply_step(LastFirst(input_order=True), make_ds())
    assert ds["id"] == ["r0", "r4"] and ds["sel_rank"] == [1, 0]


def test_the_runner_refuses_a_broken_contract():
    class Shrinker(Annotator):
        name = "shrink"

        def annotate(self, ds):
            return ds.select([0])

    with pytest.raises(RuntimeError, match="shrink annotated 5 rows into 1"):
        apply_step(Shrinker(), make_ds())
    with pytest.raises(RuntimeError, match="gave no reason"):
        apply_step(LastFirst(explain=False), make_ds())
    with pytest.raises(TypeError, match="no Annotator, Filter or Selector"):
        apply_step(Step(), make_ds())


def test_apply_steps_counts_each_step_and_keeps_the_rows_selection_saw():
    ds, candidates, filtered, stats = apply_steps(make_ds(), [Doubler(), OddFilter(),
                                                              LastFirst()])
    assert ds["id"] == ["r4", "r0"] and candidates["id"] == ["r0", "r2", "r4"]
    assert [f["step"] for f in filtered] == ["odd", "odd", "pick"]
    assert stats == [{"name": "double", "rows_in": 5, "rows_out": 5, "filtered": 0},
                     {"name": "odd", "rows_in": 5, "rows_out": 3, "filtered": 2},
                     {"name": "pick", "rows_in": 3, "rows_out": 2, "filtered": 1}]


class NoModels:
    """A stage context for configs that need no model: asking for one fails the test."""

    def engine(self, *args):
        raise AssertionError("no engine expected")

    cache = embeddings = engine


def test_the_table_of_contents_builds_what_the_config_switches_on(cache_dir, tiny_model_dir):
    base = ["input=x", "out=o", "model=tiny", "probe=none", "dedup.semantic=false"]
    ds = make_ds()
    steps = build_steps(compose_config("curate", [*base, "filters=none"]), ds, NoModels())
    assert [s.name for s in steps] == ["exact_dedup", "length", "knowledge_policy", "select"]
    steps = build_steps(compose_config("curate", [*base, "splits=[pool]"]), ds, NoModels())
    assert [s.name for s in steps] == [
        "split", "exact_dedup", "empty_response", "length_bounds", "trivial_response", "refusal",
        "echo", "repetition", "garbage", "length", "knowledge_policy", "select"]
    assert all(issubclass(cls, Step) and "from_config" in vars(cls) for cls in STEPS)


def test_a_step_that_drops_every_row_leaves_a_table_later_steps_can_extend():
    """datasets cannot add a column to an empty selection of a table that had columns added:
    a filter that drops everything (e.g. no fact at the chosen memorisation level) must still
    let the selector add ``sel_rank``."""

    class DropAll(Filter):
        name = "drop_all"

        def decide(self, row):
            return "no"

    class TakeAll(Selector):
        name = "take_all"

        def select(self, ds):
            return list(range(len(ds))), {}

    ds = Dataset.from_list([{"id": "a", "origin": None}, {"id": "b", "origin": None}])
    ds = ds.select([1, 0]).add_column("extra", [1, 2])
    empty = apply_step(DropAll(), ds)
    assert len(empty.dataset) == 0 and len(empty.filtered) == 2
    picked = apply_step(TakeAll(), empty.dataset).dataset
    assert len(picked) == 0 and "sel_rank" in picked.column_names
