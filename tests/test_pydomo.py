"""pydomo, Domo's official Python SDK, unchanged, against the emulator's public API.

pydomo talks to ``api.domo.com`` routes (``/oauth/token``, ``/v1/datasets``,
``/v1/streams``); the emulator serves them over the same store as the instance API, so
every test cross-checks through this package's own client: what pydomo writes is read back
with ``domo_datasets``, and what ``domo_datasets`` writes is read back with pydomo.

The emulator's OAuth client is its login user: client id = ``LocalDomo.email``, client
secret = ``LocalDomo.password``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pydomo = pytest.importorskip("pydomo")
pd = pytest.importorskip("pandas")

import domo_datasets as dd  # noqa: E402
import numpy as np  # noqa: E402
from domo_datasets.testing import LocalDomo  # noqa: E402
from pydomo.datasets import Column, ColumnType, DataSetRequest, Schema  # noqa: E402
from pydomo.streams import CreateStreamRequest, UpdateMethod  # noqa: E402
from support import ALL_TYPES_DOMO, all_types_rows, all_types_table  # noqa: E402

UTC = dt.UTC

# Strings pandas' read_csv (inside pydomo's ds_get) turns into NaN by default.
PANDAS_NA_STRINGS = {"", "NULL", "null"}


# pydomo's dataset and stream calls and what each does against the local Domo: the test
# that runs it, or why it cannot run. Its other calls (accounts, groups, pages, users)
# are outside the Datasets API.
CALLS: dict[str, str] = {
    "Domo.ds_create": "runs: test_ds_create_is_read_back_by_domo_datasets",
    "Domo.ds_delete": "runs: test_delete_get_and_file_round_trips",
    "Domo.ds_get": "runs: test_ds_get_reads_what_domo_datasets_uploaded",
    "Domo.ds_get_dict": "runs: test_delete_get_and_file_round_trips",
    "Domo.ds_list": "runs: test_ds_meta_and_ds_list",
    "Domo.ds_meta": "runs: test_ds_meta_and_ds_list",
    "Domo.ds_query": "runs: test_ds_query_matches_domo_datasets",
    "Domo.ds_update": "runs: test_ds_update_replaces_and_is_read_back",
    "Domo.pdp_create": "runs: test_pdp_calls_are_served_and_enforced",
    "Domo.pdp_delete": "runs: test_pdp_calls_are_served_and_enforced",
    "Domo.pdp_list": "runs: test_pdp_calls_are_served_and_enforced",
    "Domo.pdp_update": "runs: test_pdp_calls_are_served_and_enforced",
    "DataSetClient.create": "runs: test_datasets_client_crud_import_export",
    "DataSetClient.create_pdp": "runs: test_pdp_calls_are_served_and_enforced",
    "DataSetClient.data_export": "runs: test_datasets_client_crud_import_export",
    "DataSetClient.data_export_to_file": "runs: test_delete_get_and_file_round_trips",
    "DataSetClient.data_import": "runs: test_datasets_client_crud_import_export",
    "DataSetClient.data_import_from_file": "runs: test_delete_get_and_file_round_trips",
    "DataSetClient.delete": "runs: test_datasets_client_crud_import_export",
    "DataSetClient.delete_pdp": "runs: test_pdp_calls_are_served_and_enforced",
    "DataSetClient.get": "runs: test_delete_get_and_file_round_trips",
    "DataSetClient.get_pdp": "runs: test_pdp_calls_are_served_and_enforced",
    "DataSetClient.list": "runs: test_ds_meta_and_ds_list",
    "DataSetClient.list_pdps": "runs: test_pdp_calls_are_served_and_enforced",
    "DataSetClient.query": "runs: test_ds_query_matches_domo_datasets",
    "DataSetClient.update": "runs: test_datasets_client_crud_import_export",
    "DataSetClient.update_pdp": "runs: test_pdp_calls_are_served_and_enforced",
    "StreamClient.abort_current_execution": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.abort_execution": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.commit_execution": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.create": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.create_execution": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.delete": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.get": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.get_execution": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.list": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.list_executions": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.search": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.update": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.upload_csv_part_from_file": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.upload_gzip_part_from_file": "runs: test_streams_executions_parts_and_commit",
    "StreamClient.upload_part": "runs: test_streams_executions_parts_and_commit",
}


def test_every_call_is_listed() -> None:
    from pydomo.datasets import DataSetClient
    from pydomo.streams import StreamClient

    found = {f"Domo.{name}" for name in dir(pydomo.Domo) if name.startswith(("ds_", "pdp_"))}
    for cls in (DataSetClient, StreamClient):
        found |= {
            f"{cls.__name__}.{name}"
            for name in dir(cls)
            if not name.startswith("_") and name != "print_json"
        }
    assert found == set(CALLS)
    tests = {name for name, fn in globals().items() if name.startswith("test_") and callable(fn)}
    for call, outcome in CALLS.items():
        kind, _, detail = outcome.partition(": ")
        assert kind in {"runs", "cannot run"}, call
        if kind == "runs":
            assert detail in tests, (call, detail)


@pytest.fixture
def domo(domo_emulator: LocalDomo) -> Iterator[Any]:
    """A pydomo client of a freshly reset emulator, with pydomo's logging quiet."""
    domo_emulator.reset()
    host = domo_emulator.url.removeprefix("http://")
    pydomo_logger = logging.getLogger("pydomo")
    level = pydomo_logger.level
    client = pydomo.Domo(
        domo_emulator.email,
        domo_emulator.password,
        api_host=host,
        use_https=False,
        log_level=logging.ERROR,
        request_timeout=30,
    )
    yield client
    pydomo_logger.setLevel(level)


def source_frame() -> Any:
    """A DataFrame of the kinds pydomo can upload: every column type it maps, with nulls."""
    labels = [
        "plain",
        "comma, inside",
        'double "quotes" inside',
        "new\nline",
        "Café ünïcödé 日本語 🎉",
        None,
        "NULL",
        "",
    ]
    n = len(labels)
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype="int64"),
            "label": pd.Series(labels, dtype="str"),
            "count": pd.array([1, None, -3, 2**53 + 1, 0, 7, None, 9], dtype="Int64"),
            "ratio": [1.5, math.nan, -0.25, 0.1, 1e15, 3.141592653589793, 0.0, -1e-9],
            "at": pd.to_datetime(
                [
                    "2024-02-29 23:59:59",
                    None,
                    "1970-01-01 00:00:00",
                    "1999-12-31 12:30:00",
                    "2030-06-15 08:05:03",
                    "2024-01-02 03:04:05",
                    None,
                    "2001-02-03 04:05:06",
                ]
            ),
        }
    )


def expected_rows(df: Any) -> list[dict[str, Any]]:
    """What Domo holds after pydomo uploads ``df``, as this package's client reads it."""

    def na(v: Any) -> bool:
        return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))

    rows = []
    for rec in df.to_dict("records"):
        at = rec["at"]
        rows.append(
            {
                "id": int(rec["id"]),
                # pandas' to_csv writes "" unquoted, which Domo reads as null.
                "label": None if na(rec["label"]) or rec["label"] == "" else rec["label"],
                "count": None if na(rec["count"]) else int(rec["count"]),
                "ratio": None if na(rec["ratio"]) else float(rec["ratio"]),
                "at": None if pd.isna(at) else at.to_pydatetime().replace(tzinfo=UTC),
            }
        )
    return rows


def read_with_ours(domo_emulator: LocalDomo, ds_id: str) -> list[dict[str, Any]]:
    table = domo_emulator.client().dataset(ds_id).query("SELECT * FROM table ORDER BY `id`")
    rows: list[dict[str, Any]] = table.to_pyarrow().to_pylist()
    return rows


def test_oauth_token_flow(domo: Any, domo_emulator: LocalDomo) -> None:
    transport = domo.transport
    # pydomo reads the JWT's exp claim to know when to renew.
    assert abs(transport.token_expiration - (time.time() + 3600)) < 60
    [token_request] = domo_emulator.requests("/oauth/token")
    assert token_request["method"] == "POST"
    assert token_request["auth"] == "basic"
    assert token_request["status"] == 200

    domo.ds_list(df_output=False)
    assert {r["auth"] for r in domo_emulator.requests("/v1/**")} == {"bearer"}

    # An expired token is renewed before the next request.
    transport.token_expiration = 0
    domo.ds_list(df_output=False)
    assert len(domo_emulator.requests("/oauth/token")) == 2
    assert all(r["status"] == 200 for r in domo_emulator.requests("/v1/**"))

    host = domo_emulator.url.removeprefix("http://")
    with pytest.raises(Exception, match="Error retrieving a Domo API Access Token"):
        pydomo.Domo(domo_emulator.email, "wrong", api_host=host, use_https=False)


def test_ds_create_is_read_back_by_domo_datasets(
    domo: Any, domo_emulator: LocalDomo, capsys: pytest.CaptureFixture[str]
) -> None:
    df = source_frame()
    ds_id = domo.ds_create(df, "from pydomo", "made by ds_create")
    meta = domo_emulator.client().dataset(ds_id).metadata()
    assert meta["name"] == "from pydomo"
    assert meta["rowCount"] == len(df)
    schema = domo_emulator.client().dataset(ds_id).schema()
    assert [(c["name"], c["type"]) for c in schema] == [
        ("id", "LONG"),
        ("label", "STRING"),
        ("count", "LONG"),
        ("ratio", "DOUBLE"),
        ("at", "DATETIME"),
    ]
    assert read_with_ours(domo_emulator, ds_id) == expected_rows(df)
    # ds_create went through a stream: create, execution, part 0, commit.
    paths = [(r["method"], r["path"]) for r in domo_emulator.requests("/v1/streams/**")]
    assert ("POST", "/v1/streams/") in paths
    assert any(p.endswith("/part/0") for _, p in paths)
    assert capsys.readouterr().out == ""


def test_ds_update_replaces_and_is_read_back(
    domo: Any, domo_emulator: LocalDomo, capsys: pytest.CaptureFixture[str]
) -> None:
    df = source_frame()
    ds = domo_emulator.client().create_dataset(
        "made by us",
        {"id": "LONG", "label": "STRING", "count": "LONG", "ratio": "DOUBLE", "at": "DATETIME"},
    )
    domo.ds_update(ds.id, df)
    assert read_with_ours(domo_emulator, ds.id) == expected_rows(df)
    # The schema already matched, so pydomo did not rewrite it.
    assert domo_emulator.requests("/v1/datasets/*", "PUT") == []
    assert capsys.readouterr().out == ""

    smaller = df.iloc[2:5].reset_index(drop=True)
    domo.ds_update(ds.id, smaller)
    assert read_with_ours(domo_emulator, ds.id) == expected_rows(smaller)

    # A frame with other columns changes the schema first (pydomo says so on stdout).
    other = pd.DataFrame({"id": [1, 2], "note": pd.Series(["x", "y"], dtype="str")})
    domo.ds_update(ds.id, other)
    assert "Schema Updated" in capsys.readouterr().out
    assert [c["name"] for c in ds.schema()] == ["id", "note"]
    assert read_with_ours(domo_emulator, ds.id) == [
        {"id": 1, "note": "x"},
        {"id": 2, "note": "y"},
    ]


def test_ds_get_reads_what_domo_datasets_uploaded(
    domo: Any, domo_emulator: LocalDomo, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = domo_emulator.client().create_dataset("all types", ALL_TYPES_DOMO)
    ds.upload(all_types_table(40))
    got = domo.ds_get(ds.id).sort_values("id").reset_index(drop=True)
    # No fallback: pydomo's typed read (dtypes from the schema) succeeded.
    assert capsys.readouterr().out == ""
    assert list(got.columns) == list(ALL_TYPES_DOMO)
    assert {c: str(t) for c, t in got.dtypes.items()} == {
        "id": "Int64",
        "label": "string",
        "count": "Int64",
        "ratio": "Float64",
        "price": "Float64",
        "day": "datetime64[us]",
        "at": "datetime64[us]",
    }

    def cell(v: Any) -> Any:
        return None if v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v

    for i, row in enumerate(all_types_rows(40)):
        actual = {c: cell(got.at[i, c]) for c in got.columns}
        label = row["label"]
        want = {
            "id": row["id"],
            "label": None if label in PANDAS_NA_STRINGS else label,
            "count": row["count"],
            "ratio": row["ratio"],
            "price": None if row["price"] is None else float(row["price"]),
            "day": None if row["day"] is None else pd.Timestamp(row["day"]),
            "at": None if row["at"] is None else pd.Timestamp(row["at"].replace(tzinfo=None)),
        }
        assert actual == want, f"row {i}"


def test_ds_query_matches_domo_datasets(domo: Any, domo_emulator: LocalDomo) -> None:
    ds = domo_emulator.client().create_dataset("all types", ALL_TYPES_DOMO)
    ds.upload(all_types_table(30))
    sql = "SELECT `id`, `label`, `count`, `ratio`, `day` FROM table WHERE `id` < 20 ORDER BY `id`"
    got = domo.ds_query(ds.id, sql)
    assert list(got.columns) == ["id", "label", "count", "ratio", "day"]
    ours = ds.query(sql).to_pyarrow().to_pylist()

    def cell(v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        return v.isoformat() if isinstance(v, dt.date) else v

    assert len(got) == len(ours) == 20
    for i, want in enumerate(ours):
        assert [cell(v) for v in got.iloc[i].tolist()] == [cell(v) for v in want.values()]

    raw = domo.ds_query(ds.id, "SELECT COUNT(*) AS n FROM table", return_data=False)
    assert raw["rows"] == [[30]]
    assert raw["metadata"][0]["type"] == "LONG"


def test_ds_meta_and_ds_list(domo: Any, domo_emulator: LocalDomo) -> None:
    client = domo_emulator.client()
    a = client.create_dataset("alpha sales", {"x": "LONG", "y": "DATE"}, description="first")
    client.create_dataset("beta", {"x": "LONG"})
    meta = domo.ds_meta(a.id)
    assert meta["id"] == a.id
    assert meta["name"] == "alpha sales"
    assert meta["description"] == "first"
    assert meta["rows"] == 0
    assert meta["schema"]["columns"] == [
        {"type": "LONG", "name": "x"},
        {"type": "DATE", "name": "y"},
    ]
    for key in ("createdAt", "updatedAt"):
        dt.datetime.fromisoformat(meta[key])

    listed = domo.ds_list(df_output=False)
    assert [d["name"] for d in listed] == ["alpha sales", "beta"]
    assert [d["name"] for d in domo.ds_list(df_output=False, per_page=1)] == [
        "alpha sales",
        "beta",
    ]
    assert [d["name"] for d in domo.ds_list(df_output=False, limit=1)] == ["alpha sales"]
    assert [d["name"] for d in domo.ds_list(df_output=False, name_like="ALPHA")] == ["alpha sales"]
    frame = domo.ds_list()
    assert list(frame["name"]) == ["alpha sales", "beta"]


def test_datasets_client_crud_import_export(domo: Any, domo_emulator: LocalDomo) -> None:
    request = DataSetRequest()
    request.name = "guests"
    request.description = "party"
    request.schema = Schema([Column(ColumnType.STRING, "friend"), Column(ColumnType.LONG, "age")])
    created = domo.datasets.create(request)
    ds_id = created["id"]
    assert created["schema"]["columns"] == [
        {"type": "STRING", "name": "friend"},
        {"type": "LONG", "name": "age"},
    ]
    updated = domo.datasets.update(ds_id, {"name": "guest list"})
    assert updated["name"] == "guest list"
    assert updated["description"] == "party"

    domo.datasets.data_import(ds_id, 'Leonhard,76\n"Gauss, Carl",\n')
    domo.datasets.data_import(ds_id, "Ada,36\n", UpdateMethod.APPEND)
    ours = domo_emulator.client().dataset(ds_id).query("SELECT * FROM table ORDER BY friend")
    assert ours.to_pyarrow().to_pylist() == [
        {"friend": "Ada", "age": 36},
        {"friend": "Gauss, Carl", "age": None},
        {"friend": "Leonhard", "age": 76},
    ]
    domo.datasets.data_import(ds_id, "Emmy,53\n")  # REPLACE by default
    assert domo.datasets.data_export(ds_id, True) == "friend,age\nEmmy,53\n"
    assert domo.datasets.data_export(ds_id, False) == "Emmy,53\n"

    domo.datasets.delete(ds_id)
    with pytest.raises(Exception, match="Not Found"):
        domo.ds_meta(ds_id)


def test_delete_get_and_file_round_trips(
    domo: Any, domo_emulator: LocalDomo, tmp_path: Path
) -> None:
    client = domo_emulator.client()
    ds = client.create_dataset("files", {"name": "STRING", "n": "LONG"}, description="d")
    assert domo.datasets.get(ds.id)["name"] == "files"

    source = tmp_path / "in.csv"
    source.write_text("a,1\nb,2\n")
    domo.datasets.data_import_from_file(ds.id, str(source))
    rows = ds.query("SELECT * FROM table ORDER BY `n`").to_pyarrow().to_pylist()
    assert rows == [{"name": "a", "n": 1}, {"name": "b", "n": 2}]

    target = tmp_path / "out.csv"
    domo.datasets.data_export_to_file(ds.id, target, True).close()
    assert target.read_text() == "name,n\na,1\nb,2\n"
    # csv.DictReader inside: every value a string.
    assert domo.ds_get_dict(ds.id) == [{"name": "a", "n": "1"}, {"name": "b", "n": "2"}]

    domo.ds_delete(ds.id, prompt_before_delete=False)
    with pytest.raises(dd.NotFoundError):
        ds.metadata()


def test_streams_executions_parts_and_commit(
    domo: Any, domo_emulator: LocalDomo, tmp_path: Path
) -> None:
    request = DataSetRequest()
    request.name = "events"
    request.description = ""
    request.schema = Schema([Column(ColumnType.LONG, "n"), Column(ColumnType.STRING, "s")])
    stream = domo.streams.create(CreateStreamRequest(request, UpdateMethod.APPEND))
    sid = stream["id"]
    ds_id = stream["dataSet"]["id"]
    assert stream["updateMethod"] == "APPEND"
    assert domo.streams.get(sid)["dataSet"]["id"] == ds_id
    [found] = domo.streams.search(f"dataSource.id:{ds_id}")
    assert found["id"] == sid
    assert [s["id"] for s in domo.streams.list(50, 0)] == [sid]
    ours = domo_emulator.client().dataset(ds_id)

    def rows() -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (
            ours.query("SELECT * FROM table ORDER BY n").to_pyarrow().to_pylist()
        )
        return result

    # Parts 1 (plain), 2 (a gzip file, sent compressed) and 3 (a gzip file pydomo
    # decompresses); nothing is visible until the commit.
    execution = domo.streams.create_execution(sid)
    eid = execution["id"]
    assert execution["currentState"] == "ACTIVE"
    domo.streams.upload_part(sid, eid, 1, '1,one\n2,"two, too"\n')
    part2 = tmp_path / "part2.csv"
    part2.write_text("3,\n")
    domo.streams.upload_gzip_part_from_file(sid, eid, 2, str(part2), False, 1024)
    part3 = tmp_path / "part3.csv.gz"
    part3.write_bytes(gzip.compress("4,Café\n".encode()))
    domo.streams.upload_csv_part_from_file(sid, eid, 3, str(part3), "gzip")
    assert rows() == []
    committed = domo.streams.commit_execution(sid, eid)
    assert committed["currentState"] == "SUCCESS"
    assert domo.streams.get_execution(sid, eid)["currentState"] == "SUCCESS"
    assert rows() == [
        {"n": 1, "s": "one"},
        {"n": 2, "s": "two, too"},
        {"n": 3, "s": None},
        {"n": 4, "s": "Café"},
    ]
    gzip_parts = [
        r
        for r in domo_emulator.requests("/v1/streams/*/executions/*/part/*")
        if r["content_encoding"] == "gzip"
    ]
    assert len(gzip_parts) == 1

    # The stream appends; after switching it to REPLACE an execution replaces.
    second = domo.streams.create_execution(sid)["id"]
    domo.streams.upload_part(sid, second, 0, "5,five\n")
    domo.streams.commit_execution(sid, second)
    assert len(rows()) == 5
    assert domo.streams.update(sid, {"updateMethod": "REPLACE"})["updateMethod"] == "REPLACE"
    third = domo.streams.create_execution(sid)["id"]
    domo.streams.upload_part(sid, third, 0, "9,nine\n")
    domo.streams.commit_execution(sid, third)
    assert rows() == [{"n": 9, "s": "nine"}]

    # Aborted executions leave the data alone.
    fourth = domo.streams.create_execution(sid)["id"]
    domo.streams.upload_part(sid, fourth, 1, "10,ten\n")
    assert domo.streams.abort_execution(sid, fourth)["currentState"] == "ABORTED"
    fifth = domo.streams.create_execution(sid)["id"]
    domo.streams.abort_current_execution(sid)
    assert domo.streams.get_execution(sid, fifth)["currentState"] == "ABORTED"
    assert rows() == [{"n": 9, "s": "nine"}]
    states = [e["currentState"] for e in domo.streams.list_executions(sid, 50, 0)]
    assert states == ["SUCCESS", "SUCCESS", "SUCCESS", "ABORTED", "ABORTED"]

    # Deleting the stream keeps the dataset.
    domo.streams.delete(sid)
    assert domo.streams.search(f"dataSource.id:{ds_id}") == []
    assert rows() == [{"n": 9, "s": "nine"}]


def test_errors_are_domo_shaped(domo: Any, domo_emulator: LocalDomo) -> None:
    with pytest.raises(Exception, match='"status":404') as info:
        domo.ds_meta("no-such-dataset")
    assert '"toe"' in str(info.value)
    ds = domo_emulator.client().create_dataset("t", {"x": "LONG"})
    with pytest.raises(Exception, match="Invalid SQL"):
        domo.ds_query(ds.id, "SELECT nope FROM table")


def test_pdp_calls_are_served_and_enforced(domo: Any, domo_emulator: LocalDomo) -> None:
    client = domo_emulator.client()
    ds = client.create_dataset("pdp", {"id": "LONG", "region": "STRING"})
    rows = [{"id": i, "region": ["East", "West"][i % 2]} for i in range(10)]
    ds.upload(rows_table(rows))
    domo_emulator.add_user(27, email="ann@local.domo", password="ann-pw", token="ann-token-x")
    ds.share([{"id": 27, "access_level": "CAN_VIEW"}])

    listed = domo.pdp_list(ds.id, df_output=False)
    assert [(p["name"], p["type"]) for p in listed] == [("All Rows", "open")]
    assert list(domo.pdp_list(ds.id)["name"]) == ["All Rows"]
    policy = {
        "name": "Only East",
        "filters": [{"column": "region", "values": ["East"], "operator": "EQUALS", "not": False}],
        "users": [27],
        "type": "user",
    }
    created = domo.pdp_create(ds.id, policy)
    assert created["name"] == "Only East" and created["users"] == [27]
    assert domo.datasets.get_pdp(ds.id, created["id"]) == created
    updated = domo.pdp_update(ds.id, created["id"], {"name": "East only"})
    assert updated["name"] == "East only" and updated["filters"] == created["filters"]
    domo.pdp_delete(ds.id, listed[0]["id"])
    assert [p["id"] for p in domo.datasets.list_pdps(ds.id)] == [created["id"]]

    # pydomo's own client, logged in as the user, now reads the East rows only.
    ann = pydomo.Domo(
        "ann@local.domo",
        "ann-pw",
        api_host=domo_emulator.url.removeprefix("http://"),
        use_https=False,
        log_level=logging.ERROR,
    )
    east = sorted(r["id"] for r in rows if r["region"] == "East")
    assert sorted(ann.ds_get(ds.id)["id"]) == east
    answer = ann.ds_query(ds.id, "SELECT id FROM table")
    assert sorted(answer["id"]) == east
    assert len(domo.ds_get(ds.id)) == len(rows)

    policy_id = created["id"]
    domo.datasets.update_pdp(ds.id, policy_id, {"users": [27], "name": "again"})
    domo.datasets.delete_pdp(ds.id, policy_id)
    domo.datasets.create_pdp(ds.id, {**policy, "name": "made by the client"})
    assert [p["name"] for p in domo.datasets.list_pdps(ds.id)] == ["made by the client"]


def rows_table(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist(
        rows, schema=pa.schema([("id", pa.int64()), ("region", pa.string())])
    )
