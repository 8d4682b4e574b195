"""Data versions, partitions, indexes and connector streams, through the public API against
the emulator, each reading back its effect."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import domo_datasets as dd
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo

SCHEMA = {"id": "LONG", "day": "STRING", "amount": "DOUBLE"}


def _rows(ids: range, day: str, amount: float = 1.0) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(list(ids), pa.int64()),
            "day": [day] * len(ids),
            "amount": [amount] * len(ids),
        }
    )


def _ids(ds: dd.Dataset) -> list[int]:
    table = ds.query("SELECT id FROM table ORDER BY id").to_pyarrow()
    return table.column("id").to_pylist()


def _exported_ids(ds: dd.Dataset) -> list[int]:
    table = pa.table(ds.export())
    return sorted(table.column("id").to_pylist())


def _partitioned(client: dd.Client, days: dict[str, range]) -> dd.Dataset:
    ds = client.create_dataset("daily", SCHEMA)
    for day, ids in days.items():
        ds.upload(_rows(ids, day), partition=day)
    return ds


# ---- data versions ----


def test_each_upload_is_a_data_version(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("versions", SCHEMA)
    first = ds.upload(_rows(range(3), "d1"))
    second = ds.upload(_rows(range(3, 5), "d2"), partition="d2")
    versions = ds.data_versions()
    assert [v["dataVersionId"] for v in versions] == [first["upload_id"], second["upload_id"]]
    assert [v["rowCount"] for v in versions] == [3, 2]
    assert versions[1]["dataTag"] == "d2"
    assert all(v["status"] == "ACTIVE" and not v["deleted"] for v in versions)
    # Dataset times are epoch milliseconds.
    assert versions[0]["createTime"] > 1_000_000_000_000

    table = ds.data_versions_table().to_pyarrow()
    assert table.num_rows == 2
    assert table.column("row_count").to_pylist() == [3, 2]
    assert table.schema.field("created").type == pa.timestamp("ms", tz="UTC")


async def test_data_versions_async(domo_client: dd.Client) -> None:
    ds = await domo_client.create_dataset_async("versions", SCHEMA)
    await ds.upload_async(_rows(range(2), "d1"))
    versions = await ds.data_versions_async()
    assert len(versions) == 1
    table = await ds.data_versions_table_async()
    assert table.num_rows == 1


def test_magic_data_versions(domo_client: dd.Client) -> None:
    ds = _partitioned(domo_client, {"d1": range(2), "d2": range(2, 5)})
    versions = ds.magic_data_versions()
    assert [v["dataTag"] for v in versions] == ["d1", "d2"]
    assert [v["rowCount"] for v in versions] == [2, 3]
    assert all(v["dataSourceId"] == ds.id for v in versions)
    # Bounded: at most max_items, even across pages.
    assert len(ds.magic_data_versions(max_items=1)) == 1
    assert len(asyncio.run(ds.magic_data_versions_async())) == 2
    with pytest.raises(ValueError):
        ds.magic_data_versions(expression=" ")


def test_data_version_delete_removes_rows_from_queries_and_exports(
    domo_client: dd.Client,
) -> None:
    ds = _partitioned(domo_client, {"d1": range(0, 2), "d2": range(2, 4)})
    answer = ds.delete_data_version("d1")
    assert answer["rowsDeleted"] == 2
    assert _ids(ds) == [2, 3]
    assert _exported_ids(ds) == [2, 3]
    statuses = {v["dataTag"]: v["status"] for v in ds.data_versions()}
    assert statuses == {"d1": "DELETED", "d2": "ACTIVE"}
    # Partitions against deleted versions are no longer listed.
    assert [p["partitionId"] for p in ds.partitions()] == ["d2"]


def test_data_version_delete_by_version_id(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("by id", SCHEMA)
    ds.upload(_rows(range(2), "x"))
    second = ds.upload(_rows(range(2, 5), "y"))
    ds.delete_data_version(second["upload_id"])
    assert _ids(ds) == [0, 1]
    assert ds.metadata()["rowCount"] == 2


async def test_data_version_delete_async_and_unknown(domo_client: dd.Client) -> None:
    ds = _partitioned(domo_client, {"d1": range(2)})
    with pytest.raises(dd.NotFoundError):
        await ds.delete_data_version_async("nope")
    await ds.delete_data_version_async("d1")
    assert _ids(ds) == []


# ---- partitions ----


def test_partition_list_and_search(domo_client: dd.Client) -> None:
    ds = _partitioned(domo_client, {"2024-01-01": range(0, 3), "2024-01-02": range(3, 4)})
    ds.upload(_rows(range(4, 6), "2024-01-03"), partition="2024-01-03")
    assert sorted(p["partitionId"] for p in ds.partitions()) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]
    newest_first = ds.search_partitions()
    assert newest_first[0]["partitionId"] == "2024-01-03"
    by_rows = ds.search_partitions(sort="rowcount", descending=False)
    assert [p["rowCount"] for p in by_rows] == [1, 2, 3]
    page = ds.search_partitions(sort="partitionid", descending=False, limit=1, offset=1)
    assert [p["partitionId"] for p in page] == ["2024-01-02"]
    filtered = ds.search_partitions(sort="partitionid", min="2024-01-02", max="2024-01-02")
    assert [p["partitionId"] for p in filtered] == ["2024-01-02"]
    big = ds.search_partitions(sort="rowcount", min=2)
    assert sorted(p["partitionId"] for p in big) == ["2024-01-01", "2024-01-03"]

    table = ds.partitions_table(sort="partitionid", descending=False).to_pyarrow()
    assert table.column("partition_id").to_pylist() == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert table.column("row_count").to_pylist() == [3, 1, 2]
    assert table.schema.field("date_completed").type == pa.timestamp("ms", tz="UTC")
    assert ds.partitions_table(max_items=2).num_rows == 2


def test_partitions_table_reads_until_a_short_page(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = _partitioned(domo_client, {"a": range(1), "b": range(1, 2), "c": range(2, 3)})
    domo_emulator.clear_requests()
    assert ds.partitions_table().num_rows == 3
    # Fewer than a page (100): one request. Multi-page logic has Rust unit tests.
    assert len(domo_emulator.requests("/api/query/v1/datasources/*/partition/list")) == 1


def test_partition_search_is_checked_before_sending(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("checked", SCHEMA)
    domo_emulator.clear_requests()
    with pytest.raises(ValueError, match="sort"):
        ds.search_partitions(sort="size")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        ds.search_partitions(limit=0)
    with pytest.raises(ValueError):
        ds.search_partitions(min=[1])  # type: ignore[arg-type]
    assert domo_emulator.requests() == []


async def test_partitions_async(domo_client: dd.Client) -> None:
    ds = _partitioned(domo_client, {"a": range(2), "b": range(2, 3)})
    assert len(await ds.partitions_async()) == 2
    page = await ds.search_partitions_async(sort="partitionid", descending=False, limit=1)
    assert [p["partitionId"] for p in page] == ["a"]
    table = await ds.partitions_table_async()
    assert table.num_rows == 2
    await ds.delete_partition_async("a")
    assert _ids(ds) == [2]


def test_delete_partition_removes_its_rows(domo_client: dd.Client) -> None:
    ds = _partitioned(domo_client, {"a": range(0, 2), "b": range(2, 5)})
    ds.delete_partition("b")
    assert _ids(ds) == [0, 1]
    assert _exported_ids(ds) == [0, 1]
    assert [p["partitionId"] for p in ds.partitions()] == ["a"]
    assert ds.metadata()["rowCount"] == 2
    with pytest.raises(dd.NotFoundError) as info:
        ds.delete_partition("b")
    assert info.value.status == 404
    with pytest.raises(LookupError):
        ds.delete_partition("never-there")
    with pytest.raises(ValueError):
        ds.delete_partition(" ")


def test_incremental_load_scenario(domo_client: dd.Client) -> None:
    """Three daily partitions loaded, one restated, one deleted."""
    ds = domo_client.create_dataset("incremental", SCHEMA)
    ds.upload(_rows(range(0, 3), "2024-03-01", 10.0), partition="2024-03-01")
    ds.upload(_rows(range(3, 6), "2024-03-02", 20.0), partition="2024-03-02")
    ds.upload(_rows(range(6, 9), "2024-03-03", 30.0), partition="2024-03-03")
    # Day 2 arrives again, corrected: two rows with new amounts replace its three.
    ds.upload(_rows(range(3, 5), "2024-03-02", 25.0), partition="2024-03-02")
    # Day 1 is withdrawn.
    ds.delete_partition("2024-03-01")

    got = ds.query("SELECT id, day, amount FROM table ORDER BY id").to_pyarrow().to_pylist()
    assert got == [
        {"id": 3, "day": "2024-03-02", "amount": 25.0},
        {"id": 4, "day": "2024-03-02", "amount": 25.0},
        {"id": 6, "day": "2024-03-03", "amount": 30.0},
        {"id": 7, "day": "2024-03-03", "amount": 30.0},
        {"id": 8, "day": "2024-03-03", "amount": 30.0},
    ]
    summary = ds.query("SELECT day, COUNT(*) AS n FROM table GROUP BY day ORDER BY day")
    assert summary.to_pyarrow().to_pylist() == [
        {"day": "2024-03-02", "n": 2},
        {"day": "2024-03-03", "n": 3},
    ]
    assert _exported_ids(ds) == [3, 4, 6, 7, 8]
    parts = ds.partitions_table(sort="partitionid", descending=False).to_pyarrow()
    assert parts.column("partition_id").to_pylist() == ["2024-03-02", "2024-03-03"]
    assert parts.column("row_count").to_pylist() == [2, 3]
    statuses = [v["status"] for v in ds.data_versions()]
    assert statuses == ["DELETED", "ACTIVE", "ACTIVE", "ACTIVE"]


# ---- indexes ----


def test_index_makes_unindexed_uploads_queryable(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    domo_emulator.set_index_delay(0.3)
    ds = domo_client.create_dataset("unindexed", SCHEMA)
    ds.upload(_rows(range(4), "d"), index=False)
    assert _ids(ds) == []
    request = ds.index()
    assert _ids(ds) == [0, 1, 2, 3]
    index_id = request["indexId"]
    assert request["status"] in ("QUEUED", "INDEXING")
    assert ds.index_status(index_id)["status"] in ("QUEUED", "INDEXING")
    done = ds.wait_for_index(index_id, timeout=10)
    assert done["status"] == "COMPLETE"
    assert ds.index_status(str(index_id))["status"] == "COMPLETE"

    again = ds.reindex(index_id, data_ids=[1])
    assert again["reindex"] is True
    assert again["dataIds"] == [1]
    assert again["status"] != "COMPLETE"
    assert ds.wait_for_index(index_id, timeout=10)["status"] == "COMPLETE"


def test_index_errors(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = domo_client.create_dataset("idx", SCHEMA)
    with pytest.raises(dd.NotFoundError):
        ds.index_status(999)
    with pytest.raises(dd.NotFoundError):
        ds.reindex(999)
    domo_emulator.clear_requests()
    with pytest.raises(ValueError):
        ds.wait_for_index(1, timeout=0)
    with pytest.raises(ValueError):
        ds.index(data_ids=[-1])
    with pytest.raises(TypeError):
        ds.index_status(1.5)  # type: ignore[arg-type]
    assert domo_emulator.requests() == []


def test_wait_for_index_times_out(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    domo_emulator.set_index_delay(30)
    ds = domo_client.create_dataset("slow", SCHEMA)
    index_id = ds.index()["indexId"]
    started = time.monotonic()
    with pytest.raises(dd.TimeoutError) as info:
        ds.wait_for_index(index_id, timeout=0.5)
    assert time.monotonic() - started < 5
    assert "did not complete" in str(info.value)
    assert isinstance(info.value, TimeoutError)
    domo_emulator.set_index_delay(0.6)


async def test_index_async(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    domo_emulator.set_index_delay(0.2)
    ds = await domo_client.create_dataset_async("idx async", SCHEMA)
    await ds.upload_async(_rows(range(2), "d"), index=False)
    request = await ds.index_async()
    status = await ds.index_status_async(request["indexId"])
    assert status["indexId"] == request["indexId"]
    done = await ds.wait_for_index_async(request["indexId"], timeout=10)
    assert done["status"] == "COMPLETE"
    again = await ds.reindex_async(request["indexId"])
    assert again["reindex"] is True
    assert _ids(ds) == [0, 1]


def test_wait_for_index_with_asyncio_run(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("run", SCHEMA)
    request = ds.index()
    assert asyncio.run(ds.wait_for_index_async(request["indexId"], timeout=10))["status"] == (
        "COMPLETE"
    )


# ---- streams ----

SNOWFLAKE: dict[str, Any] = {
    "provider": "snowflake-unload-v2",
    "configuration": {"query": "SELECT * FROM sales"},
    "account": 3,
    "transport": {
        "type": "CONNECTOR",
        "description": "com.domo.connector.snowflakeunloadv2",
        "version": "1",
    },
}


def test_create_get_update_stream(domo_client: dd.Client) -> None:
    stream = domo_client.create_stream(
        "sales feed",
        description="nightly",
        update_method="append",
        schedule={"type": "DAY", "hour": 6, "minute": 30},
        schema=SCHEMA,
        **SNOWFLAKE,
    )
    info = stream.get()
    assert info["id"] == stream.id
    assert info["updateMethod"] == "APPEND"
    assert info["dataProvider"]["key"] == "snowflake-unload-v2"
    assert info["account"] == {"id": 3}
    assert info["transport"]["version"] == "1"
    assert info["dataSource"]["name"] == "sales feed"
    assert info["configuration"] == [
        {
            "name": "query",
            "value": "SELECT * FROM sales",
            "type": "string",
            "category": "METADATA",
            "streamId": stream.id,
        }
    ]
    schedule = json.loads(info["advancedScheduleJson"])
    assert schedule == {"type": "DAY", "hour": 6, "minute": 30, "timezone": "UTC"}
    # Stream times in epoch seconds; dataset times in epoch milliseconds.
    now = time.time()
    assert abs(info["createdAt"] - now) < 600
    assert abs(info["dataSource"]["created"] / 1000 - now) < 600

    ds = domo_client.dataset(info["dataSource"]["id"])
    assert ds.stream().id == stream.id
    assert [c["name"] for c in ds.schema()] == list(SCHEMA)

    stream.update(
        update_method="REPLACE",
        schedule={"type": "MINUTE", "interval": 30},
        configuration={"query": "SELECT 1"},
        name="sales feed v2",
    )
    info = stream.get()
    assert info["updateMethod"] == "REPLACE"
    assert json.loads(info["advancedScheduleJson"])["interval"] == 30
    assert info["configuration"][0]["value"] == "SELECT 1"
    assert info["dataSource"]["name"] == "sales feed v2"
    # What was not changed stays.
    assert info["account"] == {"id": 3}
    assert info["dataProvider"]["key"] == "snowflake-unload-v2"


def test_execute_records_an_execution_in_the_history(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("fed", SCHEMA)
    ds.upload(_rows(range(7), "d"))
    stream = ds.stream()
    before = stream.executions()
    run = stream.execute()
    assert run["currentState"] == "SUCCESS"
    assert run["rowsInserted"] == 7
    history = stream.executions()
    assert len(history) == len(before) + 1
    newest = history[0]
    assert newest["executionId"] == run["executionId"]
    assert newest["rowsInserted"] == 7
    assert newest["bytesInserted"] > 0
    assert abs(newest["startedAt"] - time.time()) < 600  # epoch seconds
    assert stream.get()["lastExecution"]["executionId"] == run["executionId"]
    table = stream.executions_table().to_pyarrow()
    assert table.column("execution_id").to_pylist()[0] == run["executionId"]
    assert table.column("rows_inserted").to_pylist()[0] == 7
    # The data is what it was: the emulator's connector re-reads it.
    assert _ids(ds) == list(range(7))


async def test_streams_async(domo_client: dd.Client) -> None:
    stream = await domo_client.create_stream_async("async feed", schema=SCHEMA, **SNOWFLAKE)
    info = await stream.get_async()
    assert info["updateMethod"] == "REPLACE"
    await stream.update_async(update_method="APPEND")
    assert (await stream.get_async())["updateMethod"] == "APPEND"
    run = await stream.execute_async()
    history = await stream.executions_async()
    assert history[0]["executionId"] == run["executionId"]
    assert (await stream.executions_table_async()).num_rows == len(history)
    ds = domo_client.dataset(info["dataSource"]["id"])
    assert (await ds.stream_async()).id == stream.id


def test_unknown_stream(domo_client: dd.Client) -> None:
    stream = domo_client.stream(987654)
    with pytest.raises(dd.NotFoundError):
        stream.get()
    with pytest.raises(dd.NotFoundError):
        stream.execute()
    with pytest.raises(dd.NotFoundError):
        stream.executions()
    with pytest.raises(dd.NotFoundError):
        stream.update(update_method="APPEND")
    with pytest.raises(dd.NotFoundError):
        asyncio.run(stream.get_async())


@pytest.mark.parametrize(
    "schedule",
    [
        {},
        {"type": "SOMETIMES"},
        {"type": "MINUTE"},
        {"type": "HOUR", "interval": 0},
        {"type": "DAY", "hour": 24},
        {"type": "DAY", "timezone": ""},
        "not json",
        [1, 2],
    ],
)
def test_invalid_schedule_is_refused_before_sending(
    domo_client: dd.Client, domo_emulator: LocalDomo, schedule: Any
) -> None:
    domo_emulator.clear_requests()
    with pytest.raises(ValueError, match="schedule"):
        domo_client.create_stream("bad", schedule=schedule, schema=SCHEMA, **SNOWFLAKE)
    stream = domo_client.stream(1001)
    with pytest.raises(ValueError, match="schedule"):
        stream.update(schedule=schedule)
    with pytest.raises(ValueError, match="schedule"):
        asyncio.run(stream.update_async(schedule=schedule))
    assert domo_emulator.requests() == []


def test_create_stream_arguments_are_checked(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    domo_emulator.clear_requests()
    base: dict[str, Any] = dict(SNOWFLAKE, schema=SCHEMA)
    with pytest.raises(ValueError, match="update method"):
        domo_client.create_stream("x", **dict(base, update_method="MERGE"))
    with pytest.raises(ValueError, match="provider"):
        domo_client.create_stream("x", **dict(base, provider=""))
    with pytest.raises(ValueError, match="configuration"):
        domo_client.create_stream("x", **dict(base, configuration=[{"value": "v"}]))
    with pytest.raises(ValueError, match="account"):
        domo_client.create_stream("x", **dict(base, account=[1]))
    with pytest.raises(ValueError, match="name"):
        domo_client.create_stream(" ", **base)
    assert domo_emulator.requests() == []
