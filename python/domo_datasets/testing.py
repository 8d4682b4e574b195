"""Test Domo pipelines offline: a local Domo emulator and a pytest plugin.

:class:`LocalDomo` runs the emulator that ships with this package on a background thread
of the current process, on a free port of ``127.0.0.1`` by default. It answers the same
Datasets API routes as a real Domo instance, with real state, real SQL and real uploads,
and lets a test inject faults (error statuses, ``Retry-After``, delays, dropped
connections) and inspect every request the client sent::

    from domo_datasets.testing import LocalDomo

    with LocalDomo() as domo:
        client = domo.client()
        ds = client.create_dataset("sales", {"region": "STRING", "amount": "DOUBLE"})
        ...

This module is also a pytest plugin (registered through the ``pytest11`` entry point, so
it is active as soon as the package is installed). It provides two fixtures:

``domo_emulator``
    One :class:`LocalDomo` for the whole test session.
``domo_client``
    A :class:`~domo_datasets.Client` connected to it, with the emulator reset to an empty
    state (no datasets, no fault rules, an empty request log) before each test, or to a
    saved snapshot for tests marked ``domo_snapshot``.

Seed once, test in isolation: data that takes a while to build is seeded once (say per
module), saved with :meth:`LocalDomo.snapshot`, and every test marked with
``@pytest.mark.domo_snapshot(name)`` starts from that state (whatever the tests before it
changed), instead of from an empty Domo::

    import pytest

    pytestmark = pytest.mark.domo_snapshot("sales")

    @pytest.fixture(scope="module", autouse=True)
    def seed_sales(domo_emulator):
        domo_emulator.reset()
        ds = domo_emulator.client().create_dataset("sales", {"region": "STRING"})
        ds.upload({"region": ["east", "west"]})
        domo_emulator.snapshot("sales")

    def test_delete(domo_client):
        (ds,) = domo_client.datasets()           # the seeded dataset, same id every test
        domo_client.dataset(ds["id"]).delete()   # gone for this test only

A snapshot keeps datasets (data, schema, versions, partitions), streams, users, cards and
emulator settings; restoring one also clears fault rules and the request log.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

from domo_datasets._domo import Client, Emulator

__all__ = ["LocalDomo"]

_ADMIN_TIMEOUT = 10.0
"""Seconds an admin call to the emulator may take before it is abandoned."""

# Admin calls go straight to the loopback address, never through a proxy from the
# environment (HTTP_PROXY and friends would otherwise apply to 127.0.0.1 too).
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _glob_to_regex(glob: str) -> re.Pattern[str]:
    """Compile a path glob: ``*`` matches within one segment, ``**`` across segments."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _release(domo: LocalDomo) -> None:
    """Called when a client of ``domo`` is collected: drops its hold on the emulator."""


class LocalDomo:
    """A local Domo emulator running in this process.

    The emulator starts serving when the object is created and stops on :meth:`stop` or
    when the ``with`` block ends. State is kept for this process only (in a private
    temporary folder, removed on :meth:`stop`) unless ``data_dir`` is given, in which case
    it survives restarts.

    Args:
        host: Interface to bind; loopback by default. Binding anything else exposes the
            emulator, which accepts a well-known token, to the network.
        port: Port to bind; ``0`` picks a free one (see :attr:`url`).
        data_dir: Folder to keep state in, or ``None`` for state of this process only.
        token: Developer token the emulator accepts.
        email: Email of the user who can log in with :meth:`Client.login`.
        password: That user's password.

    Example::

        with LocalDomo() as domo:
            ds = domo.client().create_dataset("t", {"x": "LONG"})
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        token: str = Emulator.DEFAULT_TOKEN,
        email: str = Emulator.DEFAULT_EMAIL,
        password: str = Emulator.DEFAULT_PASSWORD,
    ) -> None:
        self._emulator = Emulator(
            host=host,
            port=port,
            data_dir=data_dir,
            token=token,
            email=email,
            password=password,
        )
        self._host = host
        self._stopped = False

    # -- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> Self:
        """Return this emulator; it is already serving."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the emulator."""
        self.stop()

    def stop(self) -> None:
        """Stop serving. Idempotent; the port is released."""
        self._stopped = True
        self._emulator.stop()

    def __repr__(self) -> str:
        """Show the URL (never the token)."""
        status = "stopped" if self._stopped else "running"
        return f"<LocalDomo {self.url} {status}>"

    # -- connection details -------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the emulator, e.g. ``http://127.0.0.1:41234``."""
        return self._emulator.url

    @property
    def port(self) -> int:
        """The TCP port the emulator listens on."""
        return self._emulator.port

    @property
    def token(self) -> str:
        """The developer token the emulator accepts."""
        return self._emulator.token

    @property
    def email(self) -> str:
        """Email of the user who can log in."""
        return self._emulator.email

    @property
    def password(self) -> str:
        """Password of the user who can log in."""
        return self._emulator.password

    def client(self, **kwargs: Any) -> Client:
        """A :class:`~domo_datasets.Client` for this emulator, using its developer token.

        Keyword arguments (``max_retries``, ``read_timeout``, ...) go to
        :class:`~domo_datasets.Client`. The client keeps this emulator serving for as long
        as the client exists (``client = LocalDomo().client()`` works), unless
        :meth:`stop` is called.
        """
        client = Client(self.url, token=self.token, **kwargs)
        # The finalizer holds a reference to this LocalDomo until the client is collected.
        keep = weakref.finalize(client, _release, self)
        keep.atexit = False
        return client

    # -- admin API ----------------------------------------------------------------------

    def _admin_base(self) -> str:
        """Loopback URL for admin calls, whatever interface the emulator is bound to."""
        host = "[::1]" if ":" in self._host else "127.0.0.1"  # IPv6 literal -> ::1
        return f"http://{host}:{self.port}"

    def _admin(self, method: str, path: str, payload: Any = None) -> Any:
        """Call an ``/_emulator/`` admin route and return its decoded JSON answer."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self._admin_base() + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with _OPENER.open(request, timeout=_ADMIN_TIMEOUT) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")[:2000]
            raise RuntimeError(
                f"emulator admin call {method} {path} failed: HTTP {err.code}: {detail}"
            ) from None
        if not raw.strip():
            return None
        return json.loads(raw)

    def reset(self) -> None:
        """Wipe all datasets, uploads, fault rules and the request log."""
        self._admin("POST", "/_emulator/reset")

    def snapshot(self, name: str = "default") -> None:
        """Save the emulator's state as ``name`` (1 to 64 letters, digits, ``-``, ``_``).

        Datasets with their data and versions, streams, users, cards and settings are
        saved; a snapshot of the same name is replaced. See :meth:`restore`.
        """
        self._admin("POST", "/_emulator/snapshots", {"name": name})

    def restore(self, name: str = "default") -> None:
        """Put back the state saved by :meth:`snapshot` as ``name``.

        Everything made since is gone (ids are those of the snapshot); fault rules and the
        request log are cleared, as by :meth:`reset`. Raises ``RuntimeError`` if there is
        no snapshot of that name.
        """
        self._admin("POST", "/_emulator/snapshots/restore", {"name": name})

    def set_index_delay(self, seconds: float) -> None:
        """How long later index requests take to go QUEUED -> INDEXING -> COMPLETE
        (default 0.6 s; at most 60 s)."""
        self._admin("POST", "/_emulator/settings", {"indexDelayMs": round(seconds * 1000)})

    def set_answer_row_cap(self, rows: int) -> None:
        """Cut query answers after ``rows`` rows, as the live service cuts them after
        1,000,000 (the default): lets a test read past the cap with a small dataset."""
        self._admin("POST", "/_emulator/settings", {"answerRowCap": rows})

    def set_query_timeout(self, seconds: float | None) -> None:
        """How long a query may run before it is interrupted and answered with HTTP 400
        ("Query timed out"); ``None`` restores the default, 60 s as on live Domo.
        :meth:`reset` restores it too."""
        ms = None if seconds is None else max(1, round(seconds * 1000))
        self._admin("POST", "/_emulator/settings", {"queryTimeoutMs": ms})

    def state(self) -> dict[str, Any]:
        """The emulator's state: datasets (id, name, rowCount, schema), uploads, faults."""
        result = self._admin("GET", "/_emulator/state")
        if not isinstance(result, dict):
            raise RuntimeError(f"unexpected emulator state: {result!r}")
        return result

    def inject_fault(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        delay_ms: int = 0,
        drop: bool = False,
        drop_reply: bool = False,
        count: int = 1,
        skip: int = 0,
        body: str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Make the next matching requests fail.

        The next ``count`` requests whose path (without the query) matches ``path`` and,
        if given, whose method is ``method``, after ``skip`` matching requests have been
        let through, wait ``delay_ms`` and then: have their connection dropped (``drop``),
        or get HTTP ``status`` with ``body`` (a Domo-shaped JSON error by default) and a
        ``Retry-After`` header if ``retry_after`` is given, or, with neither, are handled
        normally after the delay. Faulted requests never reach the emulated API, except
        with ``drop_reply``: the request is served in full (a commit is applied, its rows
        become visible) and then the connection is closed without the reply, the
        ambiguous "applied, but the answer was lost" case a client must survive without
        applying the request twice.

        Args:
            path: A path glob: ``*`` matches within one segment, ``**`` across segments,
                e.g. ``"/api/data/v3/datasources/*/uploads/*/parts/*"``.
            method: HTTP method to match (``"PUT"``), or ``None`` for any.
            status: HTTP status to answer with.
            retry_after: Seconds to put in a ``Retry-After`` header.
            delay_ms: Milliseconds to wait before acting.
            drop: Close the connection without answering, before the request is served.
            drop_reply: Serve the request, then close the connection without its reply
                (the request log shows the status the lost reply had, and
                ``dropped: True``). Not combinable with ``drop`` or ``status``.
            count: How many matching requests to fault.
            skip: How many matching requests to let through first.
            body: Response body instead of the default JSON error.
            content_type: Content type of ``body`` (e.g. ``"text/html"``).
        """
        rule: dict[str, Any] = {
            "method": method.upper() if method else None,
            "path": path,
            "delay_ms": delay_ms,
            "drop": drop,
            "count": count,
            "skip": skip,
        }
        if drop_reply:
            rule["drop_reply"] = True
        if status is not None:
            rule["status"] = status
        if retry_after is not None:
            rule["retry_after"] = retry_after
        if body is not None:
            rule["body"] = body
        if content_type is not None:
            rule["content_type"] = content_type
        self._admin("POST", "/_emulator/faults", rule)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._admin("DELETE", "/_emulator/faults")

    def requests(
        self, path_glob: str | None = None, method: str | None = None
    ) -> list[dict[str, Any]]:
        """The API requests the emulator received (``/api``, ``/v1``, ``/oauth``), oldest first.

        Each is a dict with ``method``, ``path``, ``query``, ``status``, ``auth``
        (``"developer"``, ``"session"``, ``"bearer"``, ``"basic"`` or ``"none"``),
        ``content_type``, ``content_encoding``, ``accept_encoding``, ``answer_encoding``
        (``"gzip"`` when the answer was compressed), ``bytes``, ``fault``, ``dropped`` and
        ``sql`` (a query's SQL; ``None`` for other requests).
        Faulted requests are included; dropped connections have status 0.

        Args:
            path_glob: Keep only requests whose path matches this glob (``*`` within one
                segment, ``**`` across segments).
            method: Keep only requests with this HTTP method.
        """
        result = self._admin("GET", "/_emulator/requests")
        if not isinstance(result, list):
            raise RuntimeError(f"unexpected emulator request log: {result!r}")
        entries: list[dict[str, Any]] = result
        if path_glob is not None:
            pattern = _glob_to_regex(path_glob)
            entries = [e for e in entries if pattern.match(str(e.get("path", "")))]
        if method is not None:
            wanted = method.upper()
            entries = [e for e in entries if str(e.get("method", "")).upper() == wanted]
        return entries

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._admin("DELETE", "/_emulator/requests")

    def add_user(
        self,
        id: str | int,
        *,
        name: str | None = None,
        email: str = "",
        token: str | None = None,
        password: str | None = None,
    ) -> dict[str, Any]:
        """Seed a user who can then be granted access to datasets.

        A request with ``token`` as its developer token acts as this user: it sees only
        datasets shared with them, and changes only those where they have ``CAN_EDIT`` or
        ``CO_OWNER`` (403 otherwise). The emulator's own token is the administrator
        (user ``"1"``), who owns every dataset. :meth:`reset` removes seeded users.
        The emulator keeps only SHA-256 digests of ``token`` and ``password``.
        """
        payload: dict[str, Any] = {"id": str(id), "email": email}
        if name is not None:
            payload["name"] = name
        if token is not None:
            payload["token"] = token
        if password is not None:
            payload["password"] = password
        result: dict[str, Any] = self._admin("POST", "/_emulator/users", payload)
        return result

    def add_card(self, dataset_id: str, **card: Any) -> dict[str, Any]:
        """Seed a card built on a dataset (``title``, ``type``, ``chartType``,
        ``ownerId``, ``drillPath``... default sensibly) and return it with its id."""
        result: dict[str, Any] = self._admin(
            "POST", "/_emulator/cards", {"datasetId": dataset_id, **card}
        )
        return result

    def set_dataflow(self, dataset_id: str, dataflow: dict[str, Any]) -> None:
        """Make a dataset the output of ``dataflow`` (what ``Dataset.dataflow()`` reads)."""
        self._admin("POST", "/_emulator/dataflows", {"datasetId": dataset_id, "dataflow": dataflow})

    @contextlib.contextmanager
    def redirect_httpx(self) -> Iterator[None]:
        """Send httpx requests for Domo hosts to this local Domo while the block runs.

        Clients that build ``https://{instance}.domo.com/api/...`` or
        ``https://api.domo.com/...`` URLs themselves on httpx (domolibrary, scripts) then run
        unchanged against the emulator::

            with LocalDomo() as domo, domo.redirect_httpx():
                auth = DomoTokenAuth(domo_access_token=domo.token, domo_instance="acme")
                await dataset_routes.get_dataset_by_id(dataset_id=..., auth=auth)

        Requests whose host is ``domo.com`` or ends in ``.domo.com`` get this emulator's
        scheme, host and port (and ``Host`` header); others are left alone. It replaces
        ``httpx.Client.send`` and ``httpx.AsyncClient.send`` for the whole process, so use
        it from one test at a time. httpx must be installed.
        """
        import httpx

        target = httpx.URL(self.url)
        host_header = f"{target.host}:{target.port}"

        def to_local(request: httpx.Request) -> None:
            host = request.url.host
            if host == "domo.com" or host.endswith(".domo.com"):
                request.url = request.url.copy_with(
                    scheme=target.scheme, host=target.host, port=target.port
                )
                request.headers["Host"] = host_header

        sync_send = httpx.Client.send
        async_send = httpx.AsyncClient.send

        def send(client: httpx.Client, request: httpx.Request, **kwargs: Any) -> Any:
            to_local(request)
            return sync_send(client, request, **kwargs)

        async def send_async(
            client: httpx.AsyncClient, request: httpx.Request, **kwargs: Any
        ) -> Any:
            to_local(request)
            return await async_send(client, request, **kwargs)

        httpx.Client.send = send  # type: ignore[assignment,method-assign]
        httpx.AsyncClient.send = send_async  # type: ignore[assignment,method-assign]
        try:
            yield
        finally:
            httpx.Client.send = sync_send  # type: ignore[method-assign]
            httpx.AsyncClient.send = async_send  # type: ignore[method-assign]


# -- pytest plugin ------------------------------------------------------------------------

if importlib.util.find_spec("pytest") is not None:
    import pytest

    @pytest.fixture(scope="session")
    def domo_emulator() -> Iterator[LocalDomo]:
        """A :class:`LocalDomo` shared by the whole test session, stopped at its end."""
        with LocalDomo() as domo:
            yield domo

    def pytest_configure(config: pytest.Config) -> None:
        """Register the ``domo_snapshot`` marker."""
        config.addinivalue_line(
            "markers",
            "domo_snapshot(name): domo_client starts from the emulator snapshot `name` "
            "(saved with LocalDomo.snapshot) instead of an empty emulator",
        )

    @pytest.fixture
    def domo_client(domo_emulator: LocalDomo, request: pytest.FixtureRequest) -> Client:
        """A client of the session's emulator, which is first reset to an empty state.

        No datasets, no fault rules and an empty request log, so a test can assert on
        exactly the requests it caused via ``domo_emulator.requests()``. A test marked
        ``@pytest.mark.domo_snapshot(name)`` (or in a module or class so marked) starts
        from that snapshot instead, with no fault rules and an empty request log too.
        """
        marker = request.node.get_closest_marker("domo_snapshot")
        if marker is None:
            domo_emulator.reset()
            domo_emulator.clear_faults()
            domo_emulator.clear_requests()
        else:
            name = marker.args[0] if marker.args else marker.kwargs.get("name", "default")
            domo_emulator.restore(name)
        return domo_emulator.client()
