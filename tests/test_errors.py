"""Auth, errors, retries and the secrecy of tokens, through injected faults."""

from __future__ import annotations

import _thread
import builtins
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import domo_datasets as dd
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo
from support import (
    COMMIT_PATH,
    LOGIN_PATH,
    METADATA_PATH,
    QUERY_PATH,
    SCHEMA_PATH,
)

MISSING_ID = "00000000-0000-0000-0000-000000000000"

MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Domo is down for maintenance</title></head>"
    "<body><h1>We'll be back soon</h1><p>Scheduled maintenance.</p></body></html>"
)
BLOCKED_PAGE = (
    "<!DOCTYPE html><html><head><title>Domo - Blocked</title></head>"
    "<body><p>Your request has been blocked.</p></body></html>"
)
# Phrases of JSON parser errors: an HTML answer must not surface as one of these.
JSON_PARSE_PHRASES = ("expected value", "at line", "eof while parsing", "key must be a string")


def _dataset(client: dd.Client) -> dd.Dataset:
    """A small dataset with three rows."""
    ds = client.create_dataset("errors", {"id": "LONG", "s": "STRING"})
    ds.upload(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "s": ["a", "b", None]}))
    return ds


# -- auth ----------------------------------------------------------------------------------


def test_login_then_query(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = _dataset(domo_client)
    domo_emulator.clear_requests()
    client = dd.Client.login(domo_emulator.url, domo_emulator.email, domo_emulator.password)
    assert client.base_url == domo_emulator.url.rstrip("/")
    got = client.dataset(ds.id).query("SELECT `id` FROM table ORDER BY `id`").to_pyarrow()
    assert got.column("id").to_pylist() == [1, 2, 3]
    [login] = domo_emulator.requests(LOGIN_PATH, "POST")
    assert login["status"] == 200
    after = [e for e in domo_emulator.requests() if e["path"] != LOGIN_PATH]
    assert [e["auth"] for e in after] == ["session"]


async def test_login_async_then_query(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = _dataset(domo_client)
    client = await dd.Client.login_async(
        domo_emulator.url, domo_emulator.email, domo_emulator.password
    )
    got = await client.dataset(ds.id).query_async("SELECT COUNT(*) AS n FROM table")
    assert got.to_pyarrow().to_pylist() == [{"n": 3}]


def test_session_token_constructor(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = _dataset(domo_client)
    body = json.dumps(
        {
            "method": "password",
            "emailAddress": domo_emulator.email,
            "password": domo_emulator.password,
        }
    ).encode()
    request = urllib.request.Request(
        domo_emulator.url + LOGIN_PATH,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        answer = json.loads(response.read())
    assert answer["success"] is True
    domo_emulator.clear_requests()
    client = dd.Client(domo_emulator.url, session_token=answer["sessionToken"])
    assert client.dataset(ds.id).metadata()["id"] == ds.id
    assert [e["auth"] for e in domo_emulator.requests()] == ["session"]

    bad = dd.Client(domo_emulator.url, session_token="not-a-session")
    with pytest.raises(dd.AuthError) as info:
        bad.dataset(ds.id).metadata()
    assert info.value.status == 401


def test_wrong_password_is_auth_error(domo_emulator: LocalDomo, domo_client: dd.Client) -> None:
    with pytest.raises(dd.AuthError) as info:
        dd.Client.login(domo_emulator.url, domo_emulator.email, "not-the-password")
    assert isinstance(info.value, PermissionError)
    assert "not-the-password" not in str(info.value)
    assert len(domo_emulator.requests(LOGIN_PATH, "POST")) == 1  # a login is not retried


async def test_wrong_password_async_is_auth_error(
    domo_emulator: LocalDomo, domo_client: dd.Client
) -> None:
    with pytest.raises(PermissionError):
        await dd.Client.login_async(domo_emulator.url, "nobody@local.domo", "x")


def test_wrong_token_is_auth_error_401(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = _dataset(domo_client)
    domo_emulator.clear_requests()
    bad = dd.Client(domo_emulator.url, token="wrong-token")
    for call in (
        lambda: bad.dataset(ds.id).metadata(),
        lambda: bad.dataset(ds.id).query("SELECT 1 FROM table"),
        lambda: bad.create_dataset("nope", {"x": "LONG"}),
    ):
        with pytest.raises(dd.AuthError) as info:
            call()
        assert info.value.status == 401
        assert isinstance(info.value, PermissionError)
    log = domo_emulator.requests()
    assert len(log) == 3  # a 401 is not retried
    assert all(e["status"] == 401 and e["auth"] == "developer" for e in log)


async def test_wrong_token_async_is_auth_error(domo_client: dd.Client) -> None:
    ds = _dataset(domo_client)
    bad = dd.Client(domo_client.base_url, token="wrong-token")
    with pytest.raises(dd.AuthError) as info:
        await bad.dataset(ds.id).metadata_async()
    assert info.value.status == 401


# -- not found, bad SQL ----------------------------------------------------------------------


def test_unknown_dataset_is_not_found(domo_client: dd.Client) -> None:
    ds = domo_client.dataset(MISSING_ID)
    for call in (ds.metadata, ds.schema, lambda: ds.query("SELECT * FROM table")):
        with pytest.raises(dd.NotFoundError) as info:
            call()
        assert isinstance(info.value, LookupError)
        assert info.value.status == 404
        assert info.value.url is not None and MISSING_ID in info.value.url
    with pytest.raises(dd.NotFoundError):
        ds.upload(pa.table({"x": pa.array([1], pa.int64())}))


async def test_unknown_dataset_async_is_not_found(domo_client: dd.Client) -> None:
    ds = domo_client.dataset(MISSING_ID)
    with pytest.raises(dd.NotFoundError):
        await ds.metadata_async()
    with pytest.raises(LookupError):
        await ds.query_async("SELECT * FROM table")
    with pytest.raises(dd.NotFoundError):
        await ds.schema_async()


@pytest.mark.parametrize(
    "sql",
    [
        "SELEC * FROM table",
        "SELECT `no such column` FROM table",
        "SELECT * FROM table WHERE",
    ],
)
def test_invalid_sql_is_bad_request(
    domo_client: dd.Client, domo_emulator: LocalDomo, sql: str
) -> None:
    ds = _dataset(domo_client)
    domo_emulator.clear_requests()
    with pytest.raises(dd.BadRequestError) as info:
        ds.query(sql)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.status == 400
    assert err.toe
    assert err.method == "POST"
    assert err.url == f"{domo_client.base_url}/api/query/v1/execute/{ds.id}"
    assert err.message
    assert err.toe in str(err)
    assert len(domo_emulator.requests(QUERY_PATH)) == 1  # a 400 is not retried


async def test_invalid_sql_async_is_bad_request(domo_client: dd.Client) -> None:
    ds = _dataset(domo_client)
    with pytest.raises(dd.BadRequestError) as info:
        await ds.query_async("SELEC 1")
    assert info.value.status == 400
    assert info.value.toe


# -- retries --------------------------------------------------------------------------------


def test_query_retried_after_429_with_retry_after(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = _dataset(domo_client)
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(QUERY_PATH, method="POST", status=429, retry_after=1)
    start = time.monotonic()
    got = ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow()
    waited = time.monotonic() - start
    assert got.to_pylist() == [{"n": 3}]
    assert [e["status"] for e in domo_emulator.requests(QUERY_PATH)] == [429, 200]
    assert waited >= 0.9  # Retry-After: 1 was honoured


async def test_query_async_retried_after_429(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = _dataset(domo_client)
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(QUERY_PATH, method="POST", status=429, retry_after=1)
    got = await ds.query_async("SELECT COUNT(*) AS n FROM table")
    assert got.to_pyarrow().to_pylist() == [{"n": 3}]
    assert [e["status"] for e in domo_emulator.requests(QUERY_PATH)] == [429, 200]


def test_domo_403_rate_limit_is_retried(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = _dataset(domo_client)
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(
        METADATA_PATH,
        method="GET",
        status=403,
        retry_after=1,
        body='{"status":403,"message":"API Rate limit reached."}',
        content_type="application/json",
    )
    assert ds.metadata()["id"] == ds.id
    assert [e["status"] for e in domo_emulator.requests(METADATA_PATH)] == [403, 200]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(
    domo_client: dd.Client, domo_emulator: LocalDomo, status: int
) -> None:
    ds = _dataset(domo_client)
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(SCHEMA_PATH, method="GET", status=status, retry_after=0, count=2)
    assert ds.schema() == [{"name": "id", "type": "LONG"}, {"name": "s", "type": "STRING"}]
    assert [e["status"] for e in domo_emulator.requests(SCHEMA_PATH)] == [status, status, 200]


def test_dropped_connection_on_get_is_retried(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = _dataset(domo_client)
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(METADATA_PATH, method="GET", drop=True)
    assert ds.metadata()["name"] == "errors"
    log = domo_emulator.requests(METADATA_PATH, "GET")
    assert len(log) == 2
    assert log[-1]["status"] == 200


async def test_dropped_connection_async_is_retried(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = _dataset(domo_client)
    domo_emulator.inject_fault(METADATA_PATH, method="GET", drop=True)
    assert (await ds.metadata_async())["id"] == ds.id


def test_max_retries_zero_raises_after_one_request(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds_id = _dataset(domo_client).id
    client = domo_emulator.client(max_retries=0)
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(METADATA_PATH, method="GET", status=503, retry_after=0)
    with pytest.raises(dd.ServerError) as info:
        client.dataset(ds_id).metadata()
    assert info.value.status == 503
    assert len(domo_emulator.requests(METADATA_PATH)) == 1

    domo_emulator.inject_fault(QUERY_PATH, method="POST", status=429, retry_after=0)
    with pytest.raises(dd.RateLimitError) as rate:
        client.dataset(ds_id).query("SELECT 1 FROM table")
    assert rate.value.status == 429
    assert len(domo_emulator.requests(QUERY_PATH)) == 1

    domo_emulator.clear_requests()
    domo_emulator.inject_fault(METADATA_PATH, method="GET", drop=True)
    with pytest.raises(dd.TransportError):
        client.dataset(ds_id).metadata()
    assert len(domo_emulator.requests(METADATA_PATH)) <= 1


def test_retries_are_bounded(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds_id = _dataset(domo_client).id
    client = domo_emulator.client(max_retries=2)
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(METADATA_PATH, method="GET", status=503, retry_after=0, count=50)
    with pytest.raises(dd.ServerError):
        client.dataset(ds_id).metadata()
    assert len(domo_emulator.requests(METADATA_PATH)) == 3


def test_read_timeout_raises_timeout_error(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds_id = _dataset(domo_client).id
    client = domo_emulator.client(read_timeout=0.5, max_retries=0)
    domo_emulator.inject_fault(METADATA_PATH, method="GET", delay_ms=3000)
    with pytest.raises(dd.TimeoutError) as info:
        client.dataset(ds_id).metadata()
    assert isinstance(info.value, builtins.TimeoutError)
    assert isinstance(info.value, dd.TransportError)


def test_connection_refused_is_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = dd.Client(f"http://127.0.0.1:{port}", token="t", max_retries=0)
    with pytest.raises(dd.TransportError) as info:
        client.dataset("abc").metadata()
    assert isinstance(info.value, ConnectionError)
    assert info.value.status is None


# -- HTML answers ------------------------------------------------------------------------------


def test_html_maintenance_page_is_a_clear_error(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds_id = _dataset(domo_client).id
    client = domo_emulator.client(max_retries=1)
    domo_emulator.inject_fault(
        METADATA_PATH,
        method="GET",
        status=503,
        retry_after=0,
        body=MAINTENANCE_PAGE,
        content_type="text/html; charset=utf-8",
        count=10,
    )
    with pytest.raises((dd.ServerError, dd.UnexpectedResponseError)) as info:
        client.dataset(ds_id).metadata()
    text = str(info.value).lower()
    assert "html" in text
    assert not any(p in text for p in JSON_PARSE_PHRASES), text
    assert info.value.status == 503


def test_blocked_page_with_200_is_unexpected_response(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = _dataset(domo_client)
    domo_emulator.clear_requests()
    domo_emulator.inject_fault(
        QUERY_PATH, method="POST", status=200, body=BLOCKED_PAGE, content_type="text/html"
    )
    with pytest.raises(dd.UnexpectedResponseError) as info:
        ds.query("SELECT * FROM table")
    text = str(info.value).lower()
    assert "html" in text or "blocked" in text
    assert not any(p in text for p in JSON_PARSE_PHRASES), text
    assert len(domo_emulator.requests(QUERY_PATH)) == 1
    # The next query is answered normally.
    assert ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow().to_pylist() == [{"n": 3}]


async def test_blocked_page_async_is_unexpected_response(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = _dataset(domo_client)
    domo_emulator.inject_fault(
        QUERY_PATH, method="POST", status=200, body=BLOCKED_PAGE, content_type="text/html"
    )
    with pytest.raises(dd.UnexpectedResponseError):
        await ds.query_async("SELECT * FROM table")


# -- blocking calls: GIL released, Ctrl-C works --------------------------------------------------


def test_blocking_call_releases_the_gil(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = _dataset(domo_client)
    domo_emulator.inject_fault(METADATA_PATH, method="GET", delay_ms=1000)
    result: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: result.update(ds.metadata()))
    worker.start()
    time.sleep(0.2)
    ticks = 0
    while worker.is_alive() and ticks < 10_000_000:
        ticks += 1  # pure Python work while the other thread waits on the network
    worker.join(timeout=30)
    assert result.get("id") == ds.id
    assert ticks > 1000


def test_blocking_call_is_interruptible(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = _dataset(domo_client)
    domo_emulator.inject_fault(METADATA_PATH, method="GET", delay_ms=10_000)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            ds.metadata()
    finally:
        timer.cancel()
    assert time.monotonic() - start < 8


# -- tokens never leak -----------------------------------------------------------------------------

SECRET = "tok-SECRET-7f3a9c2e51d04b8e"
WRONG_SECRET = "tok-WRONG-0c1d2e3f4a5b6c7d"
SECRET_PASSWORD = "pw-SECRET-93b1e7"


@pytest.fixture(scope="module")
def secret_domo() -> Iterator[LocalDomo]:
    """An emulator with a distinctive token and password, to search for in errors."""
    with LocalDomo(token=SECRET, password=SECRET_PASSWORD) as domo:
        yield domo


def _trigger(secret_domo: LocalDomo) -> dict[str, Callable[[dd.Client, str], object]]:
    """Callables that each raise one kind of error, given a client and a dataset id."""

    def fault(path: str, **kwargs: Any) -> None:
        secret_domo.inject_fault(path, **kwargs)

    def refused(client: dd.Client, ds_id: str) -> object:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return (
            dd.Client(f"http://127.0.0.1:{port}", token=SECRET, max_retries=0)
            .dataset(ds_id)
            .metadata()
        )

    return {
        "wrong token": lambda c, i: dd.Client(c.base_url, token=WRONG_SECRET).dataset(i).metadata(),
        "wrong password": lambda c, i: dd.Client.login(c.base_url, "x@y.z", SECRET_PASSWORD + "x"),
        "not found": lambda c, i: c.dataset(MISSING_ID).query("SELECT 1 FROM table"),
        "bad sql": lambda c, i: c.dataset(i).query("SELEC nonsense"),
        "server error": lambda c, i: (
            fault(METADATA_PATH, method="GET", status=500),
            c.dataset(i).metadata(),
        ),
        "rate limited": lambda c, i: (
            fault(QUERY_PATH, method="POST", status=429, retry_after=0),
            c.dataset(i).query("SELECT 1 FROM table"),
        ),
        "forbidden": lambda c, i: (
            fault(METADATA_PATH, method="GET", status=403),
            c.dataset(i).metadata(),
        ),
        "blocked page": lambda c, i: (
            fault(
                QUERY_PATH, method="POST", status=200, body=BLOCKED_PAGE, content_type="text/html"
            ),
            c.dataset(i).query("SELECT 1 FROM table"),
        ),
        "maintenance page": lambda c, i: (
            fault(
                METADATA_PATH,
                method="GET",
                status=503,
                body=MAINTENANCE_PAGE,
                content_type="text/html",
            ),
            c.dataset(i).metadata(),
        ),
        "dropped": lambda c, i: (
            fault(METADATA_PATH, method="GET", drop=True),
            c.dataset(i).metadata(),
        ),
        "timeout": lambda c, i: (
            fault(METADATA_PATH, method="GET", delay_ms=2000),
            dd.Client(c.base_url, token=SECRET, max_retries=0, read_timeout=0.3)
            .dataset(i)
            .metadata(),
        ),
        "failed commit": lambda c, i: (
            fault(COMMIT_PATH, method="PUT", status=500),
            c.dataset(i).upload(pa.table({"id": pa.array([9], pa.int64()), "s": ["z"]})),
        ),
        "refused": refused,
    }


ERROR_KINDS = [
    "wrong token",
    "wrong password",
    "not found",
    "bad sql",
    "server error",
    "rate limited",
    "forbidden",
    "blocked page",
    "maintenance page",
    "dropped",
    "timeout",
    "failed commit",
    "refused",
]


@pytest.mark.parametrize("kind", ERROR_KINDS)
def test_token_never_in_errors(secret_domo: LocalDomo, kind: str) -> None:
    secret_domo.reset()
    client = secret_domo.client(max_retries=0)
    assert SECRET not in repr(client) and SECRET not in str(client)
    ds = _dataset(client)
    trigger = _trigger(secret_domo)[kind]
    with pytest.raises(dd.DomoError) as info:
        trigger(client, ds.id)
    err = info.value
    texts = [
        str(err),
        repr(err),
        str(err.args),
        err.message,
        err.url or "",
        err.body or "",
        err.status_reason or "",
        str(err.__cause__ or ""),
        str(err.__context__ or ""),
    ]
    for text in texts:
        for secret in (SECRET, WRONG_SECRET, SECRET_PASSWORD):
            assert secret not in text, (kind, text)
    if kind != "refused":
        assert err.method in ("GET", "POST", "PUT")
        assert err.url is not None and err.url.startswith(secret_domo.url)
    secret_domo.clear_faults()


async def test_token_never_in_async_errors(secret_domo: LocalDomo) -> None:
    secret_domo.reset()
    client = secret_domo.client(max_retries=0)
    ds = _dataset(client)
    bad = dd.Client(client.base_url, token=WRONG_SECRET)
    errors: list[dd.DomoError] = []
    for coro in (
        bad.dataset(ds.id).metadata_async(),
        client.dataset(ds.id).query_async("SELEC 1"),
        client.dataset(MISSING_ID).schema_async(),
        dd.Client.login_async(client.base_url, "a@b.c", SECRET_PASSWORD + "x"),
    ):
        with pytest.raises(dd.DomoError) as info:
            await coro
        errors.append(info.value)
    for err in errors:
        for text in (str(err), repr(err), err.url or "", err.body or ""):
            assert SECRET not in text and WRONG_SECRET not in text
            assert SECRET_PASSWORD not in text
