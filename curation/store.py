"""Input rows into a memory-mapped ``datasets.Dataset`` without holding them in memory.

The reader streams records (jsonl line by line, parquet/csv/saved/hub datasets through
``datasets``' arrow cache, or the hub's streaming mode); each record is appended to an arrow file
by ``datasets``' ``ArrowWriter`` in batches, and the dataset is opened memory-mapped from that
file. Peak memory is one write batch plus the reader's id index, whatever the input size; the
steps' ``map``/``filter`` results go to cache files beside it.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from datasets import Dataset, Features, List, Value
from datasets.arrow_writer import ArrowWriter

from .core.readers import ReadResult, read_records

# One schema for every format: QA fields are null on chat rows (and the other way round), so a
# mixed input and a single-format input give the same columns.
RECORD_FEATURES = Features({
    "id": Value("string"),
    "messages": List({"role": Value("string"), "content": Value("string")}),
    "source": Value("string"),
    "question": Value("string"),
    "answers": List(Value("string")),
    "group": Value("string"),
    "split": Value("string"),
    "origin": Value("string"),
})
WRITE_BATCH_ROWS = 10_000


class RecordStore:
    """A temporary folder holding the records' arrow file and the steps' cache files; remove it
    with ``close()`` once the outputs are written (a memory-mapped file outlives its unlink)."""

    def __init__(self, parent: str | Path | None = None) -> None:
        if parent is not None:
            Path(parent).mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="lessmore-records-",
                                          dir=None if parent is None else str(parent)))

    def read(self, source: str | list[str], input_format: str = "auto", *, split: str = "train",
             max_chars: int, streaming: bool = False) -> tuple[ReadResult, Dataset]:
        """Read ``source`` into the store: (the read's counts and rejections, the records)."""
        path = self.root / "records.arrow"
        ids = hashlib.sha256()
        carried: dict[str, list[Any]] = {}  # probe_* columns an input row brought (a curated set)
        count = 0
        with ArrowWriter(features=RECORD_FEATURES, path=str(path),
                         writer_batch_size=WRITE_BATCH_ROWS) as writer:
            def sink(record: dict[str, Any]) -> None:
                nonlocal count
                ids.update(record["id"].encode() + b"\n")
                writer.write({k: record.get(k) for k in RECORD_FEATURES})
                for key in record.keys() - RECORD_FEATURES.keys() - carried.keys():
                    carried[key] = [None] * count
                for key, values in carried.items():
                    values.append(record.get(key))
                count += 1

            read = read_records(source, input_format, split=split, max_chars=max_chars,
                                streaming=streaming, sink=sink)
            writer.finalize()
        ds = Dataset.from_file(str(path), in_memory=False)
        # a content-derived fingerprint (not one from the temp path) keeps saved bytes equal
        ds = Dataset(ds.data, fingerprint=ids.hexdigest()[:16])
        for key in sorted(carried):
            ds = ds.add_column(key, carried[key])
        return read, ds

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
