"""domolibrary, unchanged, against the local Domo's instance API.

domolibrary builds ``https://{instance}.domo.com/api/...`` (and ``https://api.domo.com``)
URLs itself on httpx, so the only thing redirected is the host:
:meth:`LocalDomo.redirect_httpx` sends every httpx request for a Domo host to the
emulator. Nothing of domolibrary is patched or configured beyond what a user passes.

``ROUTES`` lists every dataset and stream route function of domolibrary and what happens
to it here: the test that runs it, or why it cannot run. ``test_every_route_is_listed``
keeps the list whole when domolibrary grows. Each test cross-checks through this
package's own client: what domolibrary writes is read back with ``domo_datasets``.

Runs when the ``compat`` extra is installed (``pip install '.[test,compat]'``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest

domolibrary = pytest.importorskip("domolibrary")
pd = pytest.importorskip("pandas")

import domo_datasets as dd  # noqa: E402
import domolibrary.classes.DomoTag as tag_classes  # noqa: E402
import domolibrary.routes.dataset as dataset_routes  # noqa: E402
import domolibrary.routes.stream as stream_routes  # noqa: E402
from domo_datasets.testing import LocalDomo  # noqa: E402
from domolibrary.client.DomoAuth import DomoDeveloperAuth, DomoTokenAuth  # noqa: E402

# What each domolibrary route does against the local Domo: "runs: <test>" or
# "cannot run: <why>".
ROUTES: dict[str, str] = {
    "dataset.query_dataset_public": "runs: test_query_through_the_public_api",
    "dataset.query_dataset_private": "runs: test_query_pages_through_the_instance_api",
    "dataset.get_dataset_by_id": "runs: test_create_read_and_delete",
    "dataset.get_schema": "runs: test_schema_read_and_altered",
    "dataset.alter_schema": "runs: test_schema_read_and_altered",
    "dataset.alter_schema_descriptions": (
        "cannot run: /api/query/v1/datasources/{id}/wrangle (column descriptions) is not "
        "part of the Datasets API contract the local Domo serves"
    ),
    "dataset.set_dataset_tags": "runs: test_tags_replace_add_and_remove",
    "dataset.upload_dataset_stage_1": "runs: test_staged_upload_index_and_partitions",
    "dataset.upload_dataset_stage_2_file": "runs: test_staged_upload_index_and_partitions",
    "dataset.upload_dataset_stage_2_df": "runs: test_staged_upload_index_and_partitions",
    "dataset.upload_dataset_stage_3": "runs: test_staged_upload_index_and_partitions",
    "dataset.index_dataset": "runs: test_staged_upload_index_and_partitions",
    "dataset.index_status": "runs: test_staged_upload_index_and_partitions",
    "dataset.list_partitions": "runs: test_staged_upload_index_and_partitions",
    "dataset.create": "runs: test_create_read_and_delete",
    "dataset.create_dataset_enterprise_tookit": (
        "cannot run: /api/executor/v1/datasets (Enterprise Toolkit datasets) is not part "
        "of the Datasets API contract"
    ),
    "dataset.delete_partition_stage_1": "runs: test_staged_upload_index_and_partitions",
    "dataset.delete_partition_stage_2": "runs: test_staged_upload_index_and_partitions",
    "dataset.delete": "runs: test_create_read_and_delete",
    "dataset.share_dataset": "runs: test_share_and_permissions",
    "dataset.get_permissions": "runs: test_share_and_permissions",
    "stream.get_streams": (
        "cannot run: listing every stream (GET /api/data/v1/streams/) is not part of the "
        "contract; domolibrary itself advises get_stream_by_id instead"
    ),
    "stream.get_stream_by_id": "runs: test_stream_read_update_and_execute",
    "stream.update_stream": "runs: test_stream_read_update_and_execute",
    "stream.create_stream": "runs: test_stream_read_update_and_execute",
    "stream.execute_stream": "runs: test_stream_read_update_and_execute",
}

COLUMNS = [{"type": "STRING", "name": "region"}, {"type": "LONG", "name": "units"}]


def test_every_route_is_listed() -> None:
    found = {
        f"{prefix}.{name}"
        for prefix, module in (("dataset", dataset_routes), ("stream", stream_routes))
        for name, fn in vars(module).items()
        if inspect.iscoroutinefunction(fn) and fn.__module__ == module.__name__
    }
    assert found == set(ROUTES)
    tests = {name for name, fn in globals().items() if name.startswith("test_") and callable(fn)}
    for route, outcome in ROUTES.items():
        kind, _, detail = outcome.partition(": ")
        assert kind in {"runs", "cannot run"}, route
        if kind == "runs":
            assert detail in tests, (route, detail)


@pytest.fixture
def local(domo_emulator: LocalDomo) -> Iterator[LocalDomo]:
    """The session's local Domo, emptied, with httpx's Domo hosts pointed at it."""
    domo_emulator.reset()
    domo_emulator.clear_faults()
    with domo_emulator.redirect_httpx():
        yield domo_emulator


def token_auth(domo: LocalDomo) -> Any:
    # Any instance name: every *.domo.com host goes to the local Domo.
    return DomoTokenAuth(domo_access_token=domo.token, domo_instance="acme")


async def create_dataset(auth: Any, name: str = "compat") -> str:
    res = await dataset_routes.create(auth=auth, dataset_name=name, schema={"columns": COLUMNS})
    # domolibrary's DomoDataset.create reads the id here, where the live service puts it.
    dataset_id: str = res.response["dataSource"]["dataSourceId"]
    return dataset_id


def seed(domo: LocalDomo, dataset_id: str, rows: list[tuple[str, int]]) -> None:
    """Rows written by this package's client, for domolibrary to read."""
    pa = pytest.importorskip("pyarrow")
    table = pa.table(
        {"region": [r for r, _ in rows], "units": pa.array([u for _, u in rows], pa.int64())}
    )
    domo.client().dataset(dataset_id).upload(table, mode="replace")


def read_rows(domo: LocalDomo, dataset_id: str) -> list[tuple[str, int]]:
    table = domo.client().dataset(dataset_id).query("SELECT * FROM table").to_pyarrow()
    return sorted(
        zip(table.column("region").to_pylist(), table.column("units").to_pylist(), strict=True)
    )


async def test_create_read_and_delete(local: LocalDomo) -> None:
    auth = token_auth(local)
    dataset_id = await create_dataset(auth, "made by domolibrary")
    res = await dataset_routes.get_dataset_by_id(dataset_id=dataset_id, auth=auth)
    assert res.response["id"] == dataset_id
    assert res.response["name"] == "made by domolibrary"
    # Live metadata carries the tags as a JSON-encoded list in a string.
    assert json.loads(res.response["tags"]) == []
    ours = local.client().dataset(dataset_id)
    assert [(c["name"], c["type"]) for c in ours.schema()] == [
        ("region", "STRING"),
        ("units", "LONG"),
    ]

    await dataset_routes.delete(auth=auth, dataset_id=dataset_id)
    with pytest.raises(dd.NotFoundError):
        ours.metadata()
    with pytest.raises(dataset_routes.DatasetNotFoundError):
        await dataset_routes.get_dataset_by_id(dataset_id=dataset_id, auth=auth)


async def test_query_pages_through_the_instance_api(local: LocalDomo) -> None:
    auth = token_auth(local)
    dataset_id = await create_dataset(auth)
    rows = [(f"r{i:03}", i) for i in range(250)]
    seed(local, dataset_id, rows)
    # domolibrary appends "limit n offset m" to the SQL and pages until a short page.
    res = await dataset_routes.query_dataset_private(
        auth=auth,
        dataset_id=dataset_id,
        sql="SELECT `region`, `units` FROM table ORDER BY `units`",
        loop_until_end=True,
        limit=100,
    )
    assert [(r["region"], r["units"]) for r in res.response] == rows


async def test_query_through_the_public_api(local: LocalDomo) -> None:
    auth = token_auth(local)
    dataset_id = await create_dataset(auth)
    seed(local, dataset_id, [("East", 3), ("West", 4), ("East", 5)])
    # The local Domo's login is its OAuth client: client id = email, secret = password.
    dev_auth = DomoDeveloperAuth(domo_client_id=local.email, domo_client_secret=local.password)
    res = await dataset_routes.query_dataset_public(
        dev_auth=dev_auth,
        dataset_id=dataset_id,
        sql="SELECT `region`, SUM(`units`) AS total FROM table GROUP BY `region` ORDER BY `region`",
    )
    assert res.response["rows"] == [["East", 8], ["West", 4]]
    # The token answer's `domain` names the instance; domolibrary keeps it.
    assert dev_auth.domo_instance == "local"


async def test_schema_read_and_altered(local: LocalDomo) -> None:
    auth = token_auth(local)
    dataset_id = await create_dataset(auth)
    res = await dataset_routes.get_schema(auth=auth, dataset_id=dataset_id)
    columns = res.response["tables"][0]["columns"]
    assert [(c["name"], c["type"]) for c in columns] == [("region", "STRING"), ("units", "LONG")]

    altered = [*COLUMNS, {"type": "DOUBLE", "name": "price"}]
    await dataset_routes.alter_schema(
        auth=auth, dataset_id=dataset_id, schema_obj={"columns": altered}
    )
    schema = local.client().dataset(dataset_id).schema()
    assert [(c["name"], c["type"]) for c in schema] == [
        ("region", "STRING"),
        ("units", "LONG"),
        ("price", "DOUBLE"),
    ]


async def test_tags_replace_add_and_remove(local: LocalDomo) -> None:
    auth = token_auth(local)
    dataset_id = await create_dataset(auth)
    ours = local.client().dataset(dataset_id)

    # POST .../tags replaces the list, as domolibrary's set_dataset_tags expects.
    await dataset_routes.set_dataset_tags(auth=auth, tag_ls=["a", "b"], dataset_id=dataset_id)
    await dataset_routes.set_dataset_tags(auth=auth, tag_ls=["b", "c"], dataset_id=dataset_id)
    assert ours.tags() == ["b", "c"]

    # domolibrary's tag class reads the tags from the metadata and posts whole lists
    # (through a set, so in no particular order).
    tags = tag_classes.DomoTags(auth=auth, dataset_id=dataset_id)
    assert sorted(await tags.get()) == ["b", "c"]
    await tags.add(add_tag_ls=["d"])
    assert sorted(ours.tags()) == ["b", "c", "d"]
    await tags.remove(remove_tag_ls=["b"])
    assert sorted(ours.tags()) == ["c", "d"]

    # And this package's add_tags keeps what domolibrary set.
    ours.add_tags(["e", "c"])
    assert sorted(await tags.get()) == ["c", "d", "e"]


async def test_staged_upload_index_and_partitions(local: LocalDomo, tmp_path: Any) -> None:
    auth = token_auth(local)
    dataset_id = await create_dataset(auth)
    ours = local.client().dataset(dataset_id)

    # A plain REPLACE in two parts: one from a DataFrame, one from a file; indexed after.
    res = await dataset_routes.upload_dataset_stage_1(auth=auth, dataset_id=dataset_id)
    upload_id = res.response
    frame = pd.DataFrame({"region": ["North", "South"], "units": [1, 2]})
    await dataset_routes.upload_dataset_stage_2_df(
        auth=auth, dataset_id=dataset_id, upload_id=upload_id, upload_df=frame, part_id=1
    )
    part = tmp_path / "part2.csv"
    part.write_text("East,3\n")
    with part.open() as data_file:
        await dataset_routes.upload_dataset_stage_2_file(
            auth=auth,
            dataset_id=dataset_id,
            upload_id=upload_id,
            data_file=data_file.read(),
            part_id=2,
        )
    await dataset_routes.upload_dataset_stage_3(
        auth=auth, dataset_id=dataset_id, upload_id=upload_id, update_method="REPLACE"
    )
    res = await dataset_routes.index_dataset(auth=auth, dataset_id=dataset_id)
    index_id = res.response["indexId"]
    for _ in range(100):
        status = await dataset_routes.index_status(
            auth=auth, dataset_id=dataset_id, index_id=index_id
        )
        if status.response["status"] == "COMPLETE":
            break
        await asyncio.sleep(0.05)
    assert status.response["status"] == "COMPLETE"
    assert read_rows(local, dataset_id) == [("East", 3), ("North", 1), ("South", 2)]

    # Partitions: two tags, each a staged APPEND with its tag.
    for tag, rows in (("2024-01", "West,10\nWest,11\n"), ("2024-02", "West,20\n")):
        res = await dataset_routes.upload_dataset_stage_1(
            auth=auth, dataset_id=dataset_id, partition_tag=tag
        )
        await dataset_routes.upload_dataset_stage_2_file(
            auth=auth, dataset_id=dataset_id, upload_id=res.response, data_file=rows, part_id=1
        )
        await dataset_routes.upload_dataset_stage_3(
            auth=auth,
            dataset_id=dataset_id,
            upload_id=res.response,
            partition_tag=tag,
            is_index=True,
        )
    res = await dataset_routes.list_partitions(auth=auth, dataset_id=dataset_id)
    assert sorted(p["partitionId"] for p in res.response) == ["2024-01", "2024-02"]

    # Deleting a partition is two calls: its data, then the tag itself.
    await dataset_routes.delete_partition_stage_1(
        auth=auth, dataset_id=dataset_id, dataset_partition_id="2024-01"
    )
    await dataset_routes.delete_partition_stage_2(
        auth=auth, dataset_id=dataset_id, dataset_partition_id="2024-01"
    )
    res = await dataset_routes.list_partitions(auth=auth, dataset_id=dataset_id)
    assert [p["partitionId"] for p in res.response] == ["2024-02"]
    assert read_rows(local, dataset_id) == [
        ("East", 3),
        ("North", 1),
        ("South", 2),
        ("West", 20),
    ]
    assert [p["partitionId"] for p in ours.partitions()] == ["2024-02"]


async def test_share_and_permissions(local: LocalDomo) -> None:
    auth = token_auth(local)
    dataset_id = await create_dataset(auth)
    local.add_user(7, name="Ann", email="ann@x.test", token="token-ann")
    body = dataset_routes.generate_share_dataset_payload(
        entity_type="USER",
        entity_id=7,
        access_level=dataset_routes.ShareDataset_AccessLevelEnum.CAN_EDIT,
    )
    await dataset_routes.share_dataset(auth=auth, dataset_id=dataset_id, body=body)
    res = await dataset_routes.get_permissions(auth=auth, dataset_id=dataset_id)
    access = {str(p["id"]): p["accessLevel"] for p in res.response["list"]}
    assert access["7"] == "CAN_EDIT"
    # The shared user can now write through this package.
    ann = dd.Client(local.url, token="token-ann").dataset(dataset_id)
    ann.append_rows([{"region": "Ann's", "units": 1}])
    assert read_rows(local, dataset_id) == [("Ann's", 1)]


async def test_stream_read_update_and_execute(local: LocalDomo) -> None:
    auth = token_auth(local)
    body = {
        "transport": {"type": "CONNECTOR", "description": "com.domo.connector.x", "version": "1"},
        "configuration": [
            {"name": "query", "value": "SELECT 1", "type": "string", "category": "METADATA"}
        ],
        "account": {"id": 3},
        "updateMethod": "APPEND",
        "dataProvider": {"key": "postgresql"},
        "dataSource": {"name": "from a connector", "description": "d"},
        # The local Domo has no connector to discover the schema from: it is sent.
        "schemaDefinition": {"columns": COLUMNS},
    }
    res = await stream_routes.create_stream(auth=auth, body=body)
    stream_id = res.response["id"]
    dataset_id = res.response["dataSource"]["id"]
    assert local.client().dataset(dataset_id).metadata()["name"] == "from a connector"

    res = await stream_routes.get_stream_by_id(auth=auth, stream_id=stream_id)
    assert res.response["updateMethod"] == "APPEND"
    res = await stream_routes.update_stream(
        auth=auth, stream_id=stream_id, body={"updateMethod": "REPLACE"}
    )
    res = await stream_routes.get_stream_by_id(auth=auth, stream_id=stream_id)
    assert res.response["updateMethod"] == "REPLACE"

    res = await stream_routes.execute_stream(auth=auth, stream_id=stream_id)
    assert res.response["streamId"] == stream_id
