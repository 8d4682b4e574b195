"""The write path beyond plain uploads: schema checks, column matching, iterators of
batches, row appends and cancelled uploads."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import domo_datasets as dd
import polars as pl
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo
from support import (
    ALL_TYPES_DOMO,
    PART_PATH,
    UPLOAD_PATH,
    all_types_table,
    assert_tables_equal,
    sort_by_id,
    write_csv,
)

SMALL = {"id": "LONG", "name": "STRING", "at": "DATETIME"}


def _small(ids: range) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(list(ids), pa.int64()),
            "name": [f"n{i}" for i in ids],
            "at": pa.array(
                [dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i) for i in ids],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )


def _all(ds: dd.Dataset) -> pa.Table:
    return sort_by_id(ds.query("SELECT * FROM table").to_pyarrow())


def _data_requests(domo: LocalDomo) -> list[dict[str, Any]]:
    """Requests that start an upload or carry data (schema reads do not count)."""
    return domo.requests(UPLOAD_PATH) + domo.requests(PART_PATH)


def test_schema_mismatch_is_refused_before_any_data_is_sent(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("strict", SMALL)
    domo_emulator.clear_requests()
    wrong = pa.table({"name": ["a"], "id": [1.5], "extra": [True]})
    with pytest.raises(ValueError) as info:
        ds.upload(wrong)
    message = str(info.value)
    # Every difference at once: the order, and the type.
    assert 'column 0 is "name"' in message
    assert 'data column "name" (Utf8) cannot go into dataset column "id" (LONG)' in message
    assert 'data column "extra" (Boolean) cannot go into dataset column "at"' in message
    # The names differ, so matching by name would not help: no hint about it.
    assert "match_by_name" not in message
    assert _data_requests(domo_emulator) == []
    assert ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow()["n"][0].as_py() == 0


async def test_schema_mismatch_async_is_refused(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("strict", SMALL)
    domo_emulator.clear_requests()
    with pytest.raises(ValueError, match="is missing"):
        await ds.upload_async(pa.table({"id": [1], "name": ["x"]}), match_by_name=True)
    assert _data_requests(domo_emulator) == []


def test_match_by_name_reorders_columns(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("by name", SMALL)
    source = _small(range(5))
    shuffled = source.select(["at", "name", "id"])
    with pytest.raises(ValueError):
        ds.upload(shuffled)
    ds.upload(shuffled, match_by_name=True)
    assert_tables_equal(_all(ds), source)


def test_widening_types_are_accepted(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("widen", {"n": "DOUBLE", "s": "STRING", "d": "DATETIME"})
    ds.upload(
        pa.table(
            {
                "n": pa.array([1, 2], pa.int32()),
                "s": pa.array([7, 8], pa.int64()),
                "d": pa.array([dt.date(2024, 5, 6), None], pa.date32()),
            }
        )
    )
    got = sort_by_id(ds.query("SELECT * FROM table").to_pyarrow(), "n")
    assert got["n"].to_pylist() == [1.0, 2.0]
    assert got["s"].to_pylist() == ["7", "8"]
    assert got["d"].to_pylist() == [dt.datetime(2024, 5, 6, tzinfo=dt.UTC), None]


def test_csv_header_must_match(tmp_path: Any, domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("csv", SMALL)
    path = tmp_path / "swapped.csv"
    write_csv(path, ["name", "id", "at"], [["a", "1", "2024-01-01T00:00:00"]])
    with pytest.raises(ValueError, match="CSV header"):
        ds.upload(path)


def test_csv_file_parts_are_cut_between_records(tmp_path: Any, domo_client: dd.Client) -> None:
    # A quote inside an unquoted field is data, so the quoted newline after it does not
    # end a record: parts are cut only where a CSV reader sees records end.
    ds = domo_client.create_dataset("csv records", {"id": "LONG", "note": "STRING"})
    path = tmp_path / "records.csv"
    rows = [f'{i},5\'11" tall\n{i},"line\nbreak, ""quoted"""\n' for i in range(10_000)]
    path.write_text("id,note\n" + "".join(rows), encoding="utf-8")
    result = ds.upload(path, part_size=64 * 1024)
    assert result["rows"] == 20_000
    assert result["parts"] > 4
    got = ds.query("SELECT `note`, COUNT(*) AS n FROM table GROUP BY `note` ORDER BY `note`")
    assert got.to_pyarrow().to_pylist() == [
        {"note": "5'11\" tall", "n": 10_000},
        {"note": 'line\nbreak, "quoted"', "n": 10_000},
    ]


def test_iterator_of_batches_streams_a_generator(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("gen", ALL_TYPES_DOMO)
    pulled: list[int] = []

    def chunks() -> Any:
        for start in range(0, 3000, 500):
            pulled.append(start)
            table = all_types_table(500, start)
            # Mix producers: pyarrow tables, record batches and polars frames.
            if start % 1500 == 0:
                yield pl.DataFrame(table)
            elif start % 1000 == 0:
                yield table.to_batches()[0]
            else:
                yield table

    result = ds.upload(chunks(), part_size=64 * 1024)
    assert result["rows"] == 3000
    assert pulled == list(range(0, 3000, 500))
    assert_tables_equal(_all(ds), all_types_table(3000))
    parts = sorted(int(r["path"].rsplit("/", 1)[1]) for r in domo_emulator.requests(PART_PATH))
    assert parts == list(range(1, len(parts) + 1))


def test_iterator_with_a_different_schema_commits_nothing(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("gen", SMALL)
    ds.upload(_small(range(3)))

    def chunks() -> Any:
        yield _small(range(10, 12))
        yield pa.table({"other": [1]})

    with pytest.raises(ValueError, match="item 1 of the upload iterator"):
        ds.upload(chunks())
    assert_tables_equal(_all(ds), _small(range(3)))


def test_iterator_that_raises_commits_nothing(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("gen", SMALL)

    def chunks() -> Any:
        yield _small(range(2))
        raise RuntimeError("source broke")

    with pytest.raises(Exception, match="source broke"):
        ds.upload(chunks())
    assert ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow()["n"][0].as_py() == 0


def test_empty_iterator_and_wrong_items_are_refused(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("gen", SMALL)
    with pytest.raises(ValueError, match="empty"):
        ds.upload(iter([]))
    with pytest.raises(TypeError, match="item 0"):
        ds.upload(iter([{"id": 1}]))


def test_append_rows_round_trip(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("rows", ALL_TYPES_DOMO)
    at = dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    ds.append_rows(
        [
            {
                "id": 1,
                "label": 'x, "y"',
                "count": 3,
                "ratio": 0.5,
                "price": Decimal("12.34"),
                "day": dt.date(2024, 2, 29),
                "at": at,
            },
            {"id": 2, "label": None},
        ]
    )
    got = _all(ds).to_pylist()
    assert got[0] == {
        "id": 1,
        "label": 'x, "y"',
        "count": 3,
        "ratio": 0.5,
        "price": Decimal("12.3400000000"),
        "day": dt.date(2024, 2, 29),
        "at": dt.datetime(2024, 3, 4, 3, 6, 7, tzinfo=dt.UTC),
    }
    assert got[1]["id"] == 2 and got[1]["label"] is None and got[1]["count"] is None


async def test_append_rows_async(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("rows", SMALL)
    await ds.append_rows_async([{"id": 7, "name": "seven", "at": dt.datetime(2024, 1, 1)}])
    assert _all(ds)["name"].to_pylist() == ["seven"]


def test_append_rows_bad_input_sends_no_data(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("rows", SMALL)
    domo_emulator.clear_requests()
    with pytest.raises(ValueError, match="no rows"):
        ds.append_rows([])
    with pytest.raises(TypeError, match="row 0"):
        ds.append_rows(["not a dict"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match='column "name"'):
        ds.append_rows([{"id": 1, "name": object()}])
    with pytest.raises(ValueError, match="nope"):
        ds.append_rows([{"id": 1, "nope": 2}])
    assert domo_emulator.requests(UPLOAD_PATH) == []


async def test_cancelled_upload_commits_nothing(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("cancel", SMALL)
    ds.upload(_small(range(4)))
    domo_emulator.clear_requests()
    # Slow parts, so the upload is surely in flight when it is cancelled.
    domo_emulator.inject_fault(PART_PATH, method="PUT", delay_ms=3000, count=0)
    task = asyncio.ensure_future(ds.upload_async(_small(range(100, 200))))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    domo_emulator.clear_faults()
    await asyncio.sleep(3.5)
    assert domo_emulator.requests("/api/data/v3/datasources/*/uploads/*/commit") == []
    assert_tables_equal(_all(ds), _small(range(4)))


def test_ctrl_c_during_upload_commits_nothing(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    import _thread
    import threading
    import time

    ds = domo_client.create_dataset("interrupt", SMALL)
    ds.upload(_small(range(4)))
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(PART_PATH, method="PUT", delay_ms=3000, count=0)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            ds.upload(_small(range(100, 200)))
    finally:
        timer.cancel()
    assert time.monotonic() - started < 2.5
    domo_emulator.clear_faults()
    time.sleep(3.5)
    assert domo_emulator.requests("/api/data/v3/datasources/*/uploads/*/commit") == []
    assert_tables_equal(_all(ds), _small(range(4)))


def test_upload_reads_ahead_only_a_few_parts(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    """Memory is bounded by parts in flight, not by the data: the source is read lazily."""
    ds = domo_client.create_dataset("bounded", ALL_TYPES_DOMO)
    part_size = 64 * 1024
    chunk_rows = 400  # well over part_size of CSV per chunk
    chunks_total = 40
    pulled = 0
    pulled_at_first_part: list[int] = []

    def chunks() -> Any:
        nonlocal pulled
        for i in range(chunks_total):
            pulled += 1
            yield all_types_table(chunk_rows, i * chunk_rows)

    def progress(event: dd._domo.UploadProgress) -> None:
        if not pulled_at_first_part:
            pulled_at_first_part.append(pulled)

    domo_emulator.inject_fault(PART_PATH, method="PUT", delay_ms=300, count=3)
    result = ds.upload(chunks(), part_size=part_size, concurrency=2, progress=progress)
    assert result["rows"] == chunks_total * chunk_rows
    assert result["parts"] >= 10
    chunks_per_part = chunks_total / result["parts"]
    # When the first part is acknowledged: two parts in flight, two waiting encoded and one
    # being encoded, i.e. about five parts' worth of the source, not all of it.
    assert pulled_at_first_part[0] <= 6 * chunks_per_part + 1, (pulled_at_first_part, result)
    assert ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow()["n"][0].as_py() == 16000


@pytest.mark.parametrize("param", ["dataTag", "restateDataTag"])
async def test_partition_restated_under_either_parameter(
    param: str, domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("partitioned", SMALL)
    await ds.upload_async(_small(range(0, 3)), partition="2024-01", partition_param=param)
    await ds.upload_async(_small(range(3, 6)), partition="2024-02", partition_param=param)
    domo_emulator.clear_requests()
    await ds.upload_async(_small(range(10, 12)), partition="2024-01", partition_param=param)
    assert _all(ds)["id"].to_pylist() == [3, 4, 5, 10, 11]
    started = domo_emulator.requests(UPLOAD_PATH, method="POST")
    assert [r["query"] for r in started] == [f"{param}=2024-01"]


def test_partition_param_is_checked_before_sending(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("partitioned", SMALL)
    domo_emulator.clear_requests()
    with pytest.raises(ValueError, match="restateDataTag"):
        ds.upload(_small(range(2)), partition="x", partition_param="tag")
    assert domo_emulator.requests() == []
