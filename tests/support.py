"""Data builders and comparisons shared by the tests.

Every expected value is built here from plain Python data, independently of the client,
so a test compares what came back from the emulator with what the test itself put in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa

UTC = dt.UTC

# The Arrow type each Domo type reads back as (see Dataset.query in _domo.pyi).
ARROW_OF_DOMO: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "LONG": pa.int64(),
    "DOUBLE": pa.float64(),
    "DECIMAL": pa.decimal128(38, 10),
    "DATE": pa.date32(),
    "DATETIME": pa.timestamp("us", tz="UTC"),
}

ALL_TYPES_DOMO: dict[str, str] = {
    "id": "LONG",
    "label": "STRING",
    "count": "LONG",
    "ratio": "DOUBLE",
    "price": "DECIMAL",
    "day": "DATE",
    "at": "DATETIME",
}
"""A dataset schema with every Domo type (``id`` is a row key, never null)."""

ALL_TYPES_SCHEMA = pa.schema([(name, ARROW_OF_DOMO[t]) for name, t in ALL_TYPES_DOMO.items()])

# Strings that break naive CSV handling, plus the empty string (which is not null).
TRICKY_STRINGS: list[str | None] = [
    "plain",
    "comma, inside",
    'double "quotes" inside',
    "new\nline",
    "windows\r\nline end",
    "tab\there",
    "  padded  ",
    "Café ünïcödé 日本語 🎉",
    "",
    None,
    "back\\slash",
    "'single'",
    '"',
    ",",
    "NULL",
    "null",
]


def _row(i: int) -> dict[str, Any]:
    """Row ``i`` of the deterministic all-types data set (nulls on a fixed pattern)."""
    labels = TRICKY_STRINGS
    counts: list[int | None] = [
        0,
        1,
        -1,
        42,
        9_007_199_254_740_993,  # 2**53 + 1: not representable as a double
        -9_223_372_036_854_775_807,
        9_223_372_036_854_775_807,
        None,
    ]
    ratios: list[float | None] = [
        0.0,
        1.5,
        -0.25,
        3.141592653589793,
        1e-9,
        -12345.678,
        1e15,
        None,
        0.1,
    ]
    prices: list[Decimal | None] = [
        Decimal("0"),
        Decimal("12345.6789"),
        Decimal("-0.0001"),
        Decimal("99999999.99"),
        None,
        Decimal("1.5"),
        Decimal("-42"),
    ]
    days: list[dt.date | None] = [
        dt.date(2024, 2, 29),
        dt.date(1970, 1, 1),
        dt.date(1969, 12, 31),
        dt.date(2099, 12, 31),
        None,
        dt.date(2000, 1, 1),
    ]
    ats: list[dt.datetime | None] = [
        dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
        dt.datetime(1970, 1, 1, 0, 0, 0, tzinfo=UTC),
        None,
        dt.datetime(1999, 12, 31, 12, 30, 0, tzinfo=UTC),
        dt.datetime(2030, 6, 15, 8, 5, 3, tzinfo=UTC),
    ]
    return {
        "id": i,
        "label": labels[i % len(labels)],
        "count": counts[i % len(counts)],
        "ratio": ratios[i % len(ratios)],
        "price": prices[i % len(prices)],
        "day": days[i % len(days)],
        "at": ats[i % len(ats)],
    }


def all_types_rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    """``n`` rows with ids ``start .. start+n-1``, every type, nulls and tricky strings."""
    return [_row(i) for i in range(start, start + n)]


def all_types_table(n: int = 40, start: int = 0) -> pa.Table:
    """The all-types rows as a pyarrow Table with the Arrow types queries return."""
    return pa.Table.from_pylist(all_types_rows(n, start), schema=ALL_TYPES_SCHEMA)


def sort_by_id(table: pa.Table, key: str = "id") -> pa.Table:
    """``table`` sorted by its ``id`` column (exports have no guaranteed order)."""
    return table.sort_by([(key, "ascending")])


def assert_tables_equal(got: pa.Table, expected: pa.Table) -> None:
    """Assert equal column names, types and values, with a readable difference if not."""
    assert got.column_names == expected.column_names
    got_types = {f.name: str(f.type) for f in got.schema}
    expected_types = {f.name: str(f.type) for f in expected.schema}
    assert got_types == expected_types
    assert got.num_rows == expected.num_rows
    for name in expected.column_names:
        got_values = got.column(name).to_pylist()
        expected_values = expected.column(name).to_pylist()
        if got_values != expected_values:
            diffs = [
                (i, g, e)
                for i, (g, e) in enumerate(zip(got_values, expected_values, strict=True))
                if g != e
            ]
            raise AssertionError(
                f"column {name!r} differs in {len(diffs)} rows; first: "
                + ", ".join(f"row {i}: got {g!r}, expected {e!r}" for i, g, e in diffs[:5])
            )
    assert got.equals(expected)


def write_csv(path: Any, header: list[str], rows: list[list[str | None]]) -> None:
    """Write a CSV file by hand: ``None`` is an empty (null) field, strings are quoted."""

    def field(value: str | None) -> str:
        if value is None:
            return ""
        return '"' + value.replace('"', '""') + '"'

    lines = [",".join(header)]
    lines += [",".join(field(v) for v in row) for row in rows]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines) + "\n")


UPLOAD_PATH = "/api/data/v3/datasources/*/uploads"
PART_PATH = "/api/data/v3/datasources/*/uploads/*/parts/*"
COMMIT_PATH = "/api/data/v3/datasources/*/uploads/*/commit"
QUERY_PATH = "/api/query/v1/execute/*"
METADATA_PATH = "/api/data/v3/datasources/*"
SCHEMA_PATH = "/api/query/v1/datasources/*/schema/indexed"
CREATE_PATH = "/api/data/v2/datasources"
EXPORT_PATH = "/api/data/v2/datasources/*/dataversions/latest"
LOGIN_PATH = "/api/content/v2/authentication"


def part_number(entry: dict[str, Any]) -> int:
    """The part number of a logged ``PUT .../parts/{n}`` request."""
    return int(str(entry["path"]).rstrip("/").rsplit("/", 1)[1])


def upload_id_of(entry: dict[str, Any]) -> str:
    """The upload id in a logged part or commit request path."""
    segments = str(entry["path"]).split("/")
    return segments[segments.index("uploads") + 1]
