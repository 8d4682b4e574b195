"""The emulator is safe to run on a shared host: access is checked on every route with the
id the handler acts on, SQL sees only the addressed dataset, a runaway query is cut off,
admin routes refuse other sites, unauthenticated bodies are never read, stored secrets
are digests; plus the "commit applied, reply lost" fault and partitioned uploads.

Requests go over raw HTTP (``http.client``) where the test is about the wire itself."""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import domo_datasets as dd
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo

SMALL = {"id": "LONG", "code": "STRING"}
OWNER, STRANGER = "71", "72"
OWNER_TOKEN, STRANGER_TOKEN = "owner-token-71", "stranger-token-72"


def _raw(
    domo: LocalDomo,
    method: str,
    path: str,
    *,
    body: bytes | str | dict[str, Any] | list[Any] | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, bytes]:
    """One request to the emulator; the status and body of its answer."""
    conn = http.client.HTTPConnection("127.0.0.1", domo.port, timeout=timeout)
    try:
        sent = dict(headers or {})
        if token is not None:
            sent["X-DOMO-Developer-Token"] = token
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            sent.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=sent)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _users(domo: LocalDomo) -> None:
    domo.add_user(OWNER, token=OWNER_TOKEN)
    domo.add_user(STRANGER, token=STRANGER_TOKEN)


def _owned_dataset(client: dd.Client, domo: LocalDomo) -> dd.Dataset:
    """A dataset with two rows and a partition ``a``, owned by user OWNER."""
    ds = client.create_dataset("guarded", SMALL)
    ds.append_rows([{"id": 1, "code": "one"}, {"id": 2, "code": "two"}])
    ds.upload(pa.table({"id": [3], "code": ["three"]}), partition="a")
    ds.set_owner(OWNER)
    return ds


def _instance_routes(domo: LocalDomo) -> list[dict[str, Any]]:
    status, body = _raw(domo, "GET", "/_emulator/routes")
    assert status == 200
    routes = json.loads(body)
    # The instance API's routes; seeded users' OAuth clients on /v1 are in test_policies.py.
    return [
        r
        for r in routes
        if r["path"].startswith("/api/") and r["access"]["kind"] in ("dataset", "stream", "body")
    ]


def _encode_first(text: str) -> str:
    """``text`` with its first character percent-encoded (``4`` -> ``%34``)."""
    return f"%{ord(text[0]):02X}{quote(text[1:], safe='')}"


def _fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


def _sample(
    route: dict[str, Any], ds: dd.Dataset, domo: LocalDomo, admin: dd.Client
) -> tuple[dict[str, str], bytes | str | dict[str, Any] | list[Any] | None, dict[str, str]]:
    """Path values, body and headers that make the route succeed for the owner."""
    path, method = route["path"], route["method"]
    ids = {
        "id": ds.id,
        "sid": str(ds.metadata()["streamId"]),
        "kind": "USER",
        "entity": STRANGER,
        "user": STRANGER,
        "tag": "a",
        "part": "1",
    }
    headers: dict[str, str] = {}
    body: bytes | str | dict[str, Any] | list[Any] | None = None
    if "{upload}" in path:
        status, answer = _raw(
            domo,
            "POST",
            f"/api/data/v3/datasources/{ds.id}/uploads",
            body={},
            token=domo.token,
        )
        assert status == 200
        ids["upload"] = str(json.loads(answer)["uploadId"])
        if path.endswith("/commit"):
            _raw(
                domo,
                "PUT",
                f"/api/data/v3/datasources/{ds.id}/uploads/{ids['upload']}/parts/1",
                body="9,nine\n",
                token=domo.token,
                headers={"Content-Type": "text/csv"},
            )
    if "{index}" in path:
        ids["index"] = str(ds.index()["indexId"])
    if path.endswith("/dataflow"):
        domo.set_dataflow(ds.id, {"id": 5, "name": "flow"})
    grant = [{"id": STRANGER, "type": "USER", "accessLevel": "CAN_VIEW"}]
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/api/query/v1/execute/{id}"): {"sql": "SELECT * FROM table"},
        ("PUT", "/api/data/v3/datasources/{id}/uploads/{upload}/parts/{part}"): "8,eight\n",
        ("PUT", "/api/data/v3/datasources/{id}/uploads/{upload}/commit"): {"action": "APPEND"},
        ("PUT", "/api/data/v3/datasources/{id}/permissions"): {"permissions": grant},
        ("POST", "/api/data/v3/datasources/{id}/share"): {"permissions": grant},
        ("DELETE", "/api/data/v3/datasources/{id}/users"): [{"id": STRANGER, "type": "USER"}],
        ("PUT", "/api/data/v3/datasources/{id}/owner"): {"owner": {"id": OWNER, "type": "USER"}},
        ("PUT", "/api/data/v3/datasources/{id}/properties"): {"properties": {"tier": "gold"}},
        ("POST", "/api/data/v2/datasources/{id}/schemas"): {
            "columns": [{"name": "id", "type": "LONG"}, {"name": "code", "type": "STRING"}]
        },
        ("PUT", "/api/data/v2/datasources/{id}/data"): {"data": [{"id": 1, "code": "x"}]},
        ("PUT", "/api/data/v2/datasources/{id}/query"): {"query": "SELECT 1"},
        ("PUT", "/api/data/v2/datasources/{id}/sql"): {"sql": "SELECT 1"},
        ("POST", "/api/data/ui/v3/datasources/{id}/tags"): ["t"],
        ("DELETE", "/api/data/ui/v3/datasources/{id}/tags"): ["t"],
        ("POST", "/api/query/v1/datasources/{id}/partition/list"): {},
        ("POST", "/api/dataprocessing/v2/dataflows/data-version-hydrate"): {"dataSourceId": ds.id},
        ("POST", "/api/data/v3/datasources/{id}/indexes"): {},
        ("PUT", "/api/data/v3/datasources/{id}/indexes/{index}"): {},
        ("PUT", "/api/data/v1/streams/{sid}"): {"updateMethod": "APPEND"},
        ("POST", "/api/data/v1/streams/{sid}/executions"): {},
        ("POST", "/api/data/v3/datasources/{id}/uploads"): {},
        ("POST", "/api/data/v3/datasources/{id}/uploads/"): {},
    }
    body = bodies.get((method, path))
    if isinstance(body, str):
        headers["Content-Type"] = "text/csv"
    return ids, body, headers


def _rows(domo: LocalDomo, ds_id: str) -> list[Any]:
    status, body = _raw(
        domo,
        "POST",
        f"/api/query/v1/execute/{ds_id}",
        body={"sql": "SELECT * FROM table ORDER BY id"},
        token=domo.token,
    )
    assert status == 200, body
    rows: list[Any] = json.loads(body)["rows"]
    return rows


# -- access, route by route -----------------------------------------------------------------


@pytest.mark.parametrize("encode", [False, True], ids=["plain", "percent-encoded"])
def test_every_dataset_route_refuses_a_user_without_access(
    domo_client: dd.Client, domo_emulator: LocalDomo, encode: bool
) -> None:
    _users(domo_emulator)
    routes = _instance_routes(domo_emulator)
    assert len(routes) > 40
    for route in routes:
        ds = _owned_dataset(domo_client, domo_emulator)
        before = _rows(domo_emulator, ds.id)
        ids, body, headers = _sample(route, ds, domo_emulator, domo_client)
        if encode:
            ids["id"] = _encode_first(ids["id"])
            ids["sid"] = _encode_first(ids["sid"])
            if isinstance(body, dict) and "dataSourceId" in body:
                # JSON's own escape for the same first character.
                body = json.dumps(body).replace(
                    f'"{ds.id}"', f'"\\u{ord(ds.id[0]):04x}{ds.id[1:]}"'
                )
                headers["Content-Type"] = "application/json"
        path = _fill(route["path"], ids)
        status, answer = _raw(
            domo_emulator, route["method"], path, body=body, token=STRANGER_TOKEN, headers=headers
        )
        where = f"{route['method']} {path}: {answer[:300]!r}"
        assert status == 403, where
        error = json.loads(answer)
        assert error["status"] == 403 and "toe" in error, where
        # Nothing of the dataset in the answer, nothing changed.
        assert b"one" not in answer and b"three" not in answer, where
        assert _rows(domo_emulator, ds.id) == before, where
        assert domo_client.dataset(ds.id).owner()["id"] == OWNER, where


def test_every_dataset_route_serves_its_owner(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    _users(domo_emulator)
    routes = _instance_routes(domo_emulator)
    for route in routes:
        ds = _owned_dataset(domo_client, domo_emulator)
        ids, body, headers = _sample(route, ds, domo_emulator, domo_client)
        path = _fill(route["path"], ids)
        status, answer = _raw(
            domo_emulator, route["method"], path, body=body, token=OWNER_TOKEN, headers=headers
        )
        assert 200 <= status < 300, f"{route['method']} {path}: {status} {answer[:300]!r}"


def test_routes_declare_their_access(domo_emulator: LocalDomo) -> None:
    status, body = _raw(domo_emulator, "GET", "/_emulator/routes")
    assert status == 200
    routes = json.loads(body)
    by_route = {(r["method"], r["path"]): r["access"] for r in routes}
    assert by_route[("POST", "/api/query/v1/execute/{id}")] == {
        "kind": "dataset",
        "by": "id",
        "level": "CAN_VIEW",
    }
    assert by_route[("DELETE", "/api/data/v3/datasources/{id}")]["level"] == "CO_OWNER"
    assert by_route[("POST", "/api/data/v1/streams/{sid}/executions")] == {
        "kind": "stream",
        "by": "sid",
        "level": "CAN_EDIT",
    }
    assert by_route[("POST", "/api/dataprocessing/v2/dataflows/data-version-hydrate")] == {
        "kind": "body",
        "by": "dataSourceId",
        "level": "CAN_VIEW",
    }
    # Every route that names a dataset in its path declares which parameter it is.
    for r in routes:
        if "{id}" in r["path"] and r["path"].startswith("/api/"):
            assert r["access"]["kind"] == "dataset", r


# -- SQL confined to its dataset --------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM v_1",
        'SELECT * FROM "v_1"',
        "SELECT * FROM d_1",
        "SELECT * FROM s_2",
        "SELECT * FROM s_1",
        "SELECT name, sql FROM sqlite_master",
        "SELECT * FROM sqlite_schema",
        "SELECT * FROM _users",
        "SELECT * FROM _datasets",
        "SELECT `id` FROM table UNION ALL SELECT 1 FROM v_1",
        "SELECT * FROM pragma_table_info('v_1')",
        "PRAGMA table_info(v_1)",
        "ATTACH DATABASE ':memory:' AS other",
        "SELECT (SELECT count(*) FROM v_1) AS n FROM table",
    ],
)
def test_sql_reads_only_its_own_dataset(
    domo_client: dd.Client, domo_emulator: LocalDomo, sql: str
) -> None:
    domo_emulator.add_user("9", token="secret-user-token", password="secret-user-password")
    other = domo_client.create_dataset("other", {"secret": "STRING"})
    other.append_rows([{"secret": "do-not-read"}])
    mine = domo_client.create_dataset("mine", SMALL)
    mine.append_rows([{"id": 1, "code": "x"}])
    assert domo_emulator.state()["datasets"][0]["id"] == other.id  # other is v_1
    with pytest.raises(dd.DomoError) as info:
        mine.query(sql)
    assert info.value.status == 400
    text = str(info.value) + str(info.value.body)
    for leak in ("do-not-read", "secret", "v_1", "_users"):
        assert leak not in text
    # The dataset's own table, functions and recursion still work.
    assert mine.query("SELECT `id` FROM table").to_pyarrow().to_pylist() == [{"id": 1}]
    got = mine.query(
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3) "
        "SELECT SUM(n) AS s, UPPER('a') AS u FROM c"
    ).to_pyarrow()
    assert got.to_pylist() == [{"s": 6, "u": "A"}]


# -- query time limit -------------------------------------------------------------------------

RUNAWAY = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT COUNT(*) FROM c"


def test_runaway_query_is_cut_off_while_other_requests_are_served(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("t", SMALL)
    domo_emulator.set_query_timeout(3)
    outcome: dict[str, Any] = {}

    def runaway() -> None:
        outcome["answer"] = _raw(
            domo_emulator,
            "POST",
            f"/api/query/v1/execute/{ds.id}",
            body={"sql": RUNAWAY},
            token=domo_emulator.token,
        )

    worker = threading.Thread(target=runaway)
    worker.start()
    try:
        # The admin routes answer while the query runs.
        status, _ = _raw(domo_emulator, "GET", "/_emulator/faults")
        assert status == 200
        assert worker.is_alive()
        # The limit can be changed while a query holds the store.
        status, _ = _raw(
            domo_emulator, "POST", "/_emulator/settings", body={"queryTimeoutMs": 3000}
        )
        assert status == 200
    finally:
        worker.join(60)
    assert not worker.is_alive()
    status, body = outcome["answer"]
    assert status == 400
    error = json.loads(body)
    assert error["status"] == 400 and "timed out" in error["message"] and error["toe"]
    # The client sees it as a DomoError, and the next query runs.
    with pytest.raises(dd.DomoError) as info:
        ds.query(RUNAWAY)
    assert info.value.status == 400
    ds.append_rows([{"id": 1, "code": "x"}])
    assert ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow().to_pylist() == [{"n": 1}]


def test_a_long_query_does_not_hold_up_writes(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("t", SMALL)
    domo_emulator.set_query_timeout(4)
    domo_emulator.clear_requests()
    query = f"/api/query/v1/execute/{ds.id}"
    worker = threading.Thread(
        target=_raw,
        args=(domo_emulator, "POST", query),
        kwargs={"body": {"sql": RUNAWAY}, "token": domo_emulator.token},
    )
    worker.start()
    try:
        # Give the query time to start (it then runs for 4 s).
        threading.Event().wait(0.5)
        ds.append_rows([{"id": 1, "code": "x"}])
        ds.upload(pa.table({"id": [2], "code": ["y"]}))
        assert ds.export().read_all().num_rows == 2
    finally:
        worker.join(60)
    # Each request is logged when it is answered: the writes and the export were
    # answered while the query still ran.
    order = [e["path"] == query for e in domo_emulator.requests()]
    assert order[-1] is True and order.count(True) == 1, order


def test_query_time_limit_setting_is_checked_and_reset(domo_emulator: LocalDomo) -> None:
    for bad in (0, -5, "soon", 10**12):
        status, body = _raw(
            domo_emulator, "POST", "/_emulator/settings", body={"queryTimeoutMs": bad}
        )
        assert status == 400, body
    domo_emulator.set_query_timeout(0.5)
    domo_emulator.reset()
    ds = domo_emulator.client().create_dataset("t", SMALL)
    # Back to the default: a query needing more than half a second is not cut off.
    heavy = (
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000000) "
        "SELECT COUNT(*) AS n FROM c"
    )
    assert ds.query(heavy).to_pyarrow().to_pylist() == [{"n": 3_000_000}]


# -- admin routes and Host ---------------------------------------------------------------------


def test_admin_routes_refuse_cross_site_requests(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("keep", SMALL)
    port = domo_emulator.port
    refused = [
        ({"Content-Type": "text/plain"}, "{}", 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "a=1", 415),
        ({"Content-Type": "multipart/form-data; boundary=x"}, "--x--", 415),
        ({}, None, 415),
        ({"Content-Type": "application/json", "Origin": "http://evil.example"}, "{}", 403),
        ({"Content-Type": "application/json", "Origin": "null"}, "{}", 403),
        (
            {"Content-Type": "application/json", "Origin": f"http://evil.example:{port}"},
            "{}",
            403,
        ),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, "{}", 403),
    ]
    for headers, body, expected in refused:
        status, answer = _raw(domo_emulator, "POST", "/_emulator/reset", body=body, headers=headers)
        assert status == expected, (headers, answer)
        assert json.loads(answer)["status"] == expected
    assert [d["id"] for d in domo_emulator.state()["datasets"]] == [ds.id]
    # This server's own origin is fine.
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        status, _ = _raw(
            domo_emulator,
            "POST",
            "/_emulator/faults",
            body={"path": "/nothing"},
            headers={"Origin": origin},
        )
        assert status == 200
    status, _ = _raw(domo_emulator, "POST", "/_emulator/reset", body={})
    assert status == 200
    assert domo_emulator.state()["datasets"] == []


def test_requests_naming_another_host_are_refused(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("t", SMALL)
    port = domo_emulator.port
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}", "127.0.0.1"):
        for method, path in (
            ("GET", f"/api/data/v3/datasources/{ds.id}"),
            ("GET", "/_emulator/state"),
        ):
            status, body = _raw(
                domo_emulator,
                method,
                path,
                token=domo_emulator.token,
                headers={"Host": host},
            )
            assert status == 421, (host, path, body)
            assert ds.id.encode() not in body
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        status, _ = _raw(
            domo_emulator,
            "GET",
            f"/api/data/v3/datasources/{ds.id}",
            token=domo_emulator.token,
            headers={"Host": host},
        )
        assert status == 200, host


# -- bodies authenticated before they are read ------------------------------------------------


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_unauthenticated_body_is_refused_before_it_is_sent(
    domo_client: dd.Client, domo_emulator: LocalDomo, token: str | None
) -> None:
    ds = domo_client.create_dataset("t", SMALL)
    conn = http.client.HTTPConnection("127.0.0.1", domo_emulator.port, timeout=20)
    try:
        conn.putrequest("PUT", f"/api/data/v3/datasources/{ds.id}/uploads/1/parts/1")
        conn.putheader("Content-Type", "text/csv")
        conn.putheader("Content-Length", str(100 * 1024 * 1024))
        if token is not None:
            conn.putheader("X-DOMO-Developer-Token", token)
        conn.endheaders()
        # Not one byte of the 100 MB is sent: the answer must come without it.
        resp = conn.getresponse()
        assert resp.status == 401
        assert json.loads(resp.read())["status"] == 401
    finally:
        conn.close()
    log = domo_emulator.requests(method="PUT")
    assert [(e["status"], e["bytes"]) for e in log] == [(401, 0)]


# -- stored secrets ----------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_state_file_is_private_and_holds_no_clear_secrets(tmp_path: Path) -> None:
    data = tmp_path / "state"
    with LocalDomo(data_dir=data) as domo:
        domo.add_user("5", token="tok-5-plain-secret", password="pw-5-plain-secret")
        ds = domo.client().create_dataset("t", SMALL)
        ds.append_rows([{"id": 1, "code": "x"}])
        ds.share([{"id": "5", "type": "USER", "accessLevel": "CAN_VIEW"}])
    files = sorted(data.iterdir())
    assert data / "domo.sqlite" in files
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        raw = f.read_bytes()
        assert b"tok-5-plain-secret" not in raw and b"pw-5-plain-secret" not in raw, f
    with sqlite3.connect(data / "domo.sqlite") as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(_users)")]
        assert "token" not in columns and "password" not in columns
    # The token still works after a restart: the digest is what is looked up.
    with LocalDomo(data_dir=data) as domo:
        user = dd.Client(domo.url, token="tok-5-plain-secret")
        got = user.dataset(ds.id).query("SELECT `id` FROM table").to_pyarrow().to_pylist()
        assert got == [{"id": 1}]
        with pytest.raises(dd.AuthError):
            dd.Client(domo.url, token="tok-5").dataset(ds.id).metadata()


# -- commit applied, reply lost ----------------------------------------------------------------


def test_drop_reply_fault_applies_the_commit_and_sends_nothing(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("t", SMALL)
    base = f"/api/data/v3/datasources/{ds.id}/uploads"
    token = domo_emulator.token
    status, body = _raw(domo_emulator, "POST", base, body={}, token=token)
    assert status == 200
    upload = json.loads(body)["uploadId"]
    status, _ = _raw(
        domo_emulator,
        "PUT",
        f"{base}/{upload}/parts/1",
        body="1,a\n2,b\n",
        token=token,
        headers={"Content-Type": "text/csv"},
    )
    assert status == 200
    domo_emulator.inject_fault(f"{base}/*/commit", method="PUT", drop_reply=True)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        _raw(
            domo_emulator, "PUT", f"{base}/{upload}/commit", body={"action": "APPEND"}, token=token
        )
    # No reply came, yet the commit was applied.
    assert _rows(domo_emulator, ds.id) == [[1, "a"], [2, "b"]]
    [commit] = domo_emulator.requests(f"{base}/*/commit")
    assert commit["dropped"] is True and commit["status"] == 200
    # The rule was used up: a second commit of the same upload gets its answer.
    status, _ = _raw(
        domo_emulator, "PUT", f"{base}/{upload}/commit", body={"action": "APPEND"}, token=token
    )
    assert status != 200
    assert _rows(domo_emulator, ds.id) == [[1, "a"], [2, "b"]]


def test_drop_reply_cannot_be_combined(domo_emulator: LocalDomo) -> None:
    for rule in ({"drop": True}, {"status": 503}):
        status, _ = _raw(
            domo_emulator,
            "POST",
            "/_emulator/faults",
            body={"path": "/api/**", "drop_reply": True, **rule},
        )
        assert status == 400


# -- partitioned uploads -----------------------------------------------------------------------


def _tagged(ids: range, tag: str) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "code": pa.array([tag] * len(ids))})


def test_replace_with_a_partition_is_refused_and_append_restates_it(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("p", SMALL)
    ds.upload(_tagged(range(0, 3), "a"), partition="a")
    ds.upload(_tagged(range(3, 5), "b"), partition="b")
    domo_emulator.clear_requests()
    with pytest.raises(ValueError) as info:
        ds.upload(_tagged(range(20, 23), "a"), mode="replace", partition="a")
    message = str(info.value)
    assert 'mode="append"' in message and "partition" in message and "whole dataset" in message
    assert domo_emulator.requests() == []
    # What to do instead: append with the partition, which restates it.
    ds.upload(_tagged(range(10, 12), "a"), mode="append", partition="a")
    uploads = [u for u in domo_emulator.state()["uploads"] if u["dataset"] == ds.id]
    assert [(u["action"], u["dataTag"]) for u in uploads] == [
        ("APPEND", "a"),
        ("APPEND", "b"),
        ("APPEND", "a"),
    ]
    assert _rows(domo_emulator, ds.id) == [[3, "b"], [4, "b"], [10, "a"], [11, "a"]]


def test_emulator_replace_with_a_tag_restates_only_that_partition(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("p", SMALL)
    ds.upload(_tagged(range(0, 3), "a"), partition="a")
    ds.upload(_tagged(range(3, 5), "b"), partition="b")
    ds.append_rows([{"id": 99, "code": "untagged"}])
    base = f"/api/data/v3/datasources/{ds.id}/uploads"
    token = domo_emulator.token
    status, body = _raw(domo_emulator, "POST", base, body={}, token=token)
    upload = json.loads(body)["uploadId"]
    _raw(
        domo_emulator,
        "PUT",
        f"{base}/{upload}/parts/1",
        body="7,a\n",
        token=token,
        headers={"Content-Type": "text/csv"},
    )
    status, body = _raw(
        domo_emulator,
        "PUT",
        f"{base}/{upload}/commit",
        body={"action": "REPLACE", "dataTag": "a"},
        token=token,
    )
    assert status == 200, body
    # The reading that cannot lose data: partition "a" restated, nothing else touched.
    assert _rows(domo_emulator, ds.id) == [[3, "b"], [4, "b"], [7, "a"], [99, "untagged"]]


def test_client_reports_a_commit_whose_reply_was_lost(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    """The emulator applies the commit and drops the reply; the client says the outcome
    is unknown, sends the commit once, and the data versions show what happened."""
    ds = domo_client.create_dataset("ambiguous", {"n": "LONG"})
    commit = "/api/data/v3/datasources/*/uploads/*/commit"
    domo_emulator.inject_fault(commit, method="PUT", drop_reply=True)
    with pytest.raises(dd.CommitOutcomeUnknownError) as raised:
        ds.upload(pa.table({"n": pa.array([1, 2, 3], pa.int64())}))
    assert "data_versions" in str(raised.value) or "data versions" in str(raised.value)
    assert isinstance(raised.value, dd.TransportError)
    assert len(domo_emulator.requests(commit, "PUT")) == 1
    # It was applied: the rows are there, and one committed version says so.
    assert ds.query("SELECT SUM(`n`) AS s FROM table").to_pyarrow().column("s").to_pylist() == [6]
    assert [v["status"] for v in ds.data_versions()] == ["ACTIVE"]


async def test_async_client_reports_a_commit_whose_reply_was_lost(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = await domo_client.create_dataset_async("ambiguous", {"n": "LONG"})
    commit = "/api/data/v3/datasources/*/uploads/*/commit"
    domo_emulator.inject_fault(commit, method="PUT", drop_reply=True)
    with pytest.raises(dd.CommitOutcomeUnknownError):
        await ds.upload_async(pa.table({"n": pa.array([4], pa.int64())}))
    assert len(domo_emulator.requests(commit, "PUT")) == 1
    assert ds.query("SELECT `n` FROM table").to_pyarrow().column("n").to_pylist() == [4]
