"""OAuth clients of the public API (``/oauth/token``, ``/v1/...``) against the emulator over
HTTP: the token obtained once, kept and renewed once on a 401; the dataset and stream
methods over ``/v1``; the clear error of a method without a public route; ``from_env``
with client credentials. Every network call runs in its sync and ``_async`` form."""

from __future__ import annotations

import asyncio
import io
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import domo_datasets as dd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from domo_datasets.testing import LocalDomo

SECRET = "oauth-SECRET-5d1c9e7a20b4"
SMALL = {"id": "LONG", "code": "STRING"}

Call = Callable[..., Any]


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
    """An emulator whose password (the OAuth client secret) is easy to search for."""
    with LocalDomo(password=SECRET) as local:
        yield local


@pytest.fixture
def oauth(domo: LocalDomo, call: Call) -> dd.Client:
    """An OAuth client of a reset emulator, made in the sync or async form."""
    domo.reset()
    return call(dd.Client, "oauth", domo.email, domo.password, api_host=domo.url)


def _token_requests(domo: LocalDomo) -> list[dict[str, Any]]:
    return domo.requests("/oauth/token")


# -- the token ------------------------------------------------------------------------------


def test_oauth_gets_one_token_and_keeps_it(domo: LocalDomo, oauth: dd.Client) -> None:
    assert oauth.base_url == domo.url
    assert "OAuth client" in repr(oauth)
    assert SECRET not in repr(oauth)
    ds = oauth.create_dataset("kept", SMALL)
    for _ in range(3):
        ds.metadata()
    tokens = _token_requests(domo)
    assert len(tokens) == 1
    assert tokens[0]["auth"] == "basic"
    assert "grant_type=client_credentials" in tokens[0]["query"]
    assert "scope=data" in tokens[0]["query"]
    assert {r["auth"] for r in domo.requests("/v1/**")} == {"bearer"}


def test_a_refused_token_is_renewed_once(domo: LocalDomo, oauth: dd.Client, call: Call) -> None:
    ds = oauth.create_dataset("renewed", SMALL)
    domo.clear_requests()
    domo.inject_fault("/v1/datasets/*", method="GET", status=401)
    assert call(ds, "metadata")["name"] == "renewed"
    assert len(_token_requests(domo)) == 1
    # Refused twice: the second 401 is the caller's.
    domo.inject_fault("/v1/datasets/*", method="GET", status=401, count=2)
    with pytest.raises(dd.AuthError):
        call(ds, "metadata")
    assert len(_token_requests(domo)) == 2


def test_wrong_credentials_fail_at_once(domo: LocalDomo, call: Call) -> None:
    domo.reset()
    with pytest.raises(dd.AuthError) as info:
        call(dd.Client, "oauth", domo.email, SECRET + "x", api_host=domo.url)
    assert SECRET not in str(info.value)


def test_credentials_and_scopes_are_checked_before_sending(domo: LocalDomo) -> None:
    domo.reset()
    for kwargs in (
        {"client_id": "", "client_secret": "s"},
        {"client_id": "a:b", "client_secret": "s"},
        {"client_id": "a", "client_secret": ""},
        {"client_id": "a", "client_secret": "s", "scopes": ()},
        {"client_id": "a", "client_secret": "s", "scopes": ("data user",)},
    ):
        with pytest.raises(ValueError):
            dd.Client.oauth(**kwargs, api_host=domo.url)
    assert domo.requests() == []


def test_scopes_are_asked_for(domo: LocalDomo) -> None:
    domo.reset()
    client = dd.Client.oauth(domo.email, domo.password, scopes=["user"], api_host=domo.url)
    assert "scope=user" in _token_requests(domo)[0]["query"]
    # Without the data scope the public API refuses dataset routes.
    with pytest.raises(dd.ForbiddenError):
        client.datasets()


# Every access token the emulator issues is a JWT starting with this header.
JWT_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"


def test_neither_secret_nor_token_shows_in_errors(domo: LocalDomo, oauth: dd.Client) -> None:
    oauth.datasets()
    missing = oauth.dataset("00000000-0000-4000-8000-000000000000")
    errors: list[dd.DomoError] = []
    # A server echoing the secret in its error, then a plain 404.
    domo.inject_fault("/v1/datasets/*", method="GET", status=400, body=f"echo {SECRET}")
    for _ in range(2):
        with pytest.raises(dd.DomoError) as info:
            missing.metadata()
        errors.append(info.value)
    with pytest.raises(dd.AuthError) as info:
        dd.Client.oauth(domo.email, SECRET + "-wrong", api_host=domo.url)
    errors.append(info.value)
    for err in errors:
        texts = [str(err), repr(err), str(err.args), err.message, err.url or "", err.body or ""]
        for text in texts:
            assert SECRET not in text, text
            assert JWT_HEADER not in text, text
    assert JWT_HEADER not in repr(oauth)


BLOCKED_PAGE = "<html><head><title>Domo - Blocked</title></head><body>blocked</body></html>"

OAUTH_ERROR_KINDS = [
    "wrong secret",
    "not found",
    "bad sql",
    "server error",
    "rate limited",
    "forbidden",
    "refused twice",
    "blocked page",
    "dropped",
    "timeout",
    "failed commit",
]


def _oauth_failure(domo: LocalDomo, kind: str) -> Callable[[], object]:
    """A call on an OAuth client (no retries) that fails with one kind of error."""
    client = dd.Client.oauth(domo.email, SECRET, api_host=domo.url, max_retries=0)
    ds = client.create_dataset("errors", SMALL)
    ds.upload(pa.table({"id": pa.array([1, 2], pa.int64()), "code": ["a", None]}))
    meta = f"/v1/datasets/{ds.id}"
    query = f"/v1/datasets/query/execute/{ds.id}"

    def fault(path: str, **kwargs: Any) -> None:
        domo.inject_fault(path, **kwargs)

    table = pa.table({"id": pa.array([9], pa.int64()), "code": ["z"]})
    slow = dd.Client.oauth(domo.email, SECRET, api_host=domo.url, max_retries=0, read_timeout=0.3)
    return {
        "wrong secret": lambda: dd.Client.oauth(domo.email, SECRET + "-x", api_host=domo.url),
        "not found": lambda: client.dataset("00000000-0000-4000-8000-000000000000").metadata(),
        "bad sql": lambda: ds.query("SELEC nonsense"),
        "server error": lambda: (fault(meta, method="GET", status=500), ds.metadata()),
        "rate limited": lambda: (
            fault(query, method="POST", status=429, retry_after=0),
            ds.query("SELECT 1 FROM table"),
        ),
        "forbidden": lambda: (fault(meta, method="GET", status=403), ds.metadata()),
        "refused twice": lambda: (
            fault(meta, method="GET", status=401, count=2, body=f"no {SECRET}"),
            ds.metadata(),
        ),
        "blocked page": lambda: (
            fault(query, method="POST", status=200, body=BLOCKED_PAGE, content_type="text/html"),
            ds.query("SELECT 1 FROM table"),
        ),
        "dropped": lambda: (fault(meta, method="GET", drop=True), ds.metadata()),
        "timeout": lambda: (
            fault(meta, method="GET", delay_ms=2000),
            slow.dataset(ds.id).metadata(),
        ),
        "failed commit": lambda: (
            fault("/v1/streams/*/executions/*/commit", method="PUT", status=500),
            ds.upload(table),
        ),
    }[kind]


@pytest.mark.parametrize("kind", OAUTH_ERROR_KINDS)
def test_secret_and_access_token_never_in_errors_or_logs(
    domo: LocalDomo, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    domo.reset()
    with caplog.at_level(logging.DEBUG, logger="domo_datasets"):
        dd.refresh_log_levels()
        failing = _oauth_failure(domo, kind)
        with pytest.raises(dd.DomoError) as info:
            failing()
    dd.refresh_log_levels()
    domo.clear_faults()
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
        *(r.getMessage() for r in caplog.records),
    ]
    for text in texts:
        assert SECRET not in text, (kind, text)
        assert JWT_HEADER not in text, (kind, text)
    if kind != "wrong secret":
        assert err.url is not None and err.url.startswith(domo.url + "/v1/")


# -- datasets over /v1 -----------------------------------------------------------------------


def test_create_metadata_schema_rename_and_delete(
    domo: LocalDomo, oauth: dd.Client, call: Call
) -> None:
    ds = call(oauth, "create_dataset", "public one", SMALL, description="first")
    meta = call(ds, "metadata")
    assert (meta["id"], meta["name"], meta["description"]) == (ds.id, "public one", "first")
    assert call(ds, "schema") == [
        {"name": "id", "type": "LONG"},
        {"name": "code", "type": "STRING"},
    ]
    call(ds, "update", name="renamed", description="second")
    meta = call(ds, "metadata")
    assert (meta["name"], meta["description"]) == ("renamed", "second")
    call(ds, "delete")
    with pytest.raises(dd.NotFoundError):
        ds.metadata()
    paths = {(r["method"], r["path"]) for r in domo.requests()}
    assert all(p.startswith(("/v1/", "/oauth/")) for _, p in paths), paths
    assert ("DELETE", f"/v1/datasets/{ds.id}") in paths
    assert ("PUT", f"/v1/datasets/{ds.id}") in paths


def test_upload_goes_through_the_streams_api(domo: LocalDomo, oauth: dd.Client, call: Call) -> None:
    ds = oauth.create_dataset("streamed", SMALL)
    n = 30_000
    table = pa.table({"id": pa.array(range(n), pa.int64()), "code": [f"c{i}" for i in range(n)]})
    domo.clear_requests()
    # The smallest parts (about 290 kB of CSV in all), so that there are several.
    result = call(ds, "upload", table, part_size=64 * 1024)
    assert result["rows"] == n
    parts = domo.requests("/v1/streams/*/executions/*/part/*")
    numbers = sorted(int(r["path"].rsplit("/", 1)[1]) for r in parts)
    assert len(numbers) > 1
    assert numbers == list(range(1, len(numbers) + 1))
    assert {r["content_encoding"] for r in parts} == {"gzip"}
    assert len(domo.requests("/v1/streams/*/executions/*/commit")) == 1
    assert len(domo.requests("/v1/streams/*/executions", method="POST")) == 1
    got = ds.query("SELECT COUNT(*) AS n, SUM(id) AS s FROM table").to_pyarrow().to_pylist()
    assert got == [{"n": n, "s": n * (n - 1) // 2}]


def test_query_export_and_pages_read_nulls_and_empty_strings(
    domo: LocalDomo, oauth: dd.Client, call: Call
) -> None:
    ds = oauth.create_dataset("nulls", SMALL)
    table = pa.table({"id": pa.array([1, 2, 3, None], pa.int64()), "code": ["a", None, "", "d"]})
    ds.upload(table)
    expected = table.sort_by([("code", "ascending")]).to_pylist()

    def rows(t: pa.Table) -> list[dict[str, Any]]:
        return t.sort_by([("code", "ascending")]).to_pylist()

    assert rows(call(ds, "query", "SELECT * FROM table").to_pyarrow()) == expected
    exported = call(ds, "export")
    assert rows(exported.read_all().to_pyarrow()) == expected
    pages = call(ds, "query_pages", "SELECT * FROM table ORDER BY id", page_size=2)
    assert rows(pages.read_all().to_pyarrow()) == expected
    assert domo.requests("/v1/datasets/*/data", method="GET")
    assert domo.requests("/v1/datasets/query/execute/*", method="POST")


def test_export_to_writes_the_public_csv(oauth: dd.Client, tmp_path: Any, call: Call) -> None:
    ds = oauth.create_dataset("file", SMALL)
    ds.upload(pa.table({"id": pa.array([1, None], pa.int64()), "code": ["x", None]}))
    path = tmp_path / "out.csv"
    call(ds, "export_to", path)
    read = pacsv.read_csv(io.BytesIO(path.read_bytes()))
    assert read.column_names == ["id", "code"]
    assert sorted(read.column("id").to_pylist(), key=lambda v: (v is None, v)) == [1, None]


def test_listing_reads_pages_of_fifty(domo: LocalDomo, oauth: dd.Client, call: Call) -> None:
    made = {oauth.create_dataset(f"many {i:03d}", SMALL).id for i in range(120)}
    oauth.create_dataset("other", SMALL)
    domo.clear_requests()
    listed = call(oauth, "datasets", name_like="many")
    assert {d["id"] for d in listed} == made
    pages = domo.requests("/v1/datasets", method="GET")
    assert len(pages) == 3  # 50 + 50 + 20
    limited = call(oauth, "datasets", name_like="many", sort="name", limit=55)
    assert [d["name"] for d in limited] == [f"many {i:03d}" for i in range(55)]
    found = call(oauth, "dataset_by_name", "other")
    assert found.metadata()["name"] == "other"
    with pytest.raises(dd.NotFoundError):
        call(oauth, "dataset_by_name", "nothing named so")
    table = call(oauth, "datasets_table", name_like="other")
    assert table.to_pyarrow().column("name").to_pylist() == ["other"]


def test_instance_only_methods_fail_before_sending(
    domo: LocalDomo, oauth: dd.Client, call: Call
) -> None:
    ds = oauth.create_dataset("instance only", SMALL)
    domo.clear_requests()
    for name, args in (("tags", ()), ("permissions", ()), ("history", ())):
        with pytest.raises(ValueError, match="instance API") as info:
            call(ds, name, *args)
        assert "Client(instance, token=" in str(info.value)
    with pytest.raises(ValueError, match="partition"):
        call(ds, "upload", pa.table({"id": [1], "code": ["a"]}), mode="append", partition="p1")
    assert [r for r in domo.requests() if not r["path"].startswith("/v1/datasets/")] == []


# -- streams ---------------------------------------------------------------------------------


def test_streams_lists_and_deletes(domo: LocalDomo, oauth: dd.Client, call: Call) -> None:
    a = oauth.create_dataset("a", SMALL)
    b = oauth.create_dataset("b", SMALL)
    listed = call(oauth, "streams")
    assert {s["dataSet"]["id"] for s in listed} >= {a.id, b.id}
    (one,) = call(oauth, "streams", a.id)
    assert one["dataSet"]["id"] == a.id
    stream = oauth.stream(one["id"])
    assert call(stream, "get")["id"] == one["id"]
    call(stream, "delete")
    assert call(oauth, "streams", a.id) == []
    assert a.metadata()["id"] == a.id


def test_stream_delete_needs_the_public_api(domo: LocalDomo, call: Call) -> None:
    domo.reset()
    token_client = domo.client()
    ds = token_client.create_dataset("t", SMALL)
    domo.clear_requests()
    with pytest.raises(ValueError, match=r"Client\.oauth"):
        call(token_client.stream(1001), "delete")
    with pytest.raises(ValueError, match=r"Client\.oauth"):
        call(token_client, "streams")
    assert domo.requests() == []
    (own,) = call(token_client, "streams", ds.id)
    assert own["id"] == ds.stream().id


# -- from_env --------------------------------------------------------------------------------


def test_from_env_takes_client_credentials(
    domo: LocalDomo, monkeypatch: pytest.MonkeyPatch
) -> None:
    domo.reset()
    for name in ("DOMO_INSTANCE", "DOMO_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOMO_CLIENT_ID", domo.email)
    monkeypatch.setenv("DOMO_CLIENT_SECRET", domo.password)
    monkeypatch.setenv("DOMO_API_HOST", domo.url)
    client = dd.Client.from_env()
    assert "OAuth client" in repr(client) and SECRET not in repr(client)
    assert client.datasets() == []
    monkeypatch.delenv("DOMO_CLIENT_SECRET")
    with pytest.raises(ValueError, match="DOMO_CLIENT_SECRET"):
        dd.Client.from_env()


def test_from_env_defaults_to_the_public_api_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DOMO_INSTANCE", "DOMO_TOKEN", "DOMO_API_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOMO_CLIENT_ID", "id")
    monkeypatch.setenv("DOMO_CLIENT_SECRET", "secret")
    # Nothing is sent until a request is made.
    assert dd.Client.from_env().base_url == "https://api.domo.com"
    assert os.environ["DOMO_CLIENT_ID"] == "id"


def test_the_demo_runs_on_an_oauth_client_from_the_environment(
    domo: LocalDomo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from domo_datasets import cli

    domo.reset()
    for name in ("DOMO_INSTANCE", "DOMO_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOMO_CLIENT_ID", domo.email)
    monkeypatch.setenv("DOMO_CLIENT_SECRET", domo.password)
    monkeypatch.setenv("DOMO_API_HOST", domo.url)
    assert cli.main(["demo", "--rows", "2000"]) == 0
    out = capsys.readouterr().out
    assert "Exported 2,000 rows" in out
    assert SECRET not in out
    assert domo.requests("/v1/streams/*/executions/*/commit")
