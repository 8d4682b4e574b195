"""Streaming exports: iteration, Arrow stream consumers, async iteration, early close."""

from __future__ import annotations

import domo_datasets as dd
import polars as pl
import polars.testing
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo
from support import EXPORT_PATH, all_types_table, assert_tables_equal, sort_by_id


@pytest.fixture
def exported_ds(all_types_ds: dd.Dataset) -> tuple[dd.Dataset, pa.Table]:
    """The all-types dataset holding 250 rows, and those rows as uploaded."""
    expected = all_types_table(250)
    all_types_ds.upload(expected)
    return all_types_ds, expected


def test_export_iterates_tables_in_batches(
    exported_ds: tuple[dd.Dataset, pa.Table], domo_emulator: LocalDomo
) -> None:
    ds, expected = exported_ds
    domo_emulator.clear_requests()
    stream = ds.export(batch_size=64)
    assert isinstance(stream, dd.BatchStream)
    assert stream.column_names == expected.column_names
    batches = list(stream)
    assert len(batches) >= 4  # 250 rows in batches of at most 64
    for batch in batches:
        assert isinstance(batch, dd.Table)
        assert 0 < batch.num_rows <= 64
    got = pa.concat_tables([b.to_pyarrow() for b in batches])
    assert_tables_equal(sort_by_id(got), expected)
    [request] = domo_emulator.requests(EXPORT_PATH, "GET")
    assert request["status"] == 200
    assert request["auth"] == "developer"


def test_export_to_pyarrow_reader(exported_ds: tuple[dd.Dataset, pa.Table]) -> None:
    ds, expected = exported_ds
    reader = pa.RecordBatchReader.from_stream(ds.export(batch_size=100))
    assert reader.schema.equals(expected.schema)
    assert_tables_equal(sort_by_id(reader.read_all()), expected)


def test_export_to_polars(exported_ds: tuple[dd.Dataset, pa.Table]) -> None:
    ds, expected = exported_ds
    frame = pl.DataFrame(ds.export())
    polars.testing.assert_frame_equal(frame.sort("id"), pl.DataFrame(expected))


def test_export_read_all(exported_ds: tuple[dd.Dataset, pa.Table]) -> None:
    ds, expected = exported_ds
    table = ds.export().read_all()
    assert isinstance(table, dd.Table)
    assert table.num_rows == 250
    assert_tables_equal(sort_by_id(table.to_pyarrow()), expected)


def test_export_of_empty_dataset_is_typed(all_types_ds: dd.Dataset) -> None:
    table = all_types_ds.export().read_all().to_pyarrow()
    assert table.num_rows == 0
    assert table.schema.equals(all_types_table(0).schema)


async def test_export_async_iteration(exported_ds: tuple[dd.Dataset, pa.Table]) -> None:
    ds, expected = exported_ds
    stream = await ds.export_async(batch_size=50)
    batches = [batch async for batch in stream]
    assert len(batches) >= 5
    got = pa.concat_tables([b.to_pyarrow() for b in batches])
    assert_tables_equal(sort_by_id(got), expected)


async def test_export_async_read_all(exported_ds: tuple[dd.Dataset, pa.Table]) -> None:
    ds, expected = exported_ds
    async for _ in await ds.export_async():
        pass  # drain once, then export again and collect
    table = (await ds.export_async()).read_all()
    assert_tables_equal(sort_by_id(table.to_pyarrow()), expected)


def test_export_closed_early_releases_the_client(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    n = 60_000
    ds = domo_client.create_dataset("close early", {"id": "LONG", "s": "STRING"})
    ds.upload(pa.table({"id": pa.array(range(n), pa.int64()), "s": [f"row {i}" for i in range(n)]}))
    for _ in range(3):
        stream = ds.export(batch_size=1000)
        first = next(stream)
        assert 0 < first.num_rows <= 1000
        stream.close()
        stream.close()  # idempotent
    with ds.export(batch_size=500) as stream:
        assert 0 < next(iter(stream)).num_rows <= 500
    # The connections were given back: the same client keeps working.
    assert ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow().to_pylist() == [{"n": n}]
    assert len(domo_emulator.requests(EXPORT_PATH, "GET")) == 4


def test_export_twice_gives_independent_streams(exported_ds: tuple[dd.Dataset, pa.Table]) -> None:
    ds, expected = exported_ds
    a = ds.export(batch_size=100)
    b = ds.export(batch_size=100)
    got_b = b.read_all().to_pyarrow()
    got_a = a.read_all().to_pyarrow()
    assert_tables_equal(sort_by_id(got_a), expected)
    assert_tables_equal(sort_by_id(got_b), expected)


def test_export_unknown_dataset_raises_not_found(domo_client: dd.Client) -> None:
    ds = domo_client.dataset("00000000-0000-0000-0000-000000000000")
    with pytest.raises(dd.NotFoundError) as info:
        ds.export().read_all()
    assert info.value.status == 404


async def test_export_async_unknown_dataset_raises_not_found(domo_client: dd.Client) -> None:
    ds = domo_client.dataset("00000000-0000-0000-0000-000000000000")
    with pytest.raises(dd.NotFoundError):
        stream = await ds.export_async()
        async for _ in stream:
            pass
