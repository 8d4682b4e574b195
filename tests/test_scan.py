"""Reading only what a pipeline needs: ``dd.scan`` (a polars LazyFrame with pushdown) and
``ds.reader`` (Arrow batches), against the emulator.

Every answer is compared with polars filtering the dataset's full export, and the SQL sent
is read from the emulator's request log.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import pytest

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

import domo_datasets as dd  # noqa: E402
from domo_datasets.testing import LocalDomo  # noqa: E402

QUERY_PATH = "/api/query/v1/execute/*"
EXPORT_PATH = "/api/data/v2/datasources/*/dataversions/latest"
UTC = dt.UTC
REGIONS = ["West", "west", "East", None, "50%_off", "back\\slash", "it's", "Nord"]
N = 200


def rows_table(n: int = N) -> Any:
    ids = list(range(1, n + 1))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "region": [REGIONS[i % len(REGIONS)] for i in ids],
            "amount": [None if i % 7 == 0 else i * 1.5 for i in ids],
            "price": pa.array(
                [None if i % 11 == 0 else Decimal(i) / 4 for i in ids], pa.decimal128(38, 10)
            ),
            "day": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i % 40) for i in ids]),
            "at": pa.array(
                [dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(hours=7 * i) for i in ids],
                pa.timestamp("us", "UTC"),
            ),
        }
    )


@pytest.fixture
def ds(domo_client: dd.Client, domo_emulator: LocalDomo) -> dd.Dataset:
    ds = domo_client.create_dataset(
        "scanned",
        {
            "id": "LONG",
            "region": "STRING",
            "amount": "DOUBLE",
            "price": "DECIMAL",
            "day": "DATE",
            "at": "DATETIME",
        },
    )
    ds.upload(rows_table())
    domo_emulator.clear_requests()
    return ds


def full(ds: dd.Dataset) -> Any:
    """The whole dataset, through an export: what every scan is compared with."""
    return pl.DataFrame(ds.export())


def sorted_by_id(frame: Any) -> Any:
    return frame.sort("id") if "id" in frame.columns else frame.sort(frame.columns)


def sql_sent(domo: LocalDomo) -> list[str]:
    return [r["sql"] for r in domo.requests(QUERY_PATH)]


def test_schema_is_known_before_any_row_is_read(ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    frame = dd.scan(ds)
    assert frame.collect_schema() == pl.Schema(
        {
            "id": pl.Int64,
            "region": pl.String,
            "amount": pl.Float64,
            "price": pl.Decimal(38, 10),
            "day": pl.Date,
            "at": pl.Datetime("us", "UTC"),
        }
    )
    assert domo_emulator.requests(QUERY_PATH) == []
    assert ds.scan().collect_schema() == frame.collect_schema()


PUSHED = [
    (pl.col("id") > 150, "`id` > 150"),
    (pl.col("id") <= 3, "`id` <= 3"),
    (10 < pl.col("id"), "`id` > 10"),
    ((pl.col("id") > 5) & (pl.col("amount") < 100.0), "`id` > 5 AND `amount` < 100.0"),
    ((pl.col("id") < 5) | (pl.col("id") > 195), "(`id` < 5 OR `id` > 195)"),
    (~(pl.col("id") == 7), "`id` <> 7"),  # polars simplifies the negation
    (~((pl.col("id") < 5) | (pl.col("amount") > 10.0)), "`id` >= 5 AND `amount` <= 10.0"),
    (pl.col("id").is_in([3, 5, 8]), "`id` IN (3, 5, 8)"),
    (pl.col("id").is_between(10, 20), "`id` BETWEEN 10 AND 20"),
    (pl.col("amount").is_null(), "`amount` IS NULL"),
    (pl.col("price").is_not_null() & (pl.col("price") > Decimal("40.5")), "`price` > 40.5"),
    (pl.col("region") == "West", "`region` = 'West'"),
    (pl.col("region") == "it's", "`region` = 'it''s'"),
    (pl.col("region").is_in(["East", "Nord"]), "`region` IN ('East', 'Nord')"),
    (pl.col("region").str.starts_with("We"), "`region` LIKE 'We%' ESCAPE '!'"),
    (pl.col("region").str.ends_with("st"), "`region` LIKE '%st' ESCAPE '!'"),
    (pl.col("region").str.contains("%_", literal=True), "`region` LIKE '%!%!_%' ESCAPE '!'"),
    (pl.col("day") >= dt.date(2024, 2, 1), "`day` >= '2024-02-01'"),
    (
        pl.col("at") < dt.datetime(2024, 1, 10, 12, tzinfo=UTC),
        "`at` < '2024-01-10 12:00:00'",
    ),
]


@pytest.mark.parametrize(("predicate", "where"), PUSHED, ids=[w for _, w in PUSHED])
def test_filters_become_sql_and_answers_match(
    ds: dd.Dataset, domo_emulator: LocalDomo, predicate: Any, where: str
) -> None:
    got = dd.scan(ds).filter(predicate).select("id", "region").collect()
    expected = full(ds).filter(predicate).select("id", "region")
    assert sorted_by_id(got).equals(sorted_by_id(expected))
    (sql,) = sql_sent(domo_emulator)
    selected, _, condition = sql.partition(" FROM table WHERE ")
    # polars may reorder the parts of an AND; each is sent.
    for part in where.split(" AND "):
        assert part in condition
    # Only the columns the query needs are read.
    assert ("`day`" in selected) == ("`day`" in where)


TYPES = {"id": "LONG", "amount": "DOUBLE", "region": "STRING", "at": "DATETIME"}


@pytest.mark.parametrize(
    ("predicate", "sql", "complete"),
    [
        (~pl.col("amount").is_between(1.0, 2.5), "(NOT `amount` BETWEEN 1.0 AND 2.5)", True),
        (~(pl.col("id") == 3), "(NOT `id` = 3)", True),
        (~pl.col("region").is_null(), "(NOT `region` IS NULL)", True),
        (~(pl.col("region") == "x"), None, False),
        ((pl.col("id") == 1) | (pl.col("region") > "b"), None, False),
        ((pl.col("id") == 1) & (pl.col("region") > "b"), "`id` = 1", False),
        (pl.col("at") == dt.datetime(2024, 5, 6, 7, 8, 9), "`at` = '2024-05-06 07:08:09'", True),
        (pl.col("nope") == 1, None, False),
    ],
)
def test_predicate_translation(predicate: Any, sql: str | None, complete: bool) -> None:
    from domo_datasets._pushdown import predicate_to_sql

    assert predicate_to_sql(predicate, TYPES) == (sql, complete)


NOT_PUSHED = [
    # Text ordering and negated text tests: Domo's comparisons ignore case, polars' do not.
    pl.col("region") > "M",
    pl.col("region") != "West",
    ~(pl.col("region") == "West"),
    ~pl.col("id").is_in([1, 2]),  # polars: null is not in; SQL: unknown
    pl.col("region").str.to_lowercase() == "west",
    pl.col("region").str.contains("W.st"),  # a regular expression
    pl.col("region") == "back\\slash",
    pl.col("at") > dt.datetime(2024, 1, 2, 0, 0, 0, 500, tzinfo=UTC),
]


@pytest.mark.parametrize("predicate", NOT_PUSHED, ids=[str(p) for p in NOT_PUSHED])
def test_what_is_not_translated_is_applied_by_polars(
    ds: dd.Dataset, domo_emulator: LocalDomo, predicate: Any
) -> None:
    both = predicate & (pl.col("id") < 150)
    got = dd.scan(ds).filter(both).collect()
    expected = full(ds).filter(both)
    assert sorted_by_id(got).equals(sorted_by_id(expected))
    (sql,) = sql_sent(domo_emulator)
    # The translatable part is still pushed; the rest is not sent.
    assert sql.endswith("WHERE (`id` < 150)")


def test_head_becomes_limit_only_when_the_filter_is_all_sent(
    ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    got = dd.scan(ds).select("id", "day").head(5).collect()
    assert got.height == 5 and got.columns == ["id", "day"]
    assert sql_sent(domo_emulator)[-1] == "SELECT `id`, `day` FROM table LIMIT 5"

    # polars keeps a limit after a filter to itself; the answer is still right.
    domo_emulator.clear_requests()
    odd = pl.col("region").str.to_lowercase() == "west"
    got = dd.scan(ds).filter(odd & (pl.col("id") > 20)).head(3).collect()
    assert got.height == 3 and (got["id"] > 20).all()
    assert got["region"].str.to_lowercase().to_list() == ["west"] * 3

    domo_emulator.clear_requests()
    assert dd.scan(ds).head(0).collect().height == 0


def test_explain_scan_shows_the_sql_and_sends_nothing(
    ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    frame = dd.scan(ds).filter(pl.col("id") > 190).select("id")
    assert dd.explain_scan(frame) == ["SELECT `id` FROM table WHERE (`id` > 190)"]
    assert domo_emulator.requests(QUERY_PATH) == []
    assert frame.collect()["id"].to_list() == list(range(191, 201))


def test_sql_is_logged_at_debug(ds: dd.Dataset, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="domo_datasets.scan"):
        dd.scan(ds).filter(pl.col("id") == 3).select("region").collect()
    assert any("FROM table WHERE (`id` = 3)" in r.getMessage() for r in caplog.records)


async def test_collect_async(ds: dd.Dataset) -> None:
    got = await dd.scan(ds).filter(pl.col("id") <= 4).select("id").collect_async()
    assert sorted(got["id"].to_list()) == [1, 2, 3, 4]


# -- past the answer cap ---------------------------------------------------------------


def test_the_emulator_cuts_answers_at_the_cap(ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    domo_emulator.set_answer_row_cap(30)
    assert ds.query("SELECT * FROM table").num_rows == 30
    with pytest.raises(Exception, match="answerRowCap"):
        domo_emulator.set_answer_row_cap(0)


def test_reads_past_the_cap_page_over_a_unique_key(
    ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    domo_emulator.set_answer_row_cap(50)
    predicate = pl.col("id") >= 21
    got = dd.scan(ds, max_rows_per_query=50).filter(predicate).collect()
    expected = full(ds).filter(predicate)
    assert got.height == 180
    assert sorted_by_id(got).equals(sorted_by_id(expected))
    sent = sql_sent(domo_emulator)
    # The plain query comes back cut at the cap, so the rows are read again in pages.
    assert sent[0].endswith("FROM table WHERE (`id` >= 21)")
    pages = [s for s in sent if "ORDER BY `id` LIMIT" in s]
    assert len(pages) == 4  # 50 + 50 + 50 + 30
    assert pages[1].endswith("WHERE (`id` >= 21) AND `id` > 70 ORDER BY `id` LIMIT 50")


def test_an_unfiltered_read_past_the_cap_goes_through_the_export(
    ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    domo_emulator.set_answer_row_cap(50)
    got = dd.scan(ds, max_rows_per_query=50).collect()
    assert len(domo_emulator.requests(EXPORT_PATH)) == 1
    assert sorted_by_id(got).equals(sorted_by_id(full(ds)))
    # Nothing filters the rows and the metadata says 200 rows: no query is sent for them.
    assert not [s for s in sql_sent(domo_emulator) if s.startswith("SELECT `id`, `region`")]


def test_without_a_key_pages_are_ordered_by_every_column(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    # No LONG column identifies rows, and some rows are equal in every column.
    ds = domo_client.create_dataset("dupes", {"k": "STRING", "n": "LONG"})
    values = [("a" if i % 3 else "b", i % 4) for i in range(120)]
    ds.upload(pa.table({"k": [k for k, _ in values], "n": pa.array([n for _, n in values])}))
    domo_emulator.set_answer_row_cap(25)
    domo_emulator.clear_requests()
    predicate = pl.col("n") >= 1
    got = dd.scan(ds, max_rows_per_query=25).filter(predicate).collect()
    expected = sorted((k, n) for k, n in values if n >= 1)
    assert sorted(zip(got["k"].to_list(), got["n"].to_list(), strict=True)) == expected
    pages = [s for s in sql_sent(domo_emulator) if "OFFSET" in s]
    assert pages[0].endswith("ORDER BY `k`, `n` LIMIT 25 OFFSET 0")
    assert len(pages) == 4  # 90 rows


def test_a_named_key_must_be_a_long_column(ds: dd.Dataset) -> None:
    with pytest.raises(ValueError, match="nope"):
        dd.scan(ds, key="nope")
    with pytest.raises(ValueError, match="LONG"):
        dd.scan(ds, key="region")


# -- plain Arrow: ds.reader -------------------------------------------------------------


def test_reader_pushes_columns_condition_and_limit(
    ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    reader = ds.reader(columns=["id", "region"], where="`id` BETWEEN 11 AND 20", limit=4)
    assert reader.sql == ["SELECT `id`, `region` FROM table WHERE (`id` BETWEEN 11 AND 20) LIMIT 4"]
    assert domo_emulator.requests(QUERY_PATH) == []
    table = pa.RecordBatchReader.from_stream(reader).read_all()
    assert table.column_names == ["id", "region"]
    assert table.num_rows == 4 and all(11 <= i <= 20 for i in table.column("id").to_pylist())
    assert len(domo_emulator.requests(QUERY_PATH)) == 1
    with pytest.raises(RuntimeError, match="read"):
        reader.read_all()


def test_reader_feeds_polars_and_iterates(ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    frame = pl.DataFrame(ds.reader(columns=["id", "day"], where="`id` > 195"))
    assert sorted(frame["id"].to_list()) == [196, 197, 198, 199, 200]
    assert frame.schema["day"] == pl.Date
    tables = list(ds.reader(columns=["amount"], limit=3))
    assert sum(t.num_rows for t in tables) == 3
    assert all(t.column_names == ["amount"] for t in tables)


def test_reader_reads_past_the_cap(ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    domo_emulator.set_answer_row_cap(40)
    reader = ds.reader(columns=["region"], where="`id` > 10", max_rows_per_query=40)
    table = reader.read_all()
    expected = full(ds).filter(pl.col("id") > 10)["region"].to_list()
    assert sorted(table.column("region").to_pylist(), key=str) == sorted(expected, key=str)


def test_reader_checks_its_arguments_before_sending(
    ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    with pytest.raises(ValueError, match="nope"):
        ds.reader(columns=["id", "nope"])
    with pytest.raises(ValueError, match="limit"):
        ds.reader(limit=-1)
    with pytest.raises(TypeError):
        ds.reader(columns="id")  # type: ignore[arg-type]
    assert domo_emulator.requests(QUERY_PATH) == []
