"""The client against hostile servers: redirects, secrets, memory, deadlines, exports.

Every server here is a local script (see ``hostile.py``) that does what a faithful Domo
never does; expected values are written out by hand.
"""

from __future__ import annotations

import _thread
import asyncio
import gzip
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import domo_datasets as dd
import pyarrow as pa
import pytest
from hostile import (
    DATASET_ID,
    EXPORT_SUFFIX,
    METADATA_PREFIX,
    QUERY_PREFIX,
    SCHEMA_SUFFIX,
    Handler,
    Hostile,
    query_answer,
    schema_answer,
)

SECRET = "tok-HARDENING-5f0c2a9e7d13"
PASSWORD = "pw-HARDENING-81c3f0"
COLUMNS = {"id": "LONG", "s": "STRING"}
CSV = b"id,s\n1,a\n2,\\N\n"
EXPECTED_ROWS = [{"id": 1, "s": "a"}, {"id": 2, "s": None}]
METADATA = {"id": DATASET_ID, "name": "hardening", "rowCount": 2}


def client(url: str, **settings: Any) -> dd.Client:
    settings.setdefault("max_retries", 0)
    return dd.Client(url, token=SECRET, **settings)


def dataset(url: str, **settings: Any) -> dd.Dataset:
    return client(url, **settings).dataset(DATASET_ID)


def answer_normally(h: Handler, columns: dict[str, str] = COLUMNS, csv: bytes = CSV) -> None:
    """Answers the metadata, schema, query and export requests of a small dataset."""
    path = h.path.split("?")[0]
    if path.endswith(SCHEMA_SUFFIX):
        h.reply_json(200, schema_answer(columns))
    elif path.endswith(EXPORT_SUFFIX):
        h.reply(200, csv, "text/csv;charset=UTF-8")
    elif QUERY_PREFIX in path:
        h.reply_json(200, query_answer(columns, [[1, "a"], [2, None]]))
    elif METADATA_PREFIX in path:
        h.reply_json(200, METADATA)
    else:
        h.reply_json(404, {"status": 404, "message": "no route"})


def assert_no_secret(err: BaseException, *secrets: str) -> None:
    """No secret in anything a user or a log could print of the exception."""
    texts = [str(err), repr(err), repr(err.args)]
    if isinstance(err, dd.DomoError):
        texts += [
            err.message,
            err.body or "",
            err.status_reason or "",
            err.toe or "",
            err.url or "",
        ]
    for secret in secrets or (SECRET,):
        for text in texts:
            assert secret not in text, text


def read_export(ds: dd.Dataset) -> pa.Table:
    return ds.export().read_all().to_pyarrow()


async def read_export_async(ds: dd.Dataset) -> None:
    stream = await ds.export_async()
    async for _ in stream:
        pass


# -- 1. redirects ----------------------------------------------------------------------------

CALLS: dict[str, Callable[[dd.Dataset, Path], object]] = {
    "query": lambda ds, tmp: ds.query("SELECT * FROM table"),
    "export": lambda ds, tmp: read_export(ds),
    "export_to": lambda ds, tmp: ds.export_to(tmp / "out.csv"),
    "metadata": lambda ds, tmp: ds.metadata(),
}


def redirecting_to(target: str, status: int) -> Callable[[Handler], None]:
    """Answers the schema itself (so an export reaches its download), redirects the rest."""

    def script(h: Handler) -> None:
        if h.path.split("?")[0].endswith(SCHEMA_SUFFIX):
            h.reply_json(200, schema_answer(COLUMNS))
        else:
            h.reply(status, b"", "text/plain", {"Location": target + h.path})

    return script


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_no_request_follows_a_redirect_to_another_origin(status: int, tmp_path: Path) -> None:
    with (
        Hostile(answer_normally) as elsewhere,
        Hostile(redirecting_to(elsewhere.url, status)) as home,
    ):
        ds = dataset(home.url)
        for name, call in CALLS.items():
            with pytest.raises(dd.UnexpectedResponseError) as caught:
                call(ds, tmp_path)
            err = caught.value
            assert err.status == status, name
            assert elsewhere.url in str(err), name
            assert "not followed" in str(err), name
            assert err.method in ("GET", "POST") and err.url, name
        # The other server was never asked anything, so neither token nor SQL reached it.
        assert elsewhere.seen == []
        assert all(seen.carries_credentials() for seen in home.seen)
    assert list(tmp_path.iterdir()) == []


async def test_no_async_request_follows_a_redirect_to_another_origin(tmp_path: Path) -> None:
    with Hostile(answer_normally) as elsewhere, Hostile(redirecting_to(elsewhere.url, 307)) as home:
        ds = dataset(home.url)
        with pytest.raises(dd.UnexpectedResponseError):
            await ds.query_async("SELECT * FROM table")
        with pytest.raises(dd.UnexpectedResponseError):
            await ds.export_to_async(tmp_path / "out.csv")
        with pytest.raises(dd.UnexpectedResponseError):
            await ds.metadata_async()
        with pytest.raises(dd.UnexpectedResponseError):
            await read_export_async(ds)
        assert elsewhere.seen == []


def test_same_origin_redirect_is_followed_and_the_origin_checked_at_every_hop() -> None:
    with Hostile(answer_normally) as elsewhere:

        def script(h: Handler) -> None:
            if h.path.startswith("/moved/"):
                # A second hop, to another origin: never taken.
                h.reply(307, b"", "text/plain", {"Location": elsewhere.url + h.path})
            elif h.path.startswith("/ok/"):
                h.path = h.path[len("/ok") :]
                answer_normally(h)
            elif "hop-twice" in h.path:
                h.reply(307, b"", "text/plain", {"Location": "/moved" + h.path})
            else:
                h.reply(308, b"", "text/plain", {"Location": "/ok" + h.path})

        with Hostile(script) as home:
            ds = dataset(home.url)
            got = ds.query("SELECT * FROM table").to_pyarrow()
            assert got.to_pylist() == EXPECTED_ROWS
            first, second = home.seen
            assert second.path == "/ok" + first.path
            # A 308 keeps the method and the body, on the same origin.
            assert (second.method, second.body) == ("POST", first.body)
            assert json.loads(second.body) == {"sql": "SELECT * FROM table"}
            assert first.carries_credentials() and second.carries_credentials()

            other = client(home.url).dataset("hop-twice")
            with pytest.raises(dd.UnexpectedResponseError) as caught:
                other.metadata()
            assert caught.value.status == 307
            assert elsewhere.seen == []


def test_redirect_loops_on_one_origin_are_bounded() -> None:
    def script(h: Handler) -> None:
        hop = len(h.server.seen)
        h.reply(302, b"", "text/plain", {"Location": f"/loop/{hop}"})

    with Hostile(script) as home:
        with pytest.raises(dd.TransportError) as caught:
            dataset(home.url).metadata()
        assert "redirect" in str(caught.value)
        # The first request and 5 redirects.
        assert len(home.seen) == 6


# -- 2. every failure is a DomoError; no panic from server input -----------------------------------

MALFORMED_EXPORTS = [
    b"id,s\nabc,x\n",  # not a number
    b"id,s\n1\n",  # too few fields
    b"id,s\n1,x,extra\n",  # too many fields
    b'id,s\n1,"unclosed\n',  # a quote that never closes
    b"id,s\n1,\xff\xfe\n",  # not UTF-8
    b"id,s\n99999999999999999999,x\n",  # out of range
    b"id,s\n1,x\n\n\n2",  # blank lines, then a short record
    b'id,s\n"1"x,y\n',  # text after a closing quote
]


def test_malformed_exports_raise_domo_errors_with_method_and_url() -> None:
    for body in MALFORMED_EXPORTS:
        with Hostile(lambda h, body=body: answer_normally(h, csv=body)) as server:
            ds = dataset(server.url)
            with pytest.raises(dd.DomoError) as caught:
                read_export(ds)
            err = caught.value
            assert isinstance(err, dd.UnexpectedResponseError), (body, err)
            assert err.method == "GET", body
            assert err.url == (
                f"{server.url}/api/data/v2/datasources/{DATASET_ID}{EXPORT_SUFFIX}"
                "?includeHeader=true"
            )
            assert err.status == 200
            assert "cannot read the export" in str(err)


async def test_malformed_export_async_raises_domo_error() -> None:
    with Hostile(lambda h: answer_normally(h, csv=MALFORMED_EXPORTS[0])) as server:
        with pytest.raises(dd.UnexpectedResponseError) as caught:
            await read_export_async(dataset(server.url))
        assert caught.value.method == "GET"


RETRY_AFTERS = [
    "1e20",
    "inf",
    "99999999999999999999999999999999",
    "18446744073709551616",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "-5",
    "NaN",
    "-1e20",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
    "soon",
]


def test_any_retry_after_ends_in_a_rate_limit_error() -> None:
    for value in RETRY_AFTERS:

        def script(h: Handler, value: str = value) -> None:
            h.reply_json(
                429, {"status": 429, "message": "slow down"}, headers={"Retry-After": value}
            )

        with Hostile(script) as server:
            ds = dataset(server.url, max_retries=1)
            with pytest.raises(dd.RateLimitError):
                ds.metadata()
            # A wait past the longest one allowed (or unreadable and huge) is not waited
            # for; a past date or an unreadable value is a short backoff.
            assert 1 <= len(server.seen) <= 2, value


# -- 3. memory bounds ------------------------------------------------------------------------------


def test_max_answer_bytes_stops_a_gzip_bomb() -> None:
    inflated = json.dumps(query_answer({"s": "STRING"}, [["a" * (12 << 20)]])).encode()
    bomb = gzip.compress(inflated, compresslevel=9)
    assert len(bomb) < len(inflated) // 500

    def script(h: Handler) -> None:
        h.reply(200, bomb, "application/json", {"Content-Encoding": "gzip"})

    with Hostile(script) as server:
        ds = dataset(server.url, max_answer_bytes=4 << 20)
        with pytest.raises(dd.AnswerTooLargeError) as caught:
            ds.query("SELECT * FROM table")
        err = caught.value
        assert isinstance(err, dd.UnexpectedResponseError)
        assert "max_answer_bytes" in str(err) and str(4 << 20) in str(err)
        assert (err.method, err.status) == ("POST", 200)
        # Below the limit, the same answer is read (and inflated) whole.
        got = dataset(server.url, max_answer_bytes=64 << 20).query("SELECT 1").to_pyarrow()
        assert got.column("s").to_pylist() == ["a" * (12 << 20)]


async def test_max_answer_bytes_applies_to_async_queries() -> None:
    body = json.dumps(query_answer({"n": "LONG"}, [[i] for i in range(1000)])).encode()
    with Hostile(lambda h: h.reply(200, body)) as server:
        with pytest.raises(dd.AnswerTooLargeError):
            await dataset(server.url, max_answer_bytes=1000).query_async("SELECT 1")


def test_max_answer_bytes_is_exact() -> None:
    body = json.dumps(query_answer({"n": "LONG"}, [[i] for i in range(100)])).encode()
    chunks = [body[i : i + 100] for i in range(0, len(body), 100)]
    for chunked in (False, True):

        def script(h: Handler, chunked: bool = chunked) -> None:
            if chunked:  # no Content-Length to judge by: the bytes are counted
                h.chunked(chunks, "application/json")
            else:
                h.reply(200, body)

        with Hostile(script) as server:
            got = dataset(server.url, max_answer_bytes=len(body)).query("SELECT 1")
            assert got.to_pyarrow().column("n").to_pylist() == list(range(100))
            with pytest.raises(dd.AnswerTooLargeError):
                dataset(server.url, max_answer_bytes=len(body) - 1).query("SELECT 1")
            with pytest.raises(dd.AnswerTooLargeError):
                dataset(server.url, max_answer_bytes=len(body) - 1).metadata()


def test_export_record_that_never_ends_is_bounded() -> None:
    def endless(h: Handler) -> None:
        if h.path.split("?")[0].endswith(SCHEMA_SUFFIX):
            h.reply_json(200, schema_answer(COLUMNS))
            return
        # An open quote, then 32 MiB that never close it.
        h.chunked([b'id,s\n1,a\n2,"'] + [b"x" * (64 << 10)] * 512)

    with Hostile(endless) as server:
        ds = dataset(server.url, max_record_bytes=1 << 20)
        with pytest.raises(dd.AnswerTooLargeError) as caught:
            read_export(ds)
        assert "max_record_bytes" in str(caught.value)
        assert caught.value.method == "GET"


def test_export_records_up_to_max_record_bytes_are_read() -> None:
    long_value = "y" * (600 << 10)
    csv = f'id,s\n1,"{long_value}"\n2,b\n'.encode()
    with Hostile(lambda h: answer_normally(h, csv=csv)) as server:
        got = read_export(dataset(server.url, max_record_bytes=1 << 20))
        assert got.to_pylist() == [{"id": 1, "s": long_value}, {"id": 2, "s": "b"}]


def test_limits_are_checked() -> None:
    for name, bad in [
        ("max_answer_bytes", 0),
        ("max_record_bytes", 0),
        ("deadline", 0.0),
        ("deadline", -1.0),
        ("deadline", float("nan")),
    ]:
        with pytest.raises(ValueError, match=name):
            dd.Client("http://127.0.0.1:9", token=SECRET, **{name: bad})


# -- 4. export_to's temporary file -----------------------------------------------------------------


def test_export_to_does_not_follow_a_planted_link(tmp_path: Path) -> None:
    folder, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    victim = elsewhere / "victim.txt"
    victim.write_text("keep me")
    target = folder / "data.csv"
    # A name predictable from the process id: `<file>.partial-<pid>`.
    planted = folder / f"data.csv.partial-{os.getpid()}"
    planted.symlink_to(victim)
    with Hostile(answer_normally) as server:
        assert dataset(server.url).export_to(target) == len(CSV)
    assert target.read_bytes() == CSV
    assert victim.read_text() == "keep me"
    assert planted.is_symlink() and os.readlink(planted) == str(victim)
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv", planted.name]


BLOCKED = b"<!DOCTYPE html><html><head><title>Domo - Blocked</title></head></html>"


def failing_exports(h: Handler) -> None:
    """Export answers that must leave nothing behind, chosen by the dataset id."""
    path = h.path.split("?")[0]
    if "html-after-blank" in path:
        h.chunked([b"\n", b"\r\n  ", BLOCKED], pause=0.05)
    elif "cut" in path:
        h.send_response(200)
        h.send_header("Content-Type", "text/csv")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        h.wfile.write(CSV)
        h.wfile.flush()
        h.drop()
    else:
        h.reply_json(500, {"status": 500, "message": "boom"})


def test_failed_export_to_leaves_no_file(tmp_path: Path) -> None:
    with Hostile(failing_exports) as server:
        c = client(server.url)
        for ds_id, error in [
            ("html-after-blank", dd.UnexpectedResponseError),
            ("cut", dd.TransportError),
            ("server-error", dd.ServerError),
        ]:
            with pytest.raises(error):
                c.dataset(ds_id).export_to(tmp_path / "data.csv")
            assert list(tmp_path.iterdir()) == [], ds_id


def trickling_export(h: Handler) -> None:
    rows = (f"{i},row {i}\n".encode() for i in range(1, 10_000))
    h.chunked(iter([b"id,s\n", *rows]), pause=0.1)


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_cancelled_export_to_async_leaves_no_file(tmp_path: Path) -> None:
    with Hostile(trickling_export) as server:
        task = asyncio.ensure_future(dataset(server.url).export_to_async(tmp_path / "data.csv"))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if temp_files(tmp_path):
                break
        [temp] = temp_files(tmp_path)
        # Beside the target, hidden, and not guessable from the process id.
        assert temp.startswith(".data.csv.") and temp.endswith(".partial")
        assert str(os.getpid()) not in temp
        assert len(temp) == len(".data.csv..partial") + 16
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(100):
            if not temp_files(tmp_path):
                break
            await asyncio.sleep(0.05)
        assert temp_files(tmp_path) == []


def test_interrupted_export_to_leaves_no_file(tmp_path: Path) -> None:
    with Hostile(trickling_export) as server:
        ds = dataset(server.url)
        seen_temp: list[list[str]] = []

        def interrupt() -> None:
            seen_temp.append(temp_files(tmp_path))
            _thread.interrupt_main()

        timer = threading.Timer(0.8, interrupt)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                ds.export_to(tmp_path / "data.csv")
        finally:
            timer.cancel()
        assert len(seen_temp[0]) == 1
        # Removed before the interrupt reached Python.
        assert temp_files(tmp_path) == []


# -- 5. secrets, deadline, export checks ----------------------------------------------------------


def echoing(h: Handler) -> None:
    """Answers echo the credential they came with, each in a different place."""
    token = h.seen.headers.get("x-domo-developer-token") or h.seen.headers.get(
        "x-domo-authentication", ""
    )
    path = h.path.split("?")[0]
    kind = path.split("/")[-1] if METADATA_PREFIX in path else ""
    if QUERY_PREFIX in path:
        h.reply_json(
            400,
            {
                "status": 400,
                "statusReason": f"Bad token {token}",
                "message": f"token {token} is not allowed",
                "toe": f"TOE-{token}",
            },
        )
    elif path.endswith(SCHEMA_SUFFIX):
        h.reply_json(200, schema_answer({"id": "LONG"}))
    elif path.endswith(EXPORT_SUFFIX):
        h.reply(200, f"id\n{token}\n", "text/csv")
    elif kind == "text":
        h.reply(502, f"upstream says {token}", "text/plain")
    elif kind == "html":
        h.reply(503, f"<html><title>Down for {token}</title></html>", "text/html")
    elif kind == "blocked":
        h.reply(200, f"<!DOCTYPE html><title>Blocked {token}</title>", "text/plain")
    elif kind == "badjson":
        h.reply(200, f'{{"id": "{token}", oops')
    elif kind == "header":
        h.reply_json(404, {"message": "no such dataset"}, headers={"X-Echo": token})
    else:
        h.reply_json(401, {"status": 401, "message": f"invalid token {token}"})


def test_echoed_token_is_masked_in_every_error(tmp_path: Path) -> None:
    with Hostile(echoing) as server:
        for c in (client(server.url), dd.Client(server.url, session_token=SECRET, max_retries=0)):
            errors: list[BaseException] = []
            for kind in ("text", "html", "blocked", "badjson", "header", "other"):
                with pytest.raises(dd.DomoError) as caught:
                    c.dataset(kind).metadata()
                errors.append(caught.value)
            with pytest.raises(dd.BadRequestError) as caught:
                c.dataset(DATASET_ID).query("SELECT 1")
            query_error = caught.value
            errors.append(query_error)
            with pytest.raises(dd.UnexpectedResponseError) as caught:
                read_export(c.dataset(DATASET_ID))
            errors.append(caught.value)
            for err in errors:
                assert_no_secret(err)
            assert query_error.message == "token *** is not allowed"
            assert query_error.status_reason == "Bad token ***"
            assert query_error.toe == "TOE-***"
            assert "***" in (query_error.body or "")


async def test_echoed_token_is_masked_in_async_errors() -> None:
    with Hostile(echoing) as server:
        ds = dataset(server.url)
        with pytest.raises(dd.BadRequestError) as caught:
            await ds.query_async("SELECT 1")
        assert_no_secret(caught.value)
        with pytest.raises(dd.UnexpectedResponseError) as caught2:
            await read_export_async(ds)
        assert_no_secret(caught2.value)


def test_echoed_password_is_masked_in_login_errors() -> None:
    def script(h: Handler) -> None:
        body = json.loads(h.seen.body)
        h.reply_json(200, {"success": False, "reason": f"wrong password {body['password']}"})

    with Hostile(script) as server:
        with pytest.raises(dd.AuthError) as caught:
            dd.Client.login(server.url, "me@example.com", PASSWORD)
        assert_no_secret(caught.value, PASSWORD)
        assert "***" in str(caught.value)


async def test_echoed_password_is_masked_in_async_login_errors() -> None:
    def script(h: Handler) -> None:
        body = json.loads(h.seen.body)
        h.reply_json(400, {"status": 400, "message": f"no user with {body['password']}"})

    with Hostile(script) as server:
        with pytest.raises(dd.BadRequestError) as caught:
            await dd.Client.login_async(server.url, "me@example.com", PASSWORD)
        assert_no_secret(caught.value, PASSWORD)
        assert caught.value.message == "no user with ***"


def trickler(h: Handler) -> None:
    if h.path.split("?")[0].endswith(SCHEMA_SUFFIX):
        h.reply_json(200, schema_answer(COLUMNS))
    else:
        h.trickle("text/csv" if EXPORT_SUFFIX in h.path else "application/json", length=120)


def test_deadline_bounds_a_trickling_server(tmp_path: Path) -> None:
    with Hostile(trickler) as server:
        ds = dataset(server.url, read_timeout=5.0, deadline=1.5)
        for call in CALLS.values():
            started = time.monotonic()
            with pytest.raises(dd.TimeoutError) as caught:
                call(ds, tmp_path)
            # A read never waits 5 s here: only the deadline ends the call.
            assert time.monotonic() - started < 20
            assert "deadline" in str(caught.value)
            assert caught.value.url and caught.value.method
        assert list(tmp_path.iterdir()) == []


async def test_deadline_bounds_async_calls() -> None:
    with Hostile(trickler) as server:
        ds = dataset(server.url, read_timeout=5.0, deadline=1.0)
        with pytest.raises(dd.TimeoutError):
            await ds.query_async("SELECT 1")
        with pytest.raises(dd.TimeoutError):
            await read_export_async(ds)


def test_html_after_a_blank_chunk_is_not_data(tmp_path: Path) -> None:
    def script(h: Handler) -> None:
        if h.path.split("?")[0].endswith(SCHEMA_SUFFIX):
            h.reply_json(200, schema_answer({"line": "STRING"}))
        else:
            h.chunked([b"\n", b"  \n", BLOCKED, b"<body>nothing</body>"], pause=0.05)

    with Hostile(script) as server:
        ds = dataset(server.url)
        with pytest.raises(dd.UnexpectedResponseError) as caught:
            read_export(ds)
        assert "Domo - Blocked" in str(caught.value)
        with pytest.raises(dd.UnexpectedResponseError):
            ds.export_to(tmp_path / "x.csv")
        assert list(tmp_path.iterdir()) == []


def test_export_with_a_json_or_html_content_type_is_not_data(tmp_path: Path) -> None:
    for content_type, body in [
        ("application/json", b'{"status": 200, "message": "queued"}'),
        ("text/html; charset=utf-8", b"line\nnot really csv\n"),
    ]:

        def script(h: Handler, content_type: str = content_type, body: bytes = body) -> None:
            if h.path.split("?")[0].endswith(SCHEMA_SUFFIX):
                h.reply_json(200, schema_answer({"line": "STRING"}))
            else:
                h.reply(200, body, content_type)

        with Hostile(script) as server:
            ds = dataset(server.url)
            with pytest.raises(dd.UnexpectedResponseError):
                read_export(ds)
            with pytest.raises(dd.UnexpectedResponseError):
                ds.export_to(tmp_path / "x.csv")
        assert list(tmp_path.iterdir()) == []


def test_export_header_must_name_the_schema_columns() -> None:
    schema = {"a": "STRING", "b": "STRING"}
    cases = {
        b"b,a\n1,2\n": ['"b"', '"a"', "order"],
        b"a,c\n1,2\n": ['missing: ["b"]', 'not in the schema: ["c"]'],
        b"a\n1\n": ['missing: ["b"]'],
        b'a,b,"c, d"\n1,2,3\n': ['not in the schema: ["c, d"]'],
    }
    for csv, phrases in cases.items():
        with Hostile(lambda h, csv=csv: answer_normally(h, columns=schema, csv=csv)) as server:
            with pytest.raises(dd.UnexpectedResponseError) as caught:
                read_export(dataset(server.url))
            text = str(caught.value)
            assert 'the dataset\'s schema has ["a", "b"]' in text, text
            for phrase in phrases:
                assert phrase in text, (csv, text)
    # The right header, quoted or not, and CRLF line ends, are read.
    for csv in (b'"a","b"\r\nx,y\r\n', b"a,b\nx,y\n"):
        with Hostile(lambda h, csv=csv: answer_normally(h, columns=schema, csv=csv)) as server:
            assert read_export(dataset(server.url)).to_pylist() == [{"a": "x", "b": "y"}]


# -- 8. a commit whose answer is lost -------------------------------------------------------------


def losing_the_commit_answer(h: Handler) -> None:
    path = h.path.split("?")[0]
    if path.endswith(SCHEMA_SUFFIX):
        h.reply_json(200, schema_answer({"id": "LONG"}))
    elif path.endswith("/uploads") and h.command == "POST":
        h.reply_json(200, {"dataSourceId": DATASET_ID, "uploadId": 77, "requestedAsOf": 0})
    elif "/parts/" in path:
        h.reply_json(200, {})
    elif path.endswith("/commit"):
        h.drop()  # the commit arrived; its answer never leaves
    else:
        h.reply_json(404, {"message": "no route"})


def assert_commit_outcome_unknown(err: BaseException, server: Hostile) -> None:
    assert isinstance(err, dd.CommitOutcomeUnknownError)
    assert isinstance(err, dd.TransportError) and isinstance(err, ConnectionError)
    assert not isinstance(err, dd.TimeoutError)
    text = str(err)
    assert "outcome unknown" in text and "data_versions" in text and "77" in text
    assert err.method == "PUT"
    assert err.url == f"{server.url}/api/data/v3/datasources/{DATASET_ID}/uploads/77/commit"
    commits = [s for s in server.seen if s.path.endswith("/commit")]
    assert len(commits) == 1, "a commit must never be re-sent"
    assert json.loads(commits[0].body)["action"] == "APPEND"


def test_lost_commit_answer_is_commit_outcome_unknown() -> None:
    with Hostile(losing_the_commit_answer) as server:
        ds = dataset(server.url, max_retries=5)
        with pytest.raises(dd.CommitOutcomeUnknownError) as caught:
            ds.upload(pa.table({"id": pa.array([1, 2, 3], pa.int64())}))
        assert_commit_outcome_unknown(caught.value, server)


async def test_lost_commit_answer_async_is_commit_outcome_unknown() -> None:
    with Hostile(losing_the_commit_answer) as server:
        ds = dataset(server.url, max_retries=5)
        with pytest.raises(dd.CommitOutcomeUnknownError) as caught:
            await ds.upload_async(pa.table({"id": pa.array([1, 2, 3], pa.int64())}))
        assert_commit_outcome_unknown(caught.value, server)


def test_commit_outcome_unknown_is_exported() -> None:
    from domo_datasets import exceptions

    assert dd.CommitOutcomeUnknownError is exceptions.CommitOutcomeUnknownError
    assert dd.AnswerTooLargeError is exceptions.AnswerTooLargeError
    assert issubclass(dd.CommitOutcomeUnknownError, dd.TransportError)
    assert issubclass(dd.AnswerTooLargeError, dd.UnexpectedResponseError)
