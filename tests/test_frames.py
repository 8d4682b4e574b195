"""pandas and polars in and out: every accepted upload source (sync and async), the value
rules (bool, infinity, sub-second DATETIME, dates held as timestamps), ``append_rows``
with what a frame holds, ``to_pandas`` defaults, and round trips with no hand fixes.

Expected values are written out by hand below, never read from the emulator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import domo_datasets as dd
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from domo_datasets.testing import LocalDomo
from support import UPLOAD_PATH, write_csv

SCHEMA = {"id": "LONG", "name": "STRING", "amount": "DOUBLE", "day": "DATE", "at": "DATETIME"}
UTC = dt.UTC

# The rows every source below holds, as query answers give them back (DATETIME in UTC).
EXPECTED = [
    {
        "id": 1,
        "name": "east",
        "amount": 1.5,
        "day": dt.date(2024, 1, 2),
        "at": dt.datetime(2024, 1, 2, 10, 30, tzinfo=UTC),
    },
    {"id": 2, "name": None, "amount": None, "day": None, "at": None},
    {
        "id": 3,
        "name": "west",
        "amount": -2.25,
        "day": dt.date(1969, 12, 31),
        "at": dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
    },
]


def _rows(ds: dd.Dataset) -> list[dict[str, Any]]:
    return ds.query("SELECT * FROM table ORDER BY `id`").to_pyarrow().to_pylist()


def _pyarrow_table() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "name": ["east", None, "west"],
            "amount": [1.5, None, -2.25],
            "day": pa.array([dt.date(2024, 1, 2), None, dt.date(1969, 12, 31)]),
            "at": pa.array(
                [dt.datetime(2024, 1, 2, 10, 30), None, dt.datetime(1999, 12, 31, 23, 59, 59)],
                pa.timestamp("us"),
            ),
        }
    )


def _pandas_frame() -> pd.DataFrame:
    """As pandas holds such data: nullable Int64, NaN, dates as datetime64 at midnight."""
    return pd.DataFrame(
        {
            "id": pd.array([1, 2, 3], dtype="Int64"),
            "name": ["east", None, "west"],
            "amount": [1.5, np.nan, -2.25],
            "day": pd.to_datetime(["2024-01-02", None, "1969-12-31"]),
            "at": pd.to_datetime(["2024-01-02 10:30:00", None, "1999-12-31 23:59:59"]),
        }
    )


def _as_read_back(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as ``to_pandas`` gives it back: dates and times in microseconds (Domo's dates
    reach 9999-12-31, past what nanoseconds hold), where pandas 2 parses to nanoseconds."""
    return df.astype({"day": "datetime64[us]", "at": "datetime64[us]"})


def _polars_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["east", None, "west"],
            "amount": [1.5, None, -2.25],
            "day": [dt.date(2024, 1, 2), None, dt.date(1969, 12, 31)],
            "at": [dt.datetime(2024, 1, 2, 10, 30), None, dt.datetime(1999, 12, 31, 23, 59, 59)],
        },
        schema={
            "id": pl.Int64,
            "name": pl.String,
            "amount": pl.Float64,
            "day": pl.Date,
            "at": pl.Datetime("us"),
        },
    )


class CapsuleOnly:
    """An object that offers nothing but the Arrow PyCapsule stream interface."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


def _dict_of_columns() -> dict[str, list[Any]]:
    return {
        "id": [1, 2, 3],
        "name": ["east", None, "west"],
        "amount": [1.5, None, -2.25],
        "day": [dt.date(2024, 1, 2), None, dt.date(1969, 12, 31)],
        "at": [dt.datetime(2024, 1, 2, 10, 30), None, dt.datetime(1999, 12, 31, 23, 59, 59)],
    }


def _csv_path(tmp_path: Path) -> str:
    path = tmp_path / "rows.csv"
    write_csv(
        path,
        list(SCHEMA),
        [
            ["1", "east", "1.5", "2024-01-02", "2024-01-02T10:30:00"],
            ["2", None, None, None, None],
            ["3", "west", "-2.25", "1969-12-31", "1999-12-31T23:59:59"],
        ],
    )
    return str(path)


def _parquet_path(tmp_path: Path) -> Path:
    path = tmp_path / "rows.parquet"
    # Two row groups, read one at a time.
    pq.write_table(_pyarrow_table(), path, row_group_size=2)
    return path


def _batches() -> Iterator[pa.RecordBatch]:
    table = _pyarrow_table()
    yield from table.to_batches(max_chunksize=1)


SOURCES: dict[str, Callable[[Path], object]] = {
    "pyarrow table": lambda _: _pyarrow_table(),
    "pycapsule object": lambda _: CapsuleOnly(_pyarrow_table()),
    "pandas frame": lambda _: _pandas_frame(),
    "polars frame": lambda _: _polars_frame(),
    "polars lazyframe": lambda _: _polars_frame().lazy().filter(pl.lit(True)),
    "dict of columns": lambda _: _dict_of_columns(),
    "csv path": _csv_path,
    "parquet path": _parquet_path,
    "iterator of batches": lambda _: _batches(),
    "iterator of frames": lambda _: iter([_pandas_frame().iloc[:2], _pandas_frame().iloc[2:]]),
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_accepted_source_uploads(source: str, tmp_path: Path, domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("sources", SCHEMA)
    result = ds.upload(SOURCES[source](tmp_path))
    assert result["rows"] == 3
    assert _rows(ds) == EXPECTED


@pytest.mark.parametrize("source", list(SOURCES))
async def test_every_accepted_source_uploads_async(
    source: str, tmp_path: Path, domo_client: dd.Client
) -> None:
    ds = await domo_client.create_dataset_async("sources", SCHEMA)
    result = await ds.upload_async(SOURCES[source](tmp_path))
    assert result["rows"] == 3
    assert (await ds.query_async("SELECT * FROM table ORDER BY `id`")).to_pyarrow().to_pylist() == (
        EXPECTED
    )


def test_a_lazyframe_is_collected_in_batches(domo_client: dd.Client) -> None:
    """A LazyFrame larger than one streamed chunk arrives whole, in order."""
    n = 50_000
    ds = domo_client.create_dataset("lazy", {"id": "LONG"})
    lazy = pl.LazyFrame({"id": range(n)}, schema={"id": pl.Int64}).with_columns(pl.col("id") * 2)
    assert ds.upload(lazy)["rows"] == n
    got = ds.query("SELECT COUNT(*) AS n, SUM(`id`) AS total FROM table").to_pyarrow()
    # 2 * (0 + 1 + ... + n-1), by hand.
    assert got.to_pylist() == [{"n": n, "total": n * (n - 1)}]


NOT_SOURCES = [
    [1, 2, 3],
    [{"id": 1}],
    42,
    b"id\n1\n",
    {1: [1]},
]


@pytest.mark.parametrize("bad", NOT_SOURCES, ids=lambda v: type(v).__name__)
def test_anything_else_is_a_type_error_listing_what_is_accepted(
    bad: object, domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("t", {"id": "LONG"})
    domo_emulator.clear_requests()
    with pytest.raises(TypeError) as info:
        ds.upload(bad)
    message = str(info.value)
    if not isinstance(bad, dict):
        for accepted in ("Arrow", "pandas", "polars", "LazyFrame", "dict of columns", "Parquet"):
            assert accepted in message, message
    assert domo_emulator.requests(UPLOAD_PATH) == []


async def test_anything_else_is_a_type_error_async(domo_client: dd.Client) -> None:
    ds = await domo_client.create_dataset_async("t", {"id": "LONG"})
    with pytest.raises(TypeError, match="dict of columns"):
        await ds.upload_async([1, 2, 3])


# -- the value rules ---------------------------------------------------------------------------


def _versions(ds: dd.Dataset) -> int:
    return len(ds.data_versions())


@pytest.mark.parametrize("value", [float("inf"), float("-inf")])
def test_infinity_is_refused_naming_the_column(value: float, domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("inf", {"id": "LONG", "amount": "DOUBLE"})
    before = _versions(ds)
    frame = pd.DataFrame({"id": [1, 2], "amount": [1.0, value]})
    with pytest.raises(ValueError, match=r'column "amount", row 1: infinity'):
        ds.upload(frame)
    with pytest.raises(ValueError, match=r"row 0, column 'amount': infinity"):
        ds.append_rows([{"id": 1, "amount": value}])
    assert _versions(ds) == before
    assert _rows(ds) == []


def test_nan_is_a_null(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("nan", {"id": "LONG", "amount": "DOUBLE"})
    ds.upload(pd.DataFrame({"id": [1], "amount": [np.nan]}))
    ds.append_rows([{"id": 2, "amount": np.float64("nan")}])
    assert _rows(ds) == [{"id": 1, "amount": None}, {"id": 2, "amount": None}]


async def test_sub_second_datetimes_are_refused_naming_the_column(domo_client: dd.Client) -> None:
    ds = await domo_client.create_dataset_async("subsecond", {"at": "DATETIME"})
    frame = pd.DataFrame(
        {"at": pd.to_datetime(["2024-01-02 10:00:00", "2024-01-02 10:00:00.5"], format="ISO8601")}
    )
    with pytest.raises(ValueError, match=r'column "at", row 1: a fraction of a second'):
        await ds.upload_async(frame)
    with pytest.raises(ValueError, match=r"column 'at'.*fraction of a second"):
        await ds.append_rows_async([{"at": dt.datetime(2024, 1, 2, 10, 0, 0, 1)}])
    # Floored first, as the message says, it goes in.
    await ds.upload_async(frame.assign(at=frame["at"].dt.floor("s")))
    got = (await ds.query_async("SELECT * FROM table")).to_pyarrow().to_pylist()
    assert got == [{"at": dt.datetime(2024, 1, 2, 10, tzinfo=UTC)}] * 2


def test_a_time_of_day_is_refused_in_a_date_column(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("dates", {"day": "DATE"})
    frame = pd.DataFrame(
        {"day": pd.to_datetime(["2024-01-02", "2024-01-02 12:00"], format="ISO8601")}
    )
    with pytest.raises(ValueError, match=r'column "day", row 1: a time of day'):
        ds.upload(frame)
    with pytest.raises(ValueError, match=r'column "day".*time of day'):
        ds.append_rows([{"day": pd.Timestamp("2024-01-02 12:00")}])
    assert ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow().to_pylist() == [{"n": 0}]


def test_bools_are_true_false_text_in_every_path(domo_client: dd.Client) -> None:
    frame = pd.DataFrame({"flag": [True, False]})
    ds = domo_client.create_dataset("bools", frame)
    assert ds.schema() == [{"name": "flag", "type": "STRING"}]
    ds.upload(frame)
    ds.upload(pl.DataFrame({"flag": [False]}))
    ds.append_rows([{"flag": True}, {"flag": np.bool_(False)}])
    got = ds.query("SELECT `flag`, COUNT(*) AS n FROM table GROUP BY `flag` ORDER BY `flag`")
    assert got.to_pyarrow().to_pylist() == [
        {"flag": "false", "n": 3},
        {"flag": "true", "n": 2},
    ]
    longs = domo_client.create_dataset("longs", {"flag": "LONG"})
    with pytest.raises(ValueError, match="cannot go into dataset column"):
        longs.upload(frame)


# -- append_rows with what a frame holds ---------------------------------------------------


ROW_SCHEMA = {
    "id": "LONG",
    "name": "STRING",
    "amount": "DOUBLE",
    "price": "DECIMAL",
    "day": "DATE",
    "at": "DATETIME",
}
ROWS_BACK = [
    {
        "id": 1,
        "name": "east",
        "amount": 1.5,
        "price": Decimal("12.25"),
        "day": dt.date(2024, 1, 2),
        "at": dt.datetime(2024, 1, 2, 10, 30, tzinfo=UTC),
    },
    {"id": 2, "name": None, "amount": None, "price": None, "day": None, "at": None},
]


def _frame_records() -> list[dict[Any, Any]]:
    frame = pd.DataFrame(
        {
            "id": pd.array([1, 2], dtype="Int64"),
            "name": pd.array(["east", pd.NA], dtype="string"),
            "amount": [1.5, np.nan],
            "price": [Decimal("12.25"), None],
            "day": pd.to_datetime(["2024-01-02", None]),
            "at": pd.to_datetime(["2024-01-02 10:30:00", None]),
        }
    )
    return frame.to_dict("records")


def _numpy_records() -> list[dict[str, Any]]:
    return [
        {
            "id": np.int64(1),
            "name": "east",
            "amount": np.float32(1.5),
            "price": Decimal("12.25"),
            "day": dt.date(2024, 1, 2),
            "at": np.datetime64("2024-01-02T10:30:00"),
        },
        {
            "id": np.int32(2),
            "name": pd.NA,
            "amount": None,
            "price": None,
            "day": pd.NaT,
            "at": np.datetime64("NaT"),
        },
    ]


def _python_records() -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "name": "east",
            "amount": 1.5,
            "price": Decimal("12.25"),
            "day": dt.date(2024, 1, 2),
            "at": dt.datetime(2024, 1, 2, 11, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        },
        {"id": 2, "name": None, "amount": None, "price": None, "day": None, "at": None},
    ]


RECORDS = {"to_dict records": _frame_records, "numpy": _numpy_records, "python": _python_records}


@pytest.mark.parametrize("records", list(RECORDS))
def test_append_rows_takes_what_a_frame_holds(records: str, domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("rows", ROW_SCHEMA)
    ds.append_rows(RECORDS[records]())
    assert _rows(ds) == ROWS_BACK


@pytest.mark.parametrize("records", list(RECORDS))
async def test_append_rows_takes_what_a_frame_holds_async(
    records: str, domo_client: dd.Client
) -> None:
    ds = await domo_client.create_dataset_async("rows", ROW_SCHEMA)
    await ds.append_rows_async(RECORDS[records]())
    got = await ds.query_async("SELECT * FROM table ORDER BY `id`")
    assert got.to_pyarrow().to_pylist() == ROWS_BACK


# -- to_pandas and the round trips ---------------------------------------------------------


def test_to_pandas_defaults(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("pandas", ROW_SCHEMA)
    ds.append_rows(_python_records())
    df = ds.query("SELECT * FROM table ORDER BY `id`").to_pandas()
    assert str(df["id"].dtype) == "Int64"
    assert df["id"].tolist() == [1, 2]
    assert str(df["amount"].dtype) == "float64"
    assert str(df["day"].dtype) == "datetime64[us]"
    assert str(df["at"].dtype) == "datetime64[us]"
    assert df["day"].dt.year.tolist()[0] == 2024
    assert df["at"][0] == pd.Timestamp("2024-01-02 10:30:00")
    assert df["price"].dtype == pd.ArrowDtype(pa.decimal128(38, 10))
    assert df["price"][0] == Decimal("12.25")
    # A types_mapper given replaces the defaults.
    arrow = ds.query("SELECT * FROM table").to_pandas(types_mapper=pd.ArrowDtype)
    assert arrow["day"].dtype == pd.ArrowDtype(pa.date32())


def test_pandas_round_trip_needs_no_hand_fixes(domo_client: dd.Client) -> None:
    df = _pandas_frame()
    ds = domo_client.create_dataset("round trip", SCHEMA)
    ds.upload(df)
    back = ds.query("SELECT * FROM table ORDER BY `id`").to_pandas()
    pd.testing.assert_frame_equal(back, _as_read_back(df))


async def test_pandas_round_trip_async(domo_client: dd.Client) -> None:
    df = _pandas_frame()
    ds = await domo_client.create_dataset_async("round trip", SCHEMA)
    await ds.upload_async(df)
    back = (await ds.query_async("SELECT * FROM table ORDER BY `id`")).to_pandas()
    pd.testing.assert_frame_equal(back, _as_read_back(df))


def test_polars_round_trip_needs_no_hand_fixes(domo_client: dd.Client) -> None:
    # Domo's DATETIME is UTC: polars reads it as Datetime("us", "UTC").
    df = _polars_frame().with_columns(pl.col("at").dt.replace_time_zone("UTC"))
    ds = domo_client.create_dataset("round trip", df)
    assert [c["type"] for c in ds.schema()] == ["LONG", "STRING", "DOUBLE", "DATE", "DATETIME"]
    ds.upload(df)
    back = ds.query("SELECT * FROM table ORDER BY `id`").to_polars()
    assert back.equals(df), (back, df)
    exported = pl.concat([batch.to_polars() for batch in ds.export()]).sort("id", nulls_last=True)
    assert exported.equals(df.sort("id", nulls_last=True))
