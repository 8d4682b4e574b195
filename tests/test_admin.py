"""Dataset administration through the public API against the emulator: access,
ownership, tags, properties, details, history, cards, stored values and schema changes.
Every call runs in its sync and its ``_async`` form; each write is read back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import domo_datasets as dd
import pytest
from domo_datasets.testing import LocalDomo

SMALL = {"id": "LONG", "code": "STRING"}
MISSING = "00000000-0000-4000-8000-000000000000"

Call = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest) -> Call:
    """``call(obj, "name", *args, **kw)`` runs ``obj.name(...)`` or ``obj.name_async(...)``."""

    def run(obj: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if request.param == "sync":
            return getattr(obj, name)(*args, **kwargs)
        return asyncio.run(getattr(obj, f"{name}_async")(*args, **kwargs))

    return run


def _dataset(client: dd.Client) -> dd.Dataset:
    ds = client.create_dataset("admin", SMALL)
    ds.append_rows([{"id": 1, "code": "10"}, {"id": 2, "code": "x"}])
    return ds


def _user(domo: LocalDomo, uid: str = "42") -> dd.Client:
    domo.add_user(uid, name=f"User {uid}", email=f"u{uid}@x.test", token=f"token-{uid}")
    return dd.Client(domo.url, token=f"token-{uid}")


def _nothing_sent(domo: LocalDomo, fn: Callable[[], Any]) -> None:
    domo.clear_requests()
    with pytest.raises(ValueError):
        fn()
    assert domo.requests() == []


# -- tags ---------------------------------------------------------------------------------


def test_tags_add_and_remove(domo_client: dd.Client, domo_emulator: LocalDomo, call: Call) -> None:
    ds = _dataset(domo_client)
    assert call(ds, "tags") == []
    call(ds, "add_tags", ["finance", "daily"])
    call(ds, "add_tags", ["daily", "eu"])
    assert call(ds, "tags") == ["finance", "daily", "eu"]
    call(ds, "remove_tags", ["daily"])
    assert call(ds, "tags") == ["finance", "eu"]
    _nothing_sent(domo_emulator, lambda: call(ds, "add_tags", ["ok", ""]))
    _nothing_sent(domo_emulator, lambda: call(ds, "remove_tags", []))
    with pytest.raises(dd.NotFoundError):
        call(domo_client.dataset(MISSING), "tags")
    with pytest.raises(dd.ForbiddenError):
        call(_user(domo_emulator).dataset(ds.id), "add_tags", ["x"])


# -- access -------------------------------------------------------------------------------


def test_share_gives_access_and_revoke_takes_it_back(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = _dataset(domo_client)
    other = _user(domo_emulator).dataset(ds.id)
    with pytest.raises(dd.ForbiddenError) as info:
        other.metadata()
    assert info.value.status == 403 and info.value.toe
    call(ds, "share", [{"id": 42, "access_level": "CAN_VIEW"}], send_email=True)
    assert other.query("SELECT COUNT(*) AS n FROM table").to_pyarrow().to_pylist() == [{"n": 2}]
    entries = call(ds, "permissions")
    assert entries[0]["accessLevel"] == "OWNER"
    assert {"id": "42", "type": "USER", "name": "User 42", "accessLevel": "CAN_VIEW"} in entries
    assert any("email sent" in h["details"] for h in ds.history())
    # Viewing is not editing: no uploads, no schema change, no sharing.
    with pytest.raises(dd.ForbiddenError):
        other.append_rows([{"id": 3, "code": "y"}])
    with pytest.raises(dd.ForbiddenError):
        other.alter_schema({"id": "LONG", "code": "STRING", "more": "DATE"})
    with pytest.raises(dd.ForbiddenError):
        other.share([{"id": 42, "access_level": "CO_OWNER"}])
    call(ds, "revoke", "USER", "42")
    assert all(e["id"] != "42" for e in call(ds, "permissions"))
    with pytest.raises(dd.ForbiddenError):
        other.query("SELECT * FROM table")


def test_update_permissions_lets_an_editor_write(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = _dataset(domo_client)
    other = _user(domo_emulator).dataset(ds.id)
    call(ds, "update_permissions", [{"id": "42", "type": "USER", "accessLevel": "CAN_EDIT"}])
    assert {"42": "CAN_EDIT"} == {e["id"]: e["accessLevel"] for e in ds.permissions()[1:]}
    other.append_rows([{"id": 3, "code": "y"}])
    assert ds.metadata()["rowCount"] == 3
    call(ds, "update_permissions", [{"id": "team", "type": "GROUP", "access_level": "CAN_VIEW"}])
    assert {"id": "team", "type": "GROUP", "name": "team", "accessLevel": "CAN_VIEW"} in (
        ds.permissions()
    )


def test_remove_user_and_users(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = _dataset(domo_client)
    for uid in ("7", "8", "9"):
        _user(domo_emulator, uid)
    ds.share([{"id": u, "access_level": "CAN_VIEW"} for u in ("7", "8", "9")])
    call(ds, "remove_user", 7)
    assert [e["id"] for e in ds.permissions()[1:]] == ["8", "9"]
    call(ds, "remove_users", ["8", 9])
    assert [e["id"] for e in ds.permissions()] == ["1"]
    with pytest.raises(dd.ForbiddenError):
        dd.Client(domo_emulator.url, token="token-8").dataset(ds.id).schema()
    with pytest.raises(dd.NotFoundError):
        call(domo_client.dataset(MISSING), "remove_user", "7")


def test_access_input_is_checked_before_sending(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = domo_client.dataset(MISSING)
    bad: list[Callable[[], Any]] = [
        lambda: call(ds, "share", [{"id": "1", "access_level": "ADMIN"}]),
        lambda: call(ds, "share", [{"id": "1", "type": "ROBOT", "access_level": "CAN_VIEW"}]),
        lambda: call(ds, "update_permissions", [{"id": "a/b", "access_level": "CAN_VIEW"}]),
        lambda: call(ds, "update_permissions", []),
        lambda: call(ds, "revoke", "PAGE", "1"),
        lambda: call(ds, "revoke", "USER", ""),
        lambda: call(ds, "remove_user", "x/y"),
        lambda: call(ds, "remove_users", []),
        lambda: call(ds, "set_owner", "1", owner_type="CARD"),
    ]
    for fn in bad:
        _nothing_sent(domo_emulator, fn)
    with pytest.raises(ValueError, match="REPORT_VIEW_PAGE"):
        ds.revoke("PAGE", "1")
    with pytest.raises(ValueError, match="CO_OWNER"):
        ds.share([{"id": "1", "access_level": "ADMIN"}])


def test_owner_get_and_set(domo_client: dd.Client, domo_emulator: LocalDomo, call: Call) -> None:
    ds = _dataset(domo_client)
    assert call(ds, "owner") == {
        "id": "1",
        "name": "Local Domo Admin",
        "type": "USER",
        "group": False,
    }
    other = _user(domo_emulator)
    with pytest.raises(dd.ForbiddenError):
        call(other.dataset(ds.id), "set_owner", "42")
    call(ds, "set_owner", 42)
    assert call(ds, "owner")["id"] == "42"
    assert ds.metadata()["owner"]["name"] == "User 42"
    # The new owner may now do anything, e.g. alter the schema.
    other.dataset(ds.id).alter_schema({"id": "LONG", "code": "STRING", "extra": "DOUBLE"})
    with pytest.raises(dd.NotFoundError):
        call(domo_client.dataset(MISSING), "owner")


# -- metadata -----------------------------------------------------------------------------


def test_metadata_parts_details_and_properties(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = _dataset(domo_client)
    meta = call(ds, "metadata", part=["core", "permission"])
    assert meta["id"] == ds.id
    assert "part=core%2Cpermission" in domo_emulator.requests()[-1]["query"]
    _nothing_sent(domo_emulator, lambda: call(ds, "metadata", part=["everything"]))
    call(ds, "set_properties", {"dataProviderType": "new_type", "description": "described"})
    details = call(ds, "details")
    assert details["properties"]["dataProviderType"] == "new_type"
    assert details["properties"]["description"] == "described"
    assert details["schema"]["columns"] == [
        {"type": "LONG", "name": "id"},
        {"type": "STRING", "name": "code"},
    ]
    assert details["rowCount"] == 2
    assert ds.metadata()["dataProviderType"] == "new_type"
    _nothing_sent(domo_emulator, lambda: call(ds, "set_properties", {}))
    with pytest.raises(dd.NotFoundError):
        call(domo_client.dataset(MISSING), "details")
    with pytest.raises(dd.ForbiddenError):
        call(_user(domo_emulator).dataset(ds.id), "set_properties", {"name": "mine"})


def test_history_records_changes(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = _dataset(domo_client)
    ds.add_tags(["t"])
    history = call(ds, "history")
    assert [h["action"] for h in history] == ["CREATE", "APPEND", "TAGS"]
    assert history[0]["details"] == "Dataset created with 2 columns."
    assert all(h["user"] == "1" and h["timestamp"].endswith("Z") for h in history)
    with pytest.raises(dd.NotFoundError):
        call(domo_client.dataset(MISSING), "history")
    with pytest.raises(dd.ForbiddenError):
        call(_user(domo_emulator).dataset(ds.id), "history")


def test_copy_status_and_log(domo_client: dd.Client, domo_emulator: LocalDomo, call: Call) -> None:
    ds = _dataset(domo_client)
    status = call(ds, "copy_status")
    assert status["status"] == "COMPLETED" and status["datasetId"] == ds.id
    assert call(ds, "copy_log")[0] == "Schema copied: id, code"
    with pytest.raises(dd.NotFoundError):
        call(domo_client.dataset(MISSING), "copy_status")


def test_cards_with_and_without_drill(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = _dataset(domo_client)
    assert call(ds, "cards") == []
    card = domo_emulator.add_card(ds.id, title="Sales by code", drillPath=[{"column": "code"}])
    cards = call(ds, "cards", drill=True)
    assert [c["title"] for c in cards] == ["Sales by code"]
    assert cards[0]["id"] == card["id"] and cards[0]["datasourceId"] == ds.id
    assert cards[0]["drillPath"] == [{"column": "code"}]
    assert "drillPath" not in call(ds, "cards", drill=False)[0]
    assert ds.metadata()["cardCount"] == 1
    with pytest.raises(dd.NotFoundError):
        call(domo_client.dataset(MISSING), "cards")


# -- data, query, SQL, dataflow ---------------------------------------------------------


def test_data_get_and_replace(domo_client: dd.Client, domo_emulator: LocalDomo, call: Call) -> None:
    ds = _dataset(domo_client)
    assert call(ds, "data") == {"columns": ["id", "code"], "rows": [[1, "10"], [2, "x"]]}
    call(ds, "replace_data", [{"id": 5, "code": "five"}])
    assert call(ds, "data")["rows"] == [[5, "five"]]
    with pytest.raises(dd.BadRequestError):
        call(ds, "replace_data", [{"id": "not a number"}])
    assert ds.data()["rows"] == [[5, "five"]]
    with pytest.raises(dd.ForbiddenError):
        call(_user(domo_emulator).dataset(ds.id), "replace_data", [])
    with pytest.raises(dd.NotFoundError):
        call(domo_client.dataset(MISSING), "data")


def test_saved_query_sql_and_dataflow(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = _dataset(domo_client)
    assert call(ds, "saved_query") is None and call(ds, "saved_sql") is None
    call(ds, "set_saved_query", "SELECT * FROM new_table")
    call(ds, "set_saved_sql", "SELECT id FROM table")
    assert call(ds, "saved_query") == "SELECT * FROM new_table"
    assert call(ds, "saved_sql") == "SELECT id FROM table"
    _nothing_sent(domo_emulator, lambda: call(ds, "set_saved_sql", " "))
    with pytest.raises(dd.NotFoundError):
        call(ds, "dataflow")
    flow = {"id": "df1", "name": "Flow", "type": "TRANSFORM", "status": "SUCCESS", "steps": []}
    domo_emulator.set_dataflow(ds.id, flow)
    assert call(ds, "dataflow") == flow
    with pytest.raises(dd.ForbiddenError):
        call(_user(domo_emulator).dataset(ds.id), "set_saved_query", "SELECT 1")


# -- schema -------------------------------------------------------------------------------


def test_alter_schema_adds_renames_and_retypes(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = domo_client.create_dataset("alter", SMALL)
    ds.append_rows([{"id": 1, "code": "10"}, {"id": 2, "code": "20"}])
    call(
        ds,
        "alter_schema",
        [
            {"name": "key", "id": "id", "type": "LONG"},
            {"name": "code", "type": "LONG"},
            {"name": "added", "type": "DATE"},
        ],
    )
    assert call(ds, "schema", include_hidden=True) == [
        {"name": "key", "type": "LONG"},
        {"name": "code", "type": "LONG"},
        {"name": "added", "type": "DATE"},
    ]
    rows = ds.query("SELECT * FROM table ORDER BY `key`").to_pyarrow().to_pylist()
    assert rows == [{"key": 1, "code": 10, "added": None}, {"key": 2, "code": 20, "added": None}]
    assert "renamed to 'key'" in ds.history()[-1]["details"]


def test_alter_schema_refuses_impossible_changes(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = _dataset(domo_client)
    with pytest.raises(dd.BadRequestError) as info:
        call(ds, "alter_schema", {"id": "LONG", "code": "LONG"})
    assert info.value.status == 400 and "'x'" in str(info.value)
    assert ds.schema() == [{"name": "id", "type": "LONG"}, {"name": "code", "type": "STRING"}]
    _nothing_sent(domo_emulator, lambda: call(ds, "alter_schema", {}))
    _nothing_sent(domo_emulator, lambda: call(ds, "alter_schema", {"a": "NUMBER"}))
    with pytest.raises(dd.NotFoundError):
        call(domo_client.dataset(MISSING), "alter_schema", {"a": "LONG"})


# -- the same listings as Arrow tables --------------------------------------------------------


def test_listings_as_tables(domo_client: dd.Client, domo_emulator: LocalDomo, call: Call) -> None:
    ds = _dataset(domo_client)
    _user(domo_emulator)
    ds.share([{"id": "42", "access_level": "CAN_VIEW"}])
    domo_emulator.add_card(ds.id, title="By code")

    permissions = call(ds, "permissions_table").to_pyarrow()
    assert permissions.column_names == ["id", "type", "name", "access_level"]
    listed = call(ds, "permissions")
    assert permissions.to_pylist() == [
        {"id": p["id"], "type": p["type"], "name": p["name"], "access_level": p["accessLevel"]}
        for p in listed
    ]
    assert {"id": "42", "type": "USER", "name": "User 42", "access_level": "CAN_VIEW"} in (
        permissions.to_pylist()
    )

    history = call(ds, "history_table").to_pyarrow()
    assert history.column_names == ["timestamp", "action", "user", "details"]
    assert str(history.schema.field("timestamp").type) == "timestamp[ms, tz=UTC]"
    assert history.num_rows == len(call(ds, "history")) > 0
    assert history["timestamp"].null_count == 0

    cards = call(ds, "cards_table", drill=False).to_pyarrow()
    assert cards.num_rows == 1
    assert cards["title"].to_pylist() == ["By code"]
    assert cards["datasource_id"].to_pylist() == [ds.id]
