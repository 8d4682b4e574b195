"""Answers shaped as the live service gives them, where clients written against it
(domolibrary, the R clients) read them: each checked on the raw HTTP answer and through
this package's client, which also accepts the contract's shapes.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import domo_datasets as dd
import pytest
from domo_datasets.testing import LocalDomo


def raw(
    domo: LocalDomo,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One request to the emulator with its own token; the status and the decoded JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        domo.url + path,
        data=data,
        method=method,
        headers={
            "X-DOMO-Developer-Token": domo.token,
            "Content-Type": "application/json",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, json.loads(text) if text.strip() else None


def created_id(domo: LocalDomo, columns: list[dict[str, str]]) -> str:
    status, body = raw(
        domo,
        "POST",
        "/api/data/v2/datasources",
        {"userDefinedType": "api", "dataSourceName": "raw", "schema": {"columns": columns}},
    )
    assert status == 200, body
    dataset_id: str = body["dataSource"]["dataSourceId"]
    return dataset_id


# -- a stand-in server for answers the local Domo does not give -------------------------


@pytest.fixture
def stand_in() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], None]], str]]:
    """Starts a local server whose every request is handled by the function given."""
    servers: list[ThreadingHTTPServer] = []

    def start(handle: Callable[[BaseHTTPRequestHandler], None]) -> str:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            do_GET = do_POST = do_PUT = do_DELETE = handle

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def answer(handler: BaseHTTPRequestHandler, body: Any, status: int = 200) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def request_json(handler: BaseHTTPRequestHandler) -> Any:
    length = int(handler.headers.get("Content-Length") or 0)
    return json.loads(handler.rfile.read(length)) if length else None


# -- create: nested under dataSource --------------------------------------------------


def test_create_answers_the_dataset_nested_under_data_source(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    dataset_id = created_id(domo_emulator, [{"type": "LONG", "name": "n"}])
    assert len(dataset_id) == 36
    status, _ = raw(domo_emulator, "POST", "/api/data/v2/datasources", None)
    assert status == 400
    ds = domo_client.create_dataset("through the client", {"n": "LONG"})
    status, meta = raw(domo_emulator, "GET", f"/api/data/v3/datasources/{ds.id}")
    assert status == 200
    assert meta["name"] == "through the client"


@pytest.mark.parametrize(
    "created",
    [
        {"dataSourceId": "flat-id", "name": "x"},
        {"id": "flat-id", "name": "x"},
        {"dataSource": {"dataSourceId": "flat-id"}},
        {"dataSource": {"id": "flat-id"}},
    ],
    ids=["flat dataSourceId", "flat id", "nested dataSourceId", "nested id"],
)
async def test_the_client_reads_either_create_shape(stand_in: Any, created: Any) -> None:
    def handle(handler: BaseHTTPRequestHandler) -> None:
        request_json(handler)
        answer(handler, created)

    client = dd.Client(stand_in(handle), token="t", max_retries=0)
    assert client.create_dataset("x", {"n": "LONG"}).id == "flat-id"
    assert (await client.create_dataset_async("x", {"n": "LONG"})).id == "flat-id"


# -- tags: in the metadata, and POST replacing the list ------------------------------------


def test_metadata_carries_tags_as_a_json_string(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("tagged", {"n": "LONG"})
    status, meta = raw(domo_emulator, "GET", f"/api/data/v3/datasources/{ds.id}")
    assert status == 200 and meta["tags"] == "[]"
    ds.add_tags(["finance", "Café"])
    status, meta = raw(domo_emulator, "GET", f"/api/data/v3/datasources/{ds.id}")
    assert isinstance(meta["tags"], str)
    assert json.loads(meta["tags"]) == ["finance", "Café"]
    assert json.loads(ds.metadata()["tags"]) == ["finance", "Café"]


def test_posting_tags_replaces_the_list(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = domo_client.create_dataset("tagged", {"n": "LONG"})
    path = f"/api/data/ui/v3/datasources/{ds.id}/tags"
    assert raw(domo_emulator, "POST", path, ["a", "b", "a"])[0] == 200
    assert raw(domo_emulator, "GET", path) == (200, {"tags": ["a", "b"]})
    assert raw(domo_emulator, "POST", path, ["c"])[0] == 200
    assert raw(domo_emulator, "GET", path) == (200, {"tags": ["c"]})
    assert raw(domo_emulator, "DELETE", path, ["c"])[0] == 200
    assert raw(domo_emulator, "GET", path) == (200, {"tags": []})

    # add_tags keeps the tags already there, although a POST replaces them.
    ds.add_tags(["x"])
    ds.add_tags(["y", "x"])
    assert ds.tags() == ["x", "y"]
    domo_emulator.clear_requests()
    ds.add_tags(["y"])  # nothing to add: only the read is sent
    assert [r["method"] for r in domo_emulator.requests()] == ["GET"]
    ds.remove_tags(["x"])
    assert ds.tags() == ["y"]


async def test_tags_are_right_where_posting_appends(stand_in: Any) -> None:
    """A Domo reading POST as the contract's "add": the client's result is the same."""
    tags: list[str] = ["kept"]
    posts: list[Any] = []

    def handle(handler: BaseHTTPRequestHandler) -> None:
        body = request_json(handler)
        if handler.command == "POST":
            posts.append(body)
            tags.extend(t for t in body if t not in tags)
        elif handler.command == "DELETE":
            tags[:] = [t for t in tags if t not in body]
        answer(handler, {"tags": tags} if handler.command == "GET" else {})

    client = dd.Client(stand_in(handle), token="t", max_retries=0)
    ds = client.dataset("44c5d1b9-7a26-4369-bf0d-c575bfb168a6")
    ds.add_tags(["new"])
    await ds.add_tags_async(["newer", "new"])
    assert tags == ["kept", "new", "newer"]
    ds.remove_tags(["new"])
    assert tags == ["kept", "newer"]
    assert posts == [["kept", "new"], ["kept", "new", "newer"]]


# -- partitions: deleting the data leaves the tag for its own delete ---------------------


def test_partition_delete_in_two_stages(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = domo_client.create_dataset("parts", {"day": "STRING", "n": "LONG"})
    pa = pytest.importorskip("pyarrow")
    for tag, n in (("2024-01-01", 1), ("2024-01-02", 2)):
        rows = pa.table({"day": [tag], "n": pa.array([n], pa.int64())})
        ds.upload(rows, mode="append", partition=tag)
    base = f"/api/query/v1/datasources/{ds.id}"
    status, _ = raw(domo_emulator, "DELETE", f"{base}/tag/2024-01-01/data")
    assert status == 200
    # The data is gone from queries and from the partition list...
    assert ds.query("SELECT `n` FROM table").to_pyarrow().column("n").to_pylist() == [2]
    assert [p["partitionId"] for p in raw(domo_emulator, "GET", f"{base}/partition")[1]] == [
        "2024-01-02"
    ]
    # ...but the tag is still there for stage 2, which removes it once.
    status, body = raw(domo_emulator, "DELETE", f"{base}/partition/2024-01-01")
    assert status == 200, body
    status, body = raw(domo_emulator, "DELETE", f"{base}/partition/2024-01-01")
    assert status == 404 and body["status"] == 404

    # Through the client: both stages.
    ds.delete_data_version("2024-01-02")
    ds.delete_partition("2024-01-02")
    with pytest.raises(dd.NotFoundError):
        ds.delete_partition("2024-01-02")
    assert ds.query("SELECT COUNT(*) AS c FROM table").to_pyarrow().column("c").to_pylist() == [0]
    versions = ds.data_versions()
    assert [v["status"] for v in versions] == ["DELETED", "DELETED"]


# -- OAuth token: domain ------------------------------------------------------------------


def test_oauth_token_answer_names_the_domain(domo_emulator: LocalDomo) -> None:
    credentials = base64.b64encode(
        f"{domo_emulator.email}:{domo_emulator.password}".encode()
    ).decode()
    request = urllib.request.Request(
        domo_emulator.url + "/oauth/token?grant_type=client_credentials&scope=data",
        headers={"Authorization": f"Basic {credentials}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert body["domain"] == "local"
    assert body["token_type"] == "bearer" and body["access_token"]


# -- SQL errors speak of the user's SQL ---------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT WEEKZ(`n`) FROM table", "no such function: WEEKZ"),
        ("SELECT `nope` FROM table", "no such column: nope"),
        ("SELECT table.`nope` FROM table", "no such column: table.nope"),
        ("SELECT * FROM table WHERE", "incomplete input"),
    ],
)
def test_sql_errors_quote_the_users_sql(
    domo_client: dd.Client, domo_emulator: LocalDomo, sql: str, expected: str
) -> None:
    ds = domo_client.create_dataset("q", {"n": "LONG"})
    with pytest.raises(dd.BadRequestError) as raised:
        ds.query(sql)
    assert expected in raised.value.message
    assert "v_" not in raised.value.message and '"v' not in str(raised.value)
    status, body = raw(domo_emulator, "POST", f"/api/query/v1/execute/{ds.id}", {"sql": sql})
    assert status == 400 and expected in body["message"] and "v_" not in body["message"]
