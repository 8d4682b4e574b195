"""Upload progress: totals where the data knows its size, and a callback's exception
stops the upload with nothing committed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import domo_datasets as dd
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo
from support import COMMIT_PATH, PART_PATH, write_csv

SCHEMA = {"x": "LONG"}
ROWS = 30000


def _rows(ds: dd.Dataset) -> int:
    table = ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow()
    n: int = table["n"][0].as_py()
    return n


def _collect(events: list[dict[str, Any]]) -> Any:
    return lambda event: events.append(dict(event))


@pytest.mark.parametrize(
    "make",
    [
        lambda: pa.table({"x": pa.array(range(ROWS), pa.int64())}),
        lambda: pa.record_batch({"x": pa.array(range(ROWS), pa.int64())}),
        lambda: pl.DataFrame({"x": list(range(ROWS))}),
        lambda: pd.DataFrame({"x": list(range(ROWS))}),
    ],
    ids=["pyarrow-table", "pyarrow-batch", "polars", "pandas"],
)
def test_in_memory_data_reports_its_total(domo_client: dd.Client, make: Any) -> None:
    ds = domo_client.create_dataset("totals", SCHEMA)
    events: list[dict[str, Any]] = []
    ds.upload(make(), part_size=65536, progress=_collect(events))
    assert len(events) >= 2
    assert all(e["rows_total"] == ROWS for e in events)
    assert events[-1]["done"] and events[-1]["rows_sent"] == ROWS


def test_streams_and_files_report_no_total(domo_client: dd.Client, tmp_path: Path) -> None:
    ds = domo_client.create_dataset("no totals", SCHEMA)

    def chunks() -> Iterator[pa.Table]:
        for start in (0, 10):
            yield pa.table({"x": pa.array(range(start, start + 10), pa.int64())})

    events: list[dict[str, Any]] = []
    ds.upload(chunks(), progress=_collect(events))
    path = tmp_path / "x.csv"
    write_csv(path, ["x"], [["1"], ["2"]])
    ds.upload(str(path), progress=_collect(events))
    assert events and all(e["rows_total"] is None for e in events)
    assert _rows(ds) == 22


class Stop(Exception):
    pass


def _stop_at_first_part(event: dd._domo.UploadProgress) -> None:
    raise Stop("enough")


def _assert_nothing_committed(ds: dd.Dataset, domo_emulator: LocalDomo, raised: Stop) -> None:
    assert str(raised) == "enough"
    assert any("nothing was committed" in note for note in raised.__notes__)
    assert domo_emulator.requests(PART_PATH, "PUT"), "the upload had started"
    assert domo_emulator.requests(COMMIT_PATH, "PUT") == []
    assert _rows(ds) == 0


def test_callback_exception_stops_upload_uncommitted(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("stopped", SCHEMA)
    domo_emulator.clear_requests()
    with pytest.raises(Stop) as caught:
        ds.upload(
            pa.table({"x": pa.array(range(ROWS), pa.int64())}),
            part_size=65536,
            progress=_stop_at_first_part,
        )
    _assert_nothing_committed(ds, domo_emulator, caught.value)


async def test_callback_exception_stops_upload_uncommitted_async(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("stopped async", SCHEMA)
    domo_emulator.clear_requests()
    with pytest.raises(Stop) as caught:
        await ds.upload_async(
            pa.table({"x": pa.array(range(ROWS), pa.int64())}),
            part_size=65536,
            progress=_stop_at_first_part,
        )
    _assert_nothing_committed(ds, domo_emulator, caught.value)


def test_exception_after_commit_is_unraisable_and_data_is_in(
    domo_client: dd.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = domo_client.create_dataset("late", SCHEMA)
    seen: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))

    def stop_when_done(event: dd._domo.UploadProgress) -> None:
        if event["done"]:
            raise Stop("too late")

    result = ds.upload(pa.table({"x": pa.array([1, 2, 3], pa.int64())}), progress=stop_when_done)
    assert result["rows"] == 3 and _rows(ds) == 3
    assert [str(e) for e in seen] == ["too late"]
