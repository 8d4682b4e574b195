"""PDP policies against the emulator over HTTP: ``ds.policies()``, ``create_policy``,
``update_policy``, ``delete_policy`` on an OAuth client (sync and async), checked before
sending; and the rows two users see through query, export and query_pages, on OAuth and
developer-token clients. Expected rows are computed here in Python from the rows put in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import domo_datasets as dd
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo

Call = Callable[..., Any]

SCHEMA = {"id": "LONG", "region": "STRING", "amount": "DOUBLE"}
REGIONS = ["East", "West", "North", "South", "East%", None]
ROWS: list[dict[str, Any]] = [
    {"id": i, "region": REGIONS[i % len(REGIONS)], "amount": float(i * 10)} for i in range(30)
]

# Two seeded users: their email and password are their OAuth client credentials, and
# each has a developer token too.
ANN = {"id": 27, "email": "ann@local.domo", "password": "ann-pw-1", "token": "ann-token-27x"}
BOB = {"id": 28, "email": "bob@local.domo", "password": "bob-pw-2", "token": "bob-token-28x"}


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest) -> Call:
    """``call(obj, "name", *args, **kw)`` runs ``obj.name(...)`` or ``obj.name_async(...)``."""

    def run(obj: Any, method: str, /, *args: Any, **kwargs: Any) -> Any:
        if request.param == "sync":
            return getattr(obj, method)(*args, **kwargs)
        return asyncio.run(getattr(obj, f"{method}_async")(*args, **kwargs))

    return run


@pytest.fixture(scope="module")
def domo() -> Iterator[LocalDomo]:
    with LocalDomo() as local:
        yield local


@pytest.fixture
def admin(domo: LocalDomo) -> dd.Client:
    domo.reset()
    for user in (ANN, BOB):
        domo.add_user(
            user["id"], email=user["email"], password=user["password"], token=user["token"]
        )
    return dd.Client.oauth(domo.email, domo.password, api_host=domo.url)


@pytest.fixture
def shared(domo: LocalDomo, admin: dd.Client) -> dd.Dataset:
    """A dataset of ROWS, shared for viewing with both users (sharing is an instance-API
    call, made with the administrator's developer token)."""
    ds = admin.create_dataset("regions", SCHEMA)
    ds.upload(pa.Table.from_pylist(ROWS, schema=_arrow_schema()))
    domo.client().dataset(ds.id).share(
        [
            {"id": ANN["id"], "access_level": "CAN_VIEW"},
            {"id": BOB["id"], "access_level": "CAN_VIEW"},
        ]
    )
    return ds


def _arrow_schema() -> pa.Schema:
    return pa.schema([("id", pa.int64()), ("region", pa.string()), ("amount", pa.float64())])


def _oauth_of(domo: LocalDomo, user: dict[str, Any]) -> dd.Client:
    return dd.Client.oauth(user["email"], user["password"], api_host=domo.url)


def _ids(table: pa.Table) -> list[int]:
    return sorted(table.column("id").to_pylist())


def _seen(client: dd.Client, ds_id: str) -> dict[str, list[int]]:
    """The row ids a client reads through query, export and query_pages."""
    ds = client.dataset(ds_id)
    return {
        "query": _ids(ds.query("SELECT * FROM table").to_pyarrow()),
        "export": _ids(ds.export().read_all().to_pyarrow()),
        "pages": _ids(
            ds.query_pages("SELECT * FROM table ORDER BY id", page_size=7).read_all().to_pyarrow()
        ),
    }


def _expect(keep: Callable[[dict[str, Any]], bool]) -> dict[str, list[int]]:
    ids = sorted(r["id"] for r in ROWS if keep(r))
    return {"query": ids, "export": ids, "pages": ids}


# -- the policy list ---------------------------------------------------------------------------


def test_a_new_dataset_has_the_open_all_rows_policy(shared: dd.Dataset, call: Call) -> None:
    (policy,) = call(shared, "policies")
    assert (policy["name"], policy["type"], policy["filters"]) == ("All Rows", "open", [])


def test_create_update_get_and_delete(shared: dd.Dataset, call: Call) -> None:
    created = call(
        shared,
        "create_policy",
        "East only",
        filters=[{"column": "region", "values": ["East"]}],
        users=[ANN["id"]],
    )
    assert created["name"] == "East only"
    assert created["type"] == "user"
    assert created["users"] == [ANN["id"]]
    assert created["filters"] == [
        {"column": "region", "values": ["East"], "operator": "EQUALS", "not": False}
    ]
    pid = created["id"]
    assert call(shared, "policy", pid) == created
    updated = call(shared, "update_policy", pid, name="East and West", users=[ANN["id"], BOB["id"]])
    assert updated["name"] == "East and West"
    assert updated["users"] == [ANN["id"], BOB["id"]]
    assert updated["filters"] == created["filters"]
    assert [p["id"] for p in call(shared, "policies")][-1] == pid
    call(shared, "delete_policy", pid)
    assert pid not in [p["id"] for p in call(shared, "policies")]
    with pytest.raises(dd.NotFoundError):
        call(shared, "delete_policy", pid)


def test_policies_are_checked_before_sending(
    domo: LocalDomo, shared: dd.Dataset, call: Call
) -> None:
    domo.clear_requests()
    bad: list[dict[str, Any]] = [
        {"filters": [{"column": "region", "values": ["x"], "operator": "SOUNDS_LIKE"}]},
        {"filters": [{"column": "region", "values": []}]},
        {"filters": [{"column": "amount", "values": ["1"], "operator": "BETWEEN"}]},
        {"filters": [{"column": "region", "values": ["x"], "nope": 1}]},
        {"filters": [{"values": ["x"]}]},
        {"filters": [], "users": [0]},
        {"filters": [], "type": "open"},
    ]
    for kwargs in bad:
        with pytest.raises(ValueError):
            call(shared, "create_policy", "bad", **kwargs)
    with pytest.raises(ValueError):
        call(shared, "create_policy", " ", filters=[])
    with pytest.raises(ValueError):
        call(shared, "update_policy", 1)
    with pytest.raises(ValueError):
        call(shared, "delete_policy", 0)
    assert domo.requests() == []


def test_the_emulator_checks_columns(shared: dd.Dataset) -> None:
    with pytest.raises(dd.BadRequestError, match="not in DataSet"):
        shared.create_policy("x", filters=[{"column": "nope", "values": ["1"]}])


def test_policies_need_an_oauth_client(domo: LocalDomo, shared: dd.Dataset, call: Call) -> None:
    token_ds = domo.client().dataset(shared.id)
    domo.clear_requests()
    with pytest.raises(ValueError, match=r"Client\.oauth"):
        call(token_ds, "policies")
    assert domo.requests() == []


# -- what users see ----------------------------------------------------------------------------


def _restrict(ds: dd.Dataset) -> None:
    """Ann sees the East rows, Bob the rows with amount from 100 to 200 not in the North."""
    all_rows = next(p for p in ds.policies() if p["name"] == "All Rows")
    ds.delete_policy(all_rows["id"])
    ds.create_policy("East", filters=[{"column": "region", "values": ["East"]}], users=[ANN["id"]])
    ds.create_policy(
        "Mid",
        filters=[
            {"column": "amount", "values": ["100", "200"], "operator": "BETWEEN"},
            {"column": "region", "values": ["North"], "not": True},
        ],
        users=[BOB["id"]],
    )


def test_two_users_see_their_own_rows(
    domo: LocalDomo, admin: dd.Client, shared: dd.Dataset
) -> None:
    # Before any restriction, everyone with access sees every row.
    every = _expect(lambda r: True)
    assert _seen(_oauth_of(domo, ANN), shared.id) == every
    _restrict(shared)
    ann = _expect(lambda r: r["region"] == "East")
    bob = _expect(
        lambda r: 100 <= r["amount"] <= 200 and r["region"] is not None and r["region"] != "North"
    )
    assert ann != bob
    assert _seen(_oauth_of(domo, ANN), shared.id) == ann
    assert _seen(_oauth_of(domo, BOB), shared.id) == bob
    # The same users through their developer tokens (the instance API).
    assert _seen(dd.Client(domo.url, token=ANN["token"]), shared.id) == ann
    assert _seen(dd.Client(domo.url, token=BOB["token"]), shared.id) == bob
    # The owner sees everything.
    assert _seen(admin, shared.id) == every
    assert _seen(domo.client(), shared.id) == every


def test_aggregates_count_only_allowed_rows(domo: LocalDomo, shared: dd.Dataset) -> None:
    _restrict(shared)
    ann = _oauth_of(domo, ANN).dataset(shared.id)
    got = ann.query("SELECT COUNT(*) AS n, SUM(amount) AS s FROM table").to_pyarrow().to_pylist()
    east = [r for r in ROWS if r["region"] == "East"]
    assert got == [{"n": len(east), "s": sum(r["amount"] for r in east)}]


async def test_async_reads_are_filtered_too(domo: LocalDomo, shared: dd.Dataset) -> None:
    _restrict(shared)
    ann = (await dd.Client.oauth_async(ANN["email"], ANN["password"], api_host=domo.url)).dataset(
        shared.id
    )
    table = (await ann.query_async("SELECT id FROM table")).to_pyarrow()
    assert _ids(table) == _expect(lambda r: r["region"] == "East")["query"]


def test_a_user_no_policy_names_sees_no_rows(domo: LocalDomo, shared: dd.Dataset) -> None:
    _restrict(shared)
    domo.add_user(29, email="cy@local.domo", password="cy-pw-3")
    domo.client().dataset(shared.id).share([{"id": 29, "access_level": "CAN_VIEW"}])
    cy = dd.Client.oauth("cy@local.domo", "cy-pw-3", api_host=domo.url)
    assert _seen(cy, shared.id) == {"query": [], "export": [], "pages": []}


def test_a_query_cannot_read_around_the_filter(domo: LocalDomo, shared: dd.Dataset) -> None:
    _restrict(shared)
    ann = _oauth_of(domo, ANN).dataset(shared.id)
    seq = domo.client().dataset(shared.id).stream().id - 1000
    with pytest.raises(dd.BadRequestError):
        ann.query(f'SELECT * FROM "v_{seq}"')


@pytest.mark.parametrize(
    ("operator", "values", "keep"),
    [
        ("EQUALS", ["West", "North"], lambda r: r["region"] in ("West", "North")),
        ("LIKE", ["%st"], lambda r: r["region"] is not None and r["region"].endswith("st")),
        ("GREATER_THAN", ["200"], lambda r: r["amount"] > 200),
        ("LESS_THAN", ["50"], lambda r: r["amount"] < 50),
        ("GREATER_THAN_EQUAL", ["200"], lambda r: r["amount"] >= 200),
        ("LESS_THAN_EQUAL", ["50"], lambda r: r["amount"] <= 50),
        ("BETWEEN", ["30", "60"], lambda r: 30 <= r["amount"] <= 60),
        ("BEGINS_WITH", ["Ea"], lambda r: (r["region"] or "").startswith("Ea")),
        # A % in a value is a character, not a wildcard.
        ("ENDS_WITH", ["t%"], lambda r: (r["region"] or "").endswith("t%")),
        ("CONTAINS", ["or"], lambda r: "or" in (r["region"] or "")),
    ],
)
def test_each_operator(
    domo: LocalDomo,
    shared: dd.Dataset,
    operator: str,
    values: list[str],
    keep: Callable[[dict[str, Any]], bool],
) -> None:
    all_rows = next(p for p in shared.policies() if p["name"] == "All Rows")
    shared.update_policy(
        all_rows["id"],
        type="user",
        filters=[
            {
                "column": "amount" if operator in _NUMERIC else "region",
                "values": values,
                "operator": operator,
            }
        ],
        users=[ANN["id"]],
    )
    assert _seen(_oauth_of(domo, ANN), shared.id) == _expect(keep)


_NUMERIC = {"GREATER_THAN", "LESS_THAN", "GREATER_THAN_EQUAL", "LESS_THAN_EQUAL", "BETWEEN"}


def test_a_user_sees_only_datasets_shared_with_them(
    domo: LocalDomo, admin: dd.Client, shared: dd.Dataset, call: Call
) -> None:
    private = admin.create_dataset("private", SCHEMA)
    ann = _oauth_of(domo, ANN)
    assert [d["id"] for d in call(ann, "datasets")] == [shared.id]
    with pytest.raises(dd.ForbiddenError):
        call(ann.dataset(private.id), "query", "SELECT * FROM table")
    with pytest.raises(dd.ForbiddenError):
        call(ann.dataset(shared.id), "create_policy", "mine", filters=[], users=[ANN["id"]])
