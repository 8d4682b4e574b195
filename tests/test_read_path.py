"""Reading large results: paged queries and exports written straight to disk."""

from __future__ import annotations

import csv
from pathlib import Path

import domo_datasets as dd
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo
from support import (
    ALL_TYPES_DOMO,
    EXPORT_PATH,
    QUERY_PATH,
    all_types_table,
    assert_tables_equal,
)


@pytest.fixture
def loaded(domo_client: dd.Client, domo_emulator: LocalDomo) -> dd.Dataset:
    ds = domo_client.create_dataset("pages", ALL_TYPES_DOMO)
    ds.upload(all_types_table(2500))
    domo_emulator.clear_requests()
    return ds


def test_query_pages_equals_one_big_query(loaded: dd.Dataset, domo_emulator: LocalDomo) -> None:
    sql = "SELECT * FROM table ORDER BY `id`"
    stream = loaded.query_pages(sql, page_size=1000, prefetch=2)
    batches = [t.to_pyarrow() for t in stream]
    assert [b.num_rows for b in batches] == [1000, 1000, 500]
    assert_tables_equal(pa.concat_tables(batches), all_types_table(2500))
    sent = [r for r in domo_emulator.requests(QUERY_PATH)]
    # Three pages; a fourth may have been fetched ahead and found empty, never more.
    assert 3 <= len(sent) <= 4


def test_query_pages_exact_multiple_and_empty(loaded: dd.Dataset) -> None:
    pages = loaded.query_pages("SELECT `id` FROM table ORDER BY `id`", page_size=500)
    assert sum(t.num_rows for t in pages) == 2500
    empty = loaded.query_pages("SELECT `id` FROM table WHERE `id` < 0 ORDER BY `id`")
    tables = list(empty)
    assert [t.num_rows for t in tables] == [0]
    assert tables[0].column_names == ["id"]


async def test_query_pages_async(loaded: dd.Dataset) -> None:
    stream = await loaded.query_pages_async(
        "SELECT `id`, `label` FROM table ORDER BY `id`", page_size=700, prefetch=3
    )
    ids: list[int] = []
    async for table in stream:
        ids += table.to_pyarrow()["id"].to_pylist()
    assert ids == list(range(2500))


def test_query_pages_refuses_unpageable_sql(loaded: dd.Dataset, domo_emulator: LocalDomo) -> None:
    with pytest.raises(ValueError, match="ORDER BY"):
        loaded.query_pages("SELECT * FROM table")
    with pytest.raises(ValueError, match="LIMIT"):
        loaded.query_pages("SELECT * FROM table ORDER BY `id` LIMIT 10")
    with pytest.raises(ValueError, match="prefetch"):
        loaded.query_pages("SELECT * FROM table ORDER BY `id`", prefetch=0)
    assert domo_emulator.requests(QUERY_PATH) == []


def test_query_pages_into_polars(loaded: dd.Dataset) -> None:
    import polars as pl

    frame = pl.DataFrame(loaded.query_pages("SELECT `id` FROM table ORDER BY `id`", page_size=999))
    assert frame["id"].to_list() == list(range(2500))


def test_export_to_writes_the_csv(loaded: dd.Dataset, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    written = loaded.export_to(target)
    assert written == target.stat().st_size
    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(ALL_TYPES_DOMO)
    assert len(rows) == 2501
    assert sorted(int(r[0]) for r in rows[1:]) == list(range(2500))
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


async def test_export_to_async(loaded: dd.Dataset, tmp_path: Path) -> None:
    target = tmp_path / "async.csv"
    written = await loaded.export_to_async(str(target))
    assert written == target.stat().st_size > 0


def test_export_to_failure_leaves_no_file(
    loaded: dd.Dataset, domo_emulator: LocalDomo, tmp_path: Path
) -> None:
    target = tmp_path / "never.csv"
    domo_emulator.inject_fault(
        EXPORT_PATH,
        status=503,
        body="<html><title>Down for maintenance</title></html>",
        content_type="text/html",
        count=0,
    )
    client = dd.Client(domo_emulator.url, token=domo_emulator.token, max_retries=1)
    with pytest.raises(dd.ServerError, match="Down for maintenance"):
        client.dataset(loaded.id).export_to(target)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="folder"):
        loaded.export_to(tmp_path / "missing" / "x.csv")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"columns":["n"],"metadata":[{"type":"LONG"}],"rows":[[1],[2', "cut short"),
        ('{"columns":["n"],"metadata":[{"type":"LONG"}],"rows":[[1],["x"]]}', 'row 1, column "n"'),
        ('{"columns":["n","m"],"metadata":[{"type":"LONG"}],"rows":[]}', "names 2 columns"),
        ('{"columns":["n"],"metadata":[{"type":"LONG"}],"rows":[[1,2]]}', "more than 1 values"),
        ('{"rows":[]}', 'no "columns"'),
        ("[1, 2, 3]", "not valid query JSON"),
    ],
)
def test_malformed_query_answers_are_clear_errors(
    loaded: dd.Dataset, domo_emulator: LocalDomo, body: str, expected: str
) -> None:
    domo_emulator.inject_fault(QUERY_PATH, status=200, body=body, content_type="application/json")
    with pytest.raises(dd.UnexpectedResponseError, match=expected):
        loaded.query("SELECT `id` FROM table")


def test_unknown_column_types_are_read_as_text(
    loaded: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    body = '{"columns":["t"],"metadata":[{"type":"TIME"}],"rows":[["12:30:00"],[null]]}'
    domo_emulator.inject_fault(QUERY_PATH, status=200, body=body, content_type="application/json")
    got = loaded.query("SELECT `id` FROM table").to_pyarrow()
    assert got.schema.field("t").type == pa.string()
    assert got["t"].to_pylist() == ["12:30:00", None]


def test_numbers_sent_as_strings_are_typed(loaded: dd.Dataset, domo_emulator: LocalDomo) -> None:
    body = (
        '{"columns":["l","d","m","ts"],"metadata":[{"type":"LONG"},{"type":"DOUBLE"},'
        '{"type":"DECIMAL"},{"type":"DATETIME"}],'
        '"rows":[["7","2.5","1.25","2024-01-02T03:04:05.5"],[8,3,2,"2024-01-02 03:04:05"]],'
        '"numRows":2,"fromcache":false,"duration":"3"}'
    )
    domo_emulator.inject_fault(QUERY_PATH, status=200, body=body, content_type="application/json")
    got = loaded.query("SELECT 1 FROM table").to_pyarrow().to_pylist()
    import datetime as dt
    from decimal import Decimal

    assert got == [
        {
            "l": 7,
            "d": 2.5,
            "m": Decimal("1.2500000000"),
            "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=dt.UTC),
        },
        {
            "l": 8,
            "d": 3.0,
            "m": Decimal("2.0000000000"),
            "ts": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        },
    ]
