"""A scriptable HTTP server on 127.0.0.1 for the hardening and fuzz tests.

Each test gives it a function that answers one request, so it can play a server that
redirects, lies, trickles, echoes secrets or drops the connection: things a faithful
emulator never does. It records every request it receives (method, path, headers, body).
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SCHEMA_SUFFIX = "/schema/indexed"
EXPORT_SUFFIX = "/dataversions/latest"
QUERY_PREFIX = "/api/query/v1/execute/"
METADATA_PREFIX = "/api/data/v3/datasources/"
DATASET_ID = "44c5d1b9-7a26-4369-bf0d-c575bfb168a6"

TOKEN_HEADERS = ("x-domo-developer-token", "x-domo-authentication", "authorization")


@dataclass
class Seen:
    """One request as the server received it (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def carries_credentials(self) -> bool:
        return any(name in self.headers for name in TOKEN_HEADERS)


class Handler(BaseHTTPRequestHandler):
    """Reads a request, records it, and lets the server's script answer it."""

    protocol_version = "HTTP/1.1"
    server: Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.server.lock:
            self.server.seen.append(seen)
        self.seen = seen
        self.server.script(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what was recorded instead."""

    # -- ways to answer ----------------------------------------------------------------

    def reply(
        self,
        status: int,
        body: bytes | str = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        """A complete answer with a Content-Length."""
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def reply_json(self, status: int, value: object, headers: dict[str, str] | None = None) -> None:
        self.reply(status, json.dumps(value), "application/json", headers)

    def chunked(
        self,
        chunks: Iterator[bytes] | list[bytes],
        content_type: str = "text/csv",
        pause: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """An answer in chunked encoding, one HTTP chunk per item, ``pause`` s apart."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            for chunk in chunks:
                if self.server.stopping.is_set():
                    return
                if chunk:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
                if pause:
                    time.sleep(pause)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def trickle(
        self, content_type: str = "application/json", every: float = 0.5, length: int = 10**6
    ) -> None:
        """Announces ``length`` bytes, then sends one byte every ``every`` seconds, so no
        single read waits long, until the client goes away or the server stops."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        try:
            for _ in range(length):
                if self.server.stopping.wait(every):
                    break
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def drop(self) -> None:
        """Closes the connection without answering."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, script: Callable[[Handler], None]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script = script
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that hangs up mid-answer is what several tests do."""


@dataclass
class Hostile:
    """A running :class:`Server`; a context manager."""

    script: Callable[[Handler], None]
    server: Server = field(init=False)
    thread: threading.Thread = field(init=False)

    def __enter__(self) -> Hostile:
        self.server = Server(self.script)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def seen(self) -> list[Seen]:
        with self.server.lock:
            return list(self.server.seen)


# -- answers of a minimal Domo ---------------------------------------------------------


def schema_answer(columns: dict[str, str]) -> dict[str, Any]:
    """The answer of ``GET .../schema/indexed`` for these columns."""
    return {"tables": [{"columns": [{"name": n, "type": t} for n, t in columns.items()]}]}


def query_answer(columns: dict[str, str], rows: list[list[Any]]) -> dict[str, Any]:
    """A query answer as the live service shapes it."""
    return {
        "datasource": DATASET_ID,
        "columns": list(columns),
        "metadata": [
            {
                "type": t,
                "dataSourceId": DATASET_ID,
                "maxLength": -1,
                "minLength": -1,
                "periodIndex": 0,
                "aggregated": False,
            }
            for t in columns.values()
        ],
        "rows": rows,
        "numRows": len(rows),
        "numColumns": len(columns),
        "fromcache": False,
    }


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)
