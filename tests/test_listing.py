"""Listing, finding by name and deleting datasets, and a client from the environment,
against the emulator over HTTP. Every network call runs in its sync and ``_async`` form."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import domo_datasets as dd
import pyarrow as pa
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


def _make(client: dd.Client, names: list[str]) -> dict[str, str]:
    """Creates one small dataset per name; returns name -> id (names here are distinct)."""
    return {name: client.create_dataset(name, SMALL).id for name in names}


# -- datasets -----------------------------------------------------------------------------


def test_datasets_lists_every_dataset_with_its_id_and_name(
    domo_client: dd.Client, call: Call
) -> None:
    made = _make(domo_client, ["Sales EU", "Sales US", "Costs"])
    listed = call(domo_client, "datasets")
    assert {d["id"]: d["name"] for d in listed} == {v: k for k, v in made.items()}
    assert all(d["databaseId"] == d["id"] for d in listed)


def test_datasets_reads_every_page(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    # 205 datasets: two full pages of 100 and one of 5.
    names = [f"bulk {i:03d}" for i in range(205)]
    made = _make(domo_client, names)
    domo_emulator.clear_requests()
    listed = call(domo_client, "datasets")
    assert sorted(d["id"] for d in listed) == sorted(made.values())
    searches = domo_emulator.requests("/api/search/v1/query", method="POST")
    assert len(searches) == 3
    assert all(r["status"] == 200 for r in searches)


def test_datasets_limit_stops_early(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    _make(domo_client, [f"limit {i:03d}" for i in range(130)])
    domo_emulator.clear_requests()
    listed = call(domo_client, "datasets", sort="name", limit=120)
    assert [d["name"] for d in listed] == [f"limit {i:03d}" for i in range(120)]
    assert len(domo_emulator.requests("/api/search/v1/query")) == 2
    domo_emulator.clear_requests()
    assert len(call(domo_client, "datasets", limit=3)) == 3
    assert len(domo_emulator.requests("/api/search/v1/query")) == 1


def test_datasets_name_like_and_sort(domo_client: dd.Client, call: Call) -> None:
    _make(domo_client, ["b sales", "A Sales", "costs", "salesman", "wholesale"])
    by_name = call(domo_client, "datasets", name_like="SALES", sort="name")
    # "wholesale" does not contain "sales"; case is ignored.
    assert [d["name"] for d in by_name] == ["A Sales", "b sales", "salesman"]
    desc = call(domo_client, "datasets", name_like="sales", sort="-name")
    assert [d["name"] for d in desc] == ["salesman", "b sales", "A Sales"]
    starts = call(domo_client, "datasets", name_like="sales*")
    assert [d["name"] for d in starts] == ["salesman"]
    assert call(domo_client, "datasets", name_like="nothing like it") == []
    created = call(domo_client, "datasets", sort="-createdAt")
    assert created[0]["name"] == "wholesale"


def test_datasets_input_is_checked_before_sending(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    domo_emulator.clear_requests()
    for kwargs in ({"sort": "size"}, {"name_like": "  "}, {"limit": 0}):
        with pytest.raises(ValueError):
            call(domo_client, "datasets", **kwargs)
    assert domo_emulator.requests() == []


def test_datasets_only_shows_what_the_user_may_see(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    made = _make(domo_client, ["shared", "private"])
    domo_emulator.add_user("42", name="User 42", token="token-42")
    domo_client.dataset(made["shared"]).share([{"id": 42, "access_level": "CAN_VIEW"}])
    user = dd.Client(domo_emulator.url, token="token-42")
    assert [d["name"] for d in call(user, "datasets")] == ["shared"]
    assert call(user, "dataset_by_name", "shared").id == made["shared"]
    with pytest.raises(dd.NotFoundError):
        call(user, "dataset_by_name", "private")


def test_datasets_table(domo_client: dd.Client, call: Call) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=1)
    ds = domo_client.create_dataset("table me", SMALL, description="for the table")
    ds.append_rows([{"id": 1, "code": "a"}, {"id": 2, "code": "b"}, {"id": 3, "code": None}])
    table = pa.table(call(domo_client, "datasets_table", name_like="table me"))
    assert table.column_names == [
        "id",
        "name",
        "description",
        "owner_id",
        "owner_name",
        "rows",
        "columns",
        "created",
        "last_updated",
    ]
    assert table.schema.field("rows").type == pa.int64()
    assert table.schema.field("created").type == pa.timestamp("ms", tz="UTC")
    row = table.to_pylist()[0]
    assert (row["id"], row["name"], row["description"]) == (ds.id, "table me", "for the table")
    assert (row["rows"], row["columns"]) == (3, 2)
    assert row["created"] >= before
    assert row["last_updated"] >= row["created"]
    assert call(domo_client, "datasets_table", name_like="absent").num_rows == 0


# -- dataset_by_name ----------------------------------------------------------------------


def test_dataset_by_name_finds_the_exact_name(domo_client: dd.Client, call: Call) -> None:
    made = _make(domo_client, ["orders", "orders archive", "Orders"])
    found = call(domo_client, "dataset_by_name", "orders")
    assert isinstance(found, dd.Dataset)
    assert found.id == made["orders"]
    assert call(domo_client, "dataset_by_name", "Orders").id == made["Orders"]


def test_dataset_by_name_errors(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    first = domo_client.create_dataset("twin", SMALL).id
    second = domo_client.create_dataset("twin", SMALL).id
    with pytest.raises(ValueError) as several:
        call(domo_client, "dataset_by_name", "twin")
    assert first in str(several.value) and second in str(several.value)
    with pytest.raises(dd.NotFoundError) as none:
        call(domo_client, "dataset_by_name", "nobody calls it this")
    assert isinstance(none.value, LookupError)
    assert "nobody calls it this" in str(none.value)
    domo_emulator.clear_requests()
    with pytest.raises(ValueError):
        call(domo_client, "dataset_by_name", " ")
    assert domo_emulator.requests() == []


# -- delete -------------------------------------------------------------------------------


def test_delete_removes_the_dataset(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    made = _make(domo_client, ["keep", "drop"])
    ds = domo_client.dataset(made["drop"])
    domo_emulator.clear_requests()
    assert call(ds, "delete") is None
    sent = domo_emulator.requests(method="DELETE")
    assert [(r["path"], r["query"], r["status"]) for r in sent] == [
        (f"/api/data/v3/datasources/{ds.id}", "deleteMethod=hard", 204)
    ]
    assert [d["name"] for d in domo_client.datasets()] == ["keep"]
    with pytest.raises(dd.NotFoundError):
        ds.metadata()
    with pytest.raises(dd.NotFoundError):
        call(ds, "delete")


def test_delete_is_sent_once_even_on_a_server_error(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = domo_client.create_dataset("flaky", SMALL)
    domo_emulator.inject_fault(
        f"/api/data/v3/datasources/{ds.id}", method="DELETE", status=503, count=5
    )
    domo_emulator.clear_requests()
    with pytest.raises(dd.ServerError):
        call(ds, "delete")
    assert len(domo_emulator.requests(method="DELETE")) == 1


def test_delete_needs_co_ownership(
    domo_client: dd.Client, domo_emulator: LocalDomo, call: Call
) -> None:
    ds = domo_client.create_dataset("guarded", SMALL)
    domo_emulator.add_user("7", name="Viewer", token="token-7")
    ds.share([{"id": 7, "access_level": "CAN_EDIT"}])
    viewer = dd.Client(domo_emulator.url, token="token-7")
    with pytest.raises(dd.ForbiddenError):
        call(viewer.dataset(ds.id), "delete")
    assert [d["id"] for d in domo_client.datasets()] == [ds.id]


# -- Client.from_env ----------------------------------------------------------------------

_ENV = ("DOMO_INSTANCE", "DOMO_TOKEN", "DOMO_CLIENT_ID", "DOMO_CLIENT_SECRET")


def _from_env_in_subprocess(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh interpreter whose Domo variables are exactly ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in _ENV}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_from_env_uses_instance_and_token(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    domo_client.create_dataset("from env", SMALL)
    code = (
        "import domo_datasets as dd\n"
        "c = dd.Client.from_env()\n"
        "print(c.base_url, [d['name'] for d in c.datasets()], repr(c))\n"
    )
    done = _from_env_in_subprocess(
        {"DOMO_INSTANCE": domo_emulator.url, "DOMO_TOKEN": domo_emulator.token}, code
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{domo_emulator.url} ['from env']")
    assert domo_emulator.token not in done.stdout + done.stderr


def test_from_env_instance_name_becomes_a_domo_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOMO_INSTANCE", "acme")
    monkeypatch.setenv("DOMO_TOKEN", "not-a-real-token")
    client = dd.Client.from_env()
    assert client.base_url == "https://acme.domo.com"
    assert "not-a-real-token" not in repr(client)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, ["DOMO_INSTANCE", "DOMO_TOKEN"]),
        ({"DOMO_INSTANCE": "acme"}, ["DOMO_TOKEN"]),
        ({"DOMO_TOKEN": "secret-token-value"}, ["DOMO_INSTANCE"]),
        ({"DOMO_INSTANCE": "  ", "DOMO_TOKEN": ""}, ["DOMO_INSTANCE", "DOMO_TOKEN"]),
        ({"DOMO_CLIENT_ID": "id"}, ["DOMO_CLIENT_SECRET", "OAuth"]),
        ({"DOMO_CLIENT_SECRET": "secret-value"}, ["DOMO_CLIENT_ID", "OAuth"]),
    ],
)
def test_from_env_says_which_variables_are_missing(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], names: list[str]
) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError) as err:
        dd.Client.from_env()
    for name in names:
        assert name in str(err.value)
    assert "secret" not in str(err.value)
