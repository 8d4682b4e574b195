"""Uploads from every kind of source, then queries reading every Domo type back exactly."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import domo_datasets as dd
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from domo_datasets.testing import LocalDomo
from support import (
    ALL_TYPES_DOMO,
    ALL_TYPES_SCHEMA,
    COMMIT_PATH,
    PART_PATH,
    QUERY_PATH,
    TRICKY_STRINGS,
    UPLOAD_PATH,
    all_types_rows,
    all_types_table,
    assert_tables_equal,
    part_number,
    upload_id_of,
    write_csv,
)

SELECT_ALL = "SELECT * FROM table ORDER BY `id`"
UTC = dt.UTC


def count_rows(ds: dd.Dataset) -> int:
    """Rows in the dataset, counted by the emulator's SQL engine."""
    result = ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow()
    assert result.num_rows == 1
    return int(result.column(0)[0].as_py())


def _check_result(result: dict[str, Any], ds: dd.Dataset, mode: str, rows: int) -> None:
    """An UploadResult describing a committed upload of ``rows`` rows."""
    assert result["dataset_id"] == ds.id
    assert result["mode"] == mode
    assert result["rows"] == rows
    assert result["parts"] >= 1
    assert result["bytes_sent"] > 0
    assert isinstance(result["upload_id"], int)


# -- every type, every source --------------------------------------------------------------


def test_upload_pyarrow_table_and_query_every_type(
    all_types_ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    expected = all_types_table(48)
    result = all_types_ds.upload(expected)
    _check_result(dict(result), all_types_ds, "append", 48)

    table = all_types_ds.query(SELECT_ALL)
    assert isinstance(table, dd.Table)
    assert table.num_rows == len(table) == 48
    assert table.num_columns == len(ALL_TYPES_DOMO)
    assert table.column_names == list(ALL_TYPES_DOMO)
    assert_tables_equal(table.to_pyarrow(), expected)
    # The PyCapsule interface gives the same data to any Arrow consumer.
    assert_tables_equal(pa.table(table), expected)

    # Exactly one start, the parts, and one commit, all with the developer token.
    log = domo_emulator.requests()
    assert {e["auth"] for e in log} == {"developer"}
    assert len(domo_emulator.requests(UPLOAD_PATH, "POST")) == 1
    assert len(domo_emulator.requests(COMMIT_PATH, "PUT")) == 1
    parts = domo_emulator.requests(PART_PATH, "PUT")
    assert sorted(part_number(p) for p in parts) == list(range(1, result["parts"] + 1))
    # Parts travel gzip-compressed, in either of the two forms Domo accepts.
    for part in parts:
        assert part["content_encoding"] == "gzip" or "gzip" in str(part["content_type"])


async def test_upload_async_and_query_async_every_type(all_types_ds: dd.Dataset) -> None:
    expected = all_types_table(48)
    result = await all_types_ds.upload_async(expected)
    _check_result(dict(result), all_types_ds, "append", 48)
    table = await all_types_ds.query_async(SELECT_ALL)
    assert_tables_equal(table.to_pyarrow(), expected)


def test_query_result_converts_to_polars_and_pandas(all_types_ds: dd.Dataset) -> None:
    expected = all_types_table(24)
    all_types_ds.upload(expected)
    table = all_types_ds.query(SELECT_ALL)

    frame = table.to_polars()
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == list(ALL_TYPES_DOMO)
    assert frame.to_dicts() == pl.DataFrame(expected).to_dicts()
    assert pl.DataFrame(table).to_dicts() == frame.to_dicts()

    # By default DECIMAL stays exact in Arrow memory, LONG is pandas' nullable Int64, and
    # DATE and DATETIME are naive datetime64[us] in UTC (pydomo's dtypes); the rest is
    # what pyarrow makes of it.
    pdf = table.to_pandas()
    assert isinstance(pdf, pd.DataFrame)
    assert list(pdf.columns) == list(ALL_TYPES_DOMO)
    assert len(pdf) == 24
    expected_pdf = expected.to_pandas()
    for name in ("id", "count"):
        expected_pdf[name] = pd.array(expected.column(name).to_pylist(), dtype="Int64")
    expected_pdf["day"] = pd.to_datetime(expected_pdf["day"]).astype("datetime64[us]")
    expected_pdf["at"] = expected_pdf["at"].dt.tz_convert(None).astype("datetime64[us]")
    assert str(pdf["count"].dtype) == "Int64"
    decimal_dtype = pd.ArrowDtype(pa.decimal128(38, 10))
    assert pdf["price"].dtype == decimal_dtype
    assert pa.array(pdf["price"]).equals(expected.column("price").combine_chunks())
    others = [name for name in ALL_TYPES_DOMO if name != "price"]
    pd.testing.assert_frame_equal(pdf[others], expected_pdf[others])

    # pyarrow's Decimal objects, or pydomo's floats, on request.
    objects = table.to_pandas(decimals="object")
    assert objects["price"].tolist() == expected_pdf["price"].tolist()
    floats = table.to_pandas(decimals="float")
    assert floats["price"].dtype == "float64"
    assert floats["price"].tolist() == pytest.approx(
        [float("nan") if v is None else float(v) for v in expected.column("price").to_pylist()],
        nan_ok=True,
    )
    pd.testing.assert_frame_equal(floats[others], expected_pdf[others])

    # Other arguments go to pyarrow: Arrow-backed columns keep exact decimals and nulls.
    arrow_backed = table.to_pandas(types_mapper=pd.ArrowDtype)
    assert arrow_backed["price"].dtype == decimal_dtype
    assert pa.Table.from_pandas(arrow_backed, preserve_index=False).equals(expected)
    # A types_mapper that maps DECIMAL itself is obeyed.
    as_strings = table.to_pandas(
        types_mapper=lambda t: pd.StringDtype() if pa.types.is_decimal(t) else None
    )
    assert as_strings["price"].dtype == pd.StringDtype()
    with pytest.raises(TypeError):
        table.to_pandas(no_such_option=True)
    with pytest.raises(ValueError, match="decimals must be one of 'arrow', 'object', 'float'"):
        table.to_pandas(decimals="double")


def test_query_empty_dataset_keeps_types(all_types_ds: dd.Dataset) -> None:
    table = all_types_ds.query(SELECT_ALL).to_pyarrow()
    assert table.num_rows == 0
    assert_tables_equal(table, ALL_TYPES_SCHEMA.empty_table())


def test_upload_polars_dataframe(all_types_ds: dd.Dataset) -> None:
    expected = all_types_table(40)
    frame = pl.DataFrame(expected)  # polars exports strings as string_view
    result = all_types_ds.upload(frame)
    _check_result(dict(result), all_types_ds, "append", 40)
    assert_tables_equal(all_types_ds.query(SELECT_ALL).to_pyarrow(), expected)


def test_upload_pandas_dataframe_arrow_backed(all_types_ds: dd.Dataset) -> None:
    expected = all_types_table(40)
    frame = expected.to_pandas(types_mapper=pd.ArrowDtype)
    all_types_ds.upload(frame)
    assert_tables_equal(all_types_ds.query(SELECT_ALL).to_pyarrow(), expected)


def test_upload_plain_pandas_dataframe(domo_client: dd.Client) -> None:
    # The everyday pandas frame: numpy ints and floats (NaN is missing), object strings,
    # datetime64[ns, UTC] and python dates.
    ids = [1, 2, 3, 4]
    names = ["alpha", None, "gamma, g", ""]
    scores = [1.25, float("nan"), -3.5, 1e6]
    days = [dt.date(2024, 1, 31), dt.date(2023, 12, 1), None, dt.date(2020, 2, 29)]
    stamps = pd.to_datetime(
        ["2024-01-31 10:00:00", "2023-12-01 00:00:01", None, "2020-02-29 23:59:59"], utc=True
    )
    frame = pd.DataFrame(
        {"id": ids, "name": names, "score": scores, "day": days, "at": stamps},
        index=[10, 11, 12, 13],  # a non-default index is not a column
    )
    ds = domo_client.create_dataset(
        "pandas",
        {"id": "LONG", "name": "STRING", "score": "DOUBLE", "day": "DATE", "at": "DATETIME"},
    )
    result = ds.upload(frame)
    assert result["rows"] == 4
    expected = pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "name": pa.array(names, pa.string()),
            "score": pa.array([1.25, None, -3.5, 1e6], pa.float64()),
            "day": pa.array(days, pa.date32()),
            "at": pa.array(
                [
                    dt.datetime(2024, 1, 31, 10, 0, 0, tzinfo=UTC),
                    dt.datetime(2023, 12, 1, 0, 0, 1, tzinfo=UTC),
                    None,
                    dt.datetime(2020, 2, 29, 23, 59, 59, tzinfo=UTC),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )
    assert_tables_equal(ds.query(SELECT_ALL).to_pyarrow(), expected)


def test_upload_pandas_decimal_objects(domo_client: dd.Client) -> None:
    # pyarrow's own to_pandas() gives DECIMAL columns as Decimal objects; they are sent
    # exactly, and a column with more than 10 decimals (more than the client reads back)
    # still uploads.
    amounts = [Decimal("1.25"), None, Decimal("-12345678.125"), Decimal("0.1")]
    fine = [Decimal("1.123456789012"), Decimal("2"), None, Decimal("-0.000000000049")]
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "amount": amounts, "fine": fine})
    ds = domo_client.create_dataset(
        "decimals", {"id": "LONG", "amount": "DECIMAL", "fine": "DECIMAL"}
    )
    assert ds.upload(frame)["rows"] == 4
    got = ds.query(SELECT_ALL).to_pyarrow()
    assert got.column("amount").to_pylist() == [
        None if a is None else a.quantize(Decimal("1e-10")) for a in amounts
    ]
    assert got.column("fine").to_pylist() == [
        Decimal("1.1234567890"),
        Decimal("2.0000000000"),
        None,
        Decimal("0E-10"),
    ]
    # No rows, or no values to tell a column's kind: nothing to convert specially.
    empty = pd.DataFrame({"id": pd.Series([], dtype="int64"), "amount": [], "fine": []})
    assert ds.upload(empty.astype({"amount": object, "fine": object}))["rows"] == 0


@pytest.fixture
def large_ds(domo_client: dd.Client) -> tuple[dd.Dataset, pa.Table]:
    # Several MB of query answer and of export CSV.
    expected = all_types_table(60_000)
    ds = domo_client.create_dataset("large", ALL_TYPES_DOMO)
    ds.upload(expected)
    return ds, expected


@pytest.mark.parametrize("run", ["sync", "async"])
def test_large_answer_is_decoded_in_pieces(large_ds: tuple[dd.Dataset, pa.Table], run: str) -> None:
    # The emulator sends the answer as it renders it and the client decodes pieces of it
    # on every core as they arrive, one batch per piece.
    ds, expected = large_ds
    if run == "sync":
        table = ds.query(SELECT_ALL)
    else:
        table = asyncio.run(ds.query_async(SELECT_ALL))
    got = table.to_pyarrow()
    if (os.cpu_count() or 1) > 1:
        assert got.column("id").num_chunks > 1
    assert_tables_equal(got, expected)


def test_large_export_is_decoded_in_segments(large_ds: tuple[dd.Dataset, pa.Table]) -> None:
    # Segments of whole records are decoded side by side; batches still come in order
    # and never exceed batch_size.
    ds, expected = large_ds
    batches = [b.to_pyarrow() for b in ds.export(batch_size=7_000)]
    assert all(0 < b.num_rows <= 7_000 for b in batches)
    assert_tables_equal(pa.concat_tables(batches), expected)


def test_upload_record_batch_reader_and_record_batch(all_types_ds: dd.Dataset) -> None:
    expected = all_types_table(50)
    reader = pa.RecordBatchReader.from_batches(
        ALL_TYPES_SCHEMA, expected.slice(0, 30).to_batches(max_chunksize=7)
    )
    all_types_ds.upload(reader)
    batch = expected.slice(30).combine_chunks().to_batches()[0]
    assert isinstance(batch, pa.RecordBatch)
    all_types_ds.upload(batch)
    assert_tables_equal(all_types_ds.query(SELECT_ALL).to_pyarrow(), expected)


def test_upload_csv_file_with_header(domo_client: dd.Client, tmp_path: Path) -> None:
    ds = domo_client.create_dataset("csv", ALL_TYPES_DOMO)
    rows = [r for r in all_types_rows(40) if r["label"] != ""]  # "" vs null: own test
    path = tmp_path / "data.csv"

    def text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(value, float):
            return repr(value)
        return str(value)

    write_csv(path, list(ALL_TYPES_DOMO), [[text(r[c]) for c in ALL_TYPES_DOMO] for r in rows])
    result = ds.upload(path)  # a pathlib.Path
    assert result["rows"] == len(rows)
    expected = pa.Table.from_pylist(rows, schema=ALL_TYPES_SCHEMA)
    assert_tables_equal(ds.query(SELECT_ALL).to_pyarrow(), expected)

    # A str path works too; REPLACE leaves exactly the file's rows.
    ds.upload(str(path), mode="replace")
    assert_tables_equal(ds.query(SELECT_ALL).to_pyarrow(), expected)


def test_upload_csv_file_empty_string_is_not_null(domo_client: dd.Client, tmp_path: Path) -> None:
    # Domo's CSV: an empty field is null, a quoted empty field is an empty string.
    ds = domo_client.create_dataset("csv strings", {"id": "LONG", "s": "STRING"})
    path = tmp_path / "strings.csv"
    path.write_text('id,s\n1,""\n2,\n3,"a,b"\n4,"x""y"\n', encoding="utf-8")
    ds.upload(path)
    got = ds.query(SELECT_ALL).to_pyarrow()
    assert got.column("s").to_pylist() == ["", None, "a,b", 'x"y']


async def test_upload_csv_file_async(domo_client: dd.Client, tmp_path: Path) -> None:
    ds = await domo_client.create_dataset_async("csv async", {"id": "LONG", "s": "STRING"})
    path = tmp_path / "small.csv"
    path.write_text('id,s\n1,"one"\n2,"two, too"\n', encoding="utf-8")
    result = await ds.upload_async(path)
    assert result["rows"] == 2
    got = (await ds.query_async(SELECT_ALL)).to_pyarrow()
    assert got.to_pylist() == [{"id": 1, "s": "one"}, {"id": 2, "s": "two, too"}]


def test_tricky_strings_survive_round_trip(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("strings", {"id": "LONG", "s": "STRING"})
    values = TRICKY_STRINGS
    table = pa.table(
        {"id": pa.array(range(len(values)), pa.int64()), "s": pa.array(values, pa.string())}
    )
    ds.upload(table)
    assert ds.query(SELECT_ALL).to_pyarrow().column("s").to_pylist() == values
    assert ds.export().read_all().to_pyarrow().sort_by("id").column("s").to_pylist() == values


# -- APPEND then REPLACE -------------------------------------------------------------------


def test_append_then_replace(all_types_ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    first = all_types_table(30)
    second = all_types_table(20, start=30)
    r1 = all_types_ds.upload(first, mode="append")
    r2 = all_types_ds.upload(second, mode="append")
    assert r1["upload_id"] != r2["upload_id"]
    assert count_rows(all_types_ds) == 50
    assert_tables_equal(
        all_types_ds.query(SELECT_ALL).to_pyarrow(), pa.concat_tables([first, second])
    )

    third = all_types_table(10, start=100)
    r3 = all_types_ds.upload(third, mode="replace")
    _check_result(dict(r3), all_types_ds, "replace", 10)
    assert_tables_equal(all_types_ds.query(SELECT_ALL).to_pyarrow(), third)
    [held] = domo_emulator.state()["datasets"]
    assert held["rowCount"] == 10
    assert len(domo_emulator.requests(COMMIT_PATH, "PUT")) == 3


async def test_append_then_replace_async(all_types_ds: dd.Dataset) -> None:
    first = all_types_table(30)
    second = all_types_table(20, start=30)
    await all_types_ds.upload_async(first, mode="append")
    await all_types_ds.upload_async(second, mode="append")
    got = (await all_types_ds.query_async(SELECT_ALL)).to_pyarrow()
    assert_tables_equal(got, pa.concat_tables([first, second]))
    third = all_types_table(5, start=7)
    result = await all_types_ds.upload_async(third, mode="replace")
    assert result["mode"] == "replace"
    assert_tables_equal((await all_types_ds.query_async(SELECT_ALL)).to_pyarrow(), third)


def test_partition_upload_keeps_other_partitions(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("partitioned", {"id": "LONG", "p": "STRING"})

    def rows(ids: range, tag: str) -> pa.Table:
        return pa.table({"id": pa.array(ids, pa.int64()), "p": pa.array([tag] * len(ids))})

    ds.upload(rows(range(0, 5), "a"), partition="a")
    ds.upload(rows(range(5, 8), "b"), partition="b")
    ds.upload(rows(range(100, 102), "a"), partition="a")
    got = ds.query(SELECT_ALL).to_pyarrow().to_pylist()
    assert got == [{"id": i, "p": "b"} for i in range(5, 8)] + [
        {"id": i, "p": "a"} for i in (100, 101)
    ]


# -- many parts, progress --------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_large_upload_in_many_parts(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    n = 200_000
    ids = pa.array(range(n), pa.int64())
    table = pa.table(
        {
            "id": ids,
            "name": pa.array([f'name-{i}, "q" {i % 97}' for i in range(n)], pa.string()),
            "value": pc.multiply(ids.cast(pa.float64()), 0.5),
            "day": pa.array(np.arange(n, dtype=np.int32) % 20_000).cast(pa.date32()),
        }
    )
    ds = domo_client.create_dataset("big", table.schema)
    domo_emulator.clear_requests()
    updates: list[dict[str, Any]] = []
    result = ds.upload(
        table, part_size=1_000_000, concurrency=3, progress=lambda p: updates.append(dict(p))
    )
    assert result["rows"] == n
    n_parts = result["parts"]
    assert n_parts >= 5  # ~7 MB of CSV in ~1 MB parts

    parts = domo_emulator.requests(PART_PATH, "PUT")
    assert sorted(part_number(p) for p in parts) == list(range(1, n_parts + 1))
    assert all(p["status"] == 200 for p in parts)
    assert len({upload_id_of(p) for p in parts}) == 1
    commits = domo_emulator.requests(COMMIT_PATH, "PUT")
    assert len(commits) == 1
    log = domo_emulator.requests()
    assert log.index(commits[0]) > max(log.index(p) for p in parts)

    # The progress callable saw every part; the last update says done with all rows.
    assert updates, "progress callable never called"
    assert updates[-1]["done"] is True
    assert updates[-1]["rows_sent"] == n
    assert updates[-1]["parts_sent"] == n_parts
    assert [u["rows_sent"] for u in updates] == sorted(u["rows_sent"] for u in updates)

    assert count_rows(ds) == n
    sums = ds.query("SELECT SUM(`id`) AS s, SUM(`value`) AS v FROM table").to_pyarrow()
    assert sums.to_pylist() == [{"s": n * (n - 1) // 2, "v": n * (n - 1) / 4}]
    exported = ds.export(batch_size=50_000).read_all().to_pyarrow().sort_by("id")
    assert exported.equals(table)


def test_progress_true_shows_bar_without_failing(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("progress", {"x": "LONG"})
    result = ds.upload(pa.table({"x": pa.array(range(1000), pa.int64())}), progress=True)
    assert result["rows"] == 1000
    assert count_rows(ds) == 1000


# -- commit failures, part retries -------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
def test_failed_commit_is_sent_once_and_changes_nothing(
    all_types_ds: dd.Dataset, domo_emulator: LocalDomo, status: int
) -> None:
    before = all_types_table(10)
    all_types_ds.upload(before)
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(COMMIT_PATH, method="PUT", status=status, retry_after=0, count=3)
    with pytest.raises(dd.ServerError) as info:
        all_types_ds.upload(all_types_table(5, start=10), mode="replace")
    assert info.value.status == status
    assert info.value.method == "PUT"
    assert info.value.url is not None and info.value.url.endswith("/commit")
    assert len(domo_emulator.requests(COMMIT_PATH, "PUT")) == 1
    domo_emulator.clear_faults()
    assert count_rows(all_types_ds) == 10
    assert_tables_equal(all_types_ds.query(SELECT_ALL).to_pyarrow(), before)


async def test_failed_commit_async_is_sent_once(
    all_types_ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    await all_types_ds.upload_async(all_types_table(10))
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(COMMIT_PATH, method="PUT", status=500)
    with pytest.raises(dd.ServerError):
        await all_types_ds.upload_async(all_types_table(5, start=10))
    assert len(domo_emulator.requests(COMMIT_PATH, "PUT")) == 1
    assert count_rows(all_types_ds) == 10


def test_part_retried_after_503_with_retry_after(
    all_types_ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    expected = all_types_table(30)
    domo_emulator.inject_fault(PART_PATH, method="PUT", status=503, retry_after=1, count=1)
    start = time.monotonic()
    result = all_types_ds.upload(expected)
    assert time.monotonic() - start >= 0.9  # Retry-After: 1 was honoured
    parts = domo_emulator.requests(PART_PATH, "PUT")
    assert [(part_number(p), p["status"]) for p in parts] == [(1, 503), (1, 200)]
    assert result["parts"] == 1
    assert len(domo_emulator.requests(COMMIT_PATH, "PUT")) == 1
    assert_tables_equal(all_types_ds.query(SELECT_ALL).to_pyarrow(), expected)


async def test_part_retried_async_after_503(
    all_types_ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    expected = all_types_table(30)
    domo_emulator.inject_fault(PART_PATH, method="PUT", status=503, retry_after=1, count=1)
    await all_types_ds.upload_async(expected)
    parts = domo_emulator.requests(PART_PATH, "PUT")
    assert [part_number(p) for p in parts] == [1, 1]
    assert_tables_equal((await all_types_ds.query_async(SELECT_ALL)).to_pyarrow(), expected)


def test_part_failing_for_good_commits_nothing(
    all_types_ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    all_types_ds.upload(all_types_table(3))
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(PART_PATH, method="PUT", status=400, count=100)
    with pytest.raises(dd.BadRequestError):
        all_types_ds.upload(all_types_table(3, start=3), mode="replace")
    assert domo_emulator.requests(COMMIT_PATH, "PUT") == []
    assert count_rows(all_types_ds) == 3


# -- SQL ------------------------------------------------------------------------------------


def _sql_dataset(client: dd.Client) -> tuple[dd.Dataset, list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = [
        {"id": 1, "Store Name": "North", "note": None, "day": dt.date(2024, 1, 15), "n": 10},
        {"id": 2, "Store Name": "South", "note": "b", "day": dt.date(2024, 2, 29), "n": 5},
        {"id": 3, "Store Name": "North", "note": "", "day": dt.date(2023, 12, 31), "n": 7},
        {"id": 4, "Store Name": "East", "note": "d", "day": None, "n": None},
        {"id": 5, "Store Name": "South", "note": None, "day": dt.date(2024, 11, 1), "n": 1},
    ]
    ds = client.create_dataset(
        "sql",
        [
            ("id", "LONG"),
            ("Store Name", "STRING"),
            ("note", "STRING"),
            ("day", "DATE"),
            ("n", "LONG"),
        ],
    )
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("Store Name", pa.string()),
            ("note", pa.string()),
            ("day", pa.date32()),
            ("n", pa.int64()),
        ]
    )
    ds.upload(pa.Table.from_pylist(rows, schema=schema))
    return ds, rows


def test_query_sql_functions(domo_client: dd.Client) -> None:
    ds, rows = _sql_dataset(domo_client)
    got = ds.query(
        "SELECT `id`, YEAR(`day`) AS y, MONTH(`day`) AS m, DATE_FORMAT(`day`, '%Y-%m') AS ym, "
        "CONCAT(`Store Name`, '-', `id`) AS c, IFNULL(`note`, 'none') AS f "
        "FROM table ORDER BY `id`"
    ).to_pyarrow()
    expected = [
        {
            "id": r["id"],
            "y": r["day"].year if r["day"] else None,
            "m": r["day"].month if r["day"] else None,
            "ym": r["day"].strftime("%Y-%m") if r["day"] else None,
            "c": f"{r['Store Name']}-{r['id']}",
            "f": "none" if r["note"] is None else r["note"],
        }
        for r in rows
    ]
    assert got.column_names == ["id", "y", "m", "ym", "c", "f"]
    assert got.to_pylist() == expected


def test_query_group_by_and_filters(domo_client: dd.Client) -> None:
    ds, rows = _sql_dataset(domo_client)
    got = ds.query(
        "SELECT `Store Name` AS store, COUNT(*) AS cnt, SUM(`n`) AS total FROM table "
        "WHERE `day` >= '2024-01-01' GROUP BY `Store Name` ORDER BY `Store Name`"
    ).to_pyarrow()
    groups: dict[str, list[int]] = {}
    for r in rows:
        if r["day"] is not None and r["day"] >= dt.date(2024, 1, 1):
            groups.setdefault(r["Store Name"], []).append(r["n"])
    expected = [
        {"store": k, "cnt": len(v), "total": sum(x for x in v if x is not None)}
        for k, v in sorted(groups.items())
    ]
    assert got.to_pylist() == expected
    assert got.schema.field("cnt").type == pa.int64()


def test_query_requests_use_the_execute_route(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds, _ = _sql_dataset(domo_client)
    domo_emulator.clear_requests()
    ds.query("SELECT COUNT(*) AS n FROM table")
    [entry] = domo_emulator.requests()
    assert entry["method"] == "POST"
    assert entry["path"] == f"/api/query/v1/execute/{ds.id}"
    assert entry["status"] == 200
    assert entry == domo_emulator.requests(QUERY_PATH, "POST")[0]


async def test_concurrent_async_queries(domo_client: dd.Client) -> None:
    ds, _ = _sql_dataset(domo_client)
    results = await asyncio.gather(
        *(
            ds.query_async(f"SELECT `id` FROM table WHERE `id` <= {k} ORDER BY `id`")
            for k in range(1, 6)
        )
    )
    for k, table in enumerate(results, start=1):
        assert table.to_pyarrow().column("id").to_pylist() == list(range(1, k + 1))


def test_asyncio_run_of_an_async_method(domo_client: dd.Client) -> None:
    ds, rows = _sql_dataset(domo_client)
    table = asyncio.run(ds.query_async("SELECT COUNT(*) AS n FROM table"))
    assert table.to_pyarrow().to_pylist() == [{"n": len(rows)}]
    meta = asyncio.run(ds.metadata_async())
    assert meta["id"] == ds.id
    extra = pa.table(
        {
            "id": pa.array([99], pa.int64()),
            "Store Name": ["West"],
            "note": pa.array([None], pa.string()),
            "day": pa.array([dt.date(2025, 5, 5)], pa.date32()),
            "n": pa.array([3], pa.int64()),
        }
    )
    result = asyncio.run(ds.upload_async(extra))
    assert result["rows"] == 1
    assert count_rows(ds) == len(rows) + 1


def test_decimal_and_large_integers_are_exact(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("exact", {"id": "LONG", "big": "LONG", "dec": "DECIMAL"})
    bigs = [2**63 - 1, -(2**63) + 1, 2**53 + 1, 0]
    decs = [Decimal("0.1"), Decimal("123456789.0123"), Decimal("-0.0000000001"), None]
    expected = pa.table(
        {
            "id": pa.array(range(4), pa.int64()),
            "big": pa.array(bigs, pa.int64()),
            "dec": pa.array(decs, pa.decimal128(38, 10)),
        }
    )
    ds.upload(expected)
    assert_tables_equal(ds.query(SELECT_ALL).to_pyarrow(), expected)
