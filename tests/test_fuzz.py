"""Fuzzing the client's readers: mutated query answers and exports from a local server.

Every case is built from a seeded generator, so a failure names the seed and case that
reproduce it. Whatever the server sends, a call either returns data or raises a
:class:`DomoError` subclass: nothing else escapes, and nothing crashes.

``DOMO_FUZZ_CASES`` sets the number of cases of each kind (a few hundred by default, for
CI; raise it to search longer) and ``DOMO_FUZZ_SEED`` the seed.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import domo_datasets as dd
import pytest
from hostile import DATASET_ID, SCHEMA_SUFFIX, Handler, Hostile, query_answer, schema_answer

CASES = int(os.environ.get("DOMO_FUZZ_CASES", "250"))
SEED = int(os.environ.get("DOMO_FUZZ_SEED", "20261203"))

TYPES = ["STRING", "LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME", "BOOLEAN", "TIME", "ODD"]
# The types of well-formed answers, whose values every reader takes.
STRICT_TYPES = ["STRING", "LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME", "BOOLEAN"]

# Bytes that mean something to a JSON or CSV reader, or to UTF-8.
TOKENS = [
    b'"',
    b",",
    b"\n",
    b"\r\n",
    b"\\",
    b'\\"',
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b"true",
    b"-",
    b"1e999",
    b"-0",
    b"99999999999999999999999",
    b"\\N",
    b"\\u0000",
    b"\\ud800",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"<!DOCTYPE html>",
    b'"rows"',
    b'"metadata"',
    b'"columns"',
]


def random_value(rng: random.Random, kind: str, strict: bool) -> Any:
    """A value of a Domo type as the query answer writes it; unless ``strict``, sometimes
    of another type or out of range."""
    if rng.random() < 0.1:
        return None
    if not strict and rng.random() < 0.05:
        kind = rng.choice(TYPES)
    if kind == "LONG":
        return rng.choice([0, -1, 2**53 + 1, -(2**63), 2**63 - 1, rng.randint(-1000, 1000)])
    if kind == "DOUBLE":
        return rng.choice([0.5, -1e300, 1e-300, 12345.6789, rng.uniform(-1e6, 1e6)])
    if kind == "DECIMAL":
        return rng.choice([0.5, 12345.6789, -42, 1e-3] + ([] if strict else [1e300, "x"]))
    if kind == "DATE":
        return rng.choice(["2024-02-29", "1969-12-31", "2099-12-31"] + ([] if strict else ["x"]))
    if kind == "DATETIME":
        return rng.choice(["2019-03-19T18:49:02", "1970-01-01T00:00:00", "2030-06-15T08:05:03"])
    if kind == "BOOLEAN":
        return rng.choice([True, False])
    return rng.choice(["plain", "", 'quo"te', "new\nline", "Café 日本 🎉", "a,b", "\x00"])


def random_answer(rng: random.Random, strict: bool) -> tuple[bytes, int]:
    """A query answer, and its number of rows."""
    types = STRICT_TYPES if strict else TYPES
    columns = {f"c{i}": rng.choice(types) for i in range(rng.randint(1, 5))}
    rows = [
        [random_value(rng, kind, strict) for kind in columns.values()]
        for _ in range(rng.randint(0, 40))
    ]
    text = json.dumps(query_answer(columns, rows), ensure_ascii=rng.random() < 0.5)
    return text.encode(), len(rows)


CSV_TYPES = ["STRING", "LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME", "BOOLEAN"]


def csv_field(value: Any) -> str:
    if value is None:
        return "\\N"
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if any(c in text for c in ',"\n\r') or text == "":
        return '"' + text.replace('"', '""') + '"'
    return text


def random_export(rng: random.Random, strict: bool) -> tuple[dict[str, str], bytes, int]:
    """A schema, an export of it, and its number of rows."""
    columns = {f"c{i}": rng.choice(CSV_TYPES) for i in range(rng.randint(1, 5))}
    end = rng.choice(["\n", "\r\n"])
    lines = [",".join(columns)]
    rows = rng.randint(0, 60)
    for _ in range(rows):
        lines.append(",".join(csv_field(random_value(rng, k, strict)) for k in columns.values()))
    return columns, (end.join(lines) + end).encode(), rows


def mutate(rng: random.Random, data: bytes, edits: int) -> bytes:
    """``data`` with ``edits`` random edits: flips, cuts, repeats and inserted tokens."""
    out = bytearray(data)
    for _ in range(edits):
        at = rng.randint(0, len(out))
        edit = rng.randrange(6)
        if edit == 0 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif edit == 1:
            del out[at : at + rng.randint(1, 20)]
        elif edit == 2:
            out[at:at] = rng.choice(TOKENS)
        elif edit == 3:
            piece = bytes(out[at : at + rng.randint(1, 200)])
            out[at:at] = piece * rng.randint(1, 50)
        elif edit == 4:
            del out[at:]
        else:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(out)


@dataclass
class Case:
    """What the server answers to the call under test."""

    status: int = 200
    content_type: str = "application/json"
    body: bytes = b""
    # How the body is sent: "length", "chunked" (in random pieces), "gzip", "bad-gzip",
    # "short" (Content-Length larger than the body, then the connection is closed).
    how: str = "length"
    headers: dict[str, str] = field(default_factory=dict)
    pieces: list[int] = field(default_factory=list)
    # The rows a well-formed answer sent whole holds; None when it was mutated.
    rows: int | None = None


def random_case(rng: random.Random, body: bytes, content_type: str, strict: bool) -> Case:
    edits = 0 if strict else rng.choice([1, 1, 2, 3, 5])
    case = Case(body=mutate(rng, body, edits), content_type=content_type)
    case.how = rng.choice(["length", "length", "chunked", "chunked", "gzip", "bad-gzip", "short"])
    case.pieces = [rng.randint(1, 300) for _ in range(64)]
    if strict and case.how in ("length", "chunked", "gzip"):
        return case
    if rng.random() < 0.15:
        case.status = rng.choice([301, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504, 204])
        case.headers["Retry-After"] = rng.choice(["0", "1e20", "-1", "NaN", "soon", "1"])
        if case.status == 301:
            case.headers["Location"] = rng.choice(["/elsewhere", "http://127.0.0.1:9/x", ":::"])
    if rng.random() < 0.1:
        case.content_type = rng.choice(
            ["text/html", "text/plain", "application/json", "text/csv", "", "application/xml"]
        )
    return case


def answer(h: Handler, case: Case) -> None:
    body = case.body
    headers = dict(case.headers)
    if case.how in ("gzip", "bad-gzip"):
        body = gzip.compress(body, compresslevel=1)
        if case.how == "bad-gzip" and body:
            cut = len(body) // 2
            body = body[:cut] + bytes([body[cut] ^ 0x5A]) + body[cut + 1 :]
        headers["Content-Encoding"] = "gzip"
    # One connection per case: what a broken answer leaves on a connection (a 204 with a
    # body, say) must not become the next case's answer.
    h.close_connection = True
    h.send_response(case.status)
    h.send_header("Connection", "close")
    if case.content_type:
        h.send_header("Content-Type", case.content_type)
    for name, value in headers.items():
        h.send_header(name, value)
    if case.how == "chunked":
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        at, k = 0, 0
        while at < len(body):
            size = case.pieces[k % len(case.pieces)]
            piece, at, k = body[at : at + size], at + size, k + 1
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")
    elif case.how == "short":
        h.send_header("Content-Length", str(len(body) + 10))
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
        h.drop()
        return
    else:
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    h.wfile.flush()


class Fuzzer:
    """A server answering the current case, and a client with small limits aimed at it."""

    def __init__(self) -> None:
        self.case = Case()
        self.schema: dict[str, str] = {}
        self.lock = threading.Lock()

    def script(self, h: Handler) -> None:
        with self.lock:
            case, schema = self.case, self.schema
        if h.path.split("?")[0].endswith(SCHEMA_SUFFIX):
            h.reply_json(200, schema_answer(schema))
        else:
            answer(h, case)


def run_cases(make: Callable[[random.Random], tuple[Case, dict[str, str]]], call: str) -> None:
    fuzzer = Fuzzer()
    rng = random.Random(f"{SEED}-{call}")
    with Hostile(fuzzer.script) as server:
        ds = dd.Client(
            server.url,
            token="tok-FUZZ-0123456789",
            max_retries=0,
            read_timeout=5.0,
            deadline=20.0,
            max_answer_bytes=256 << 10,
            max_record_bytes=16 << 10,
        ).dataset(DATASET_ID)
        outcomes: dict[str, int] = {}
        for number in range(CASES):
            case, schema = make(rng)
            with fuzzer.lock:
                fuzzer.case, fuzzer.schema = case, schema
            where = (
                f"seed {SEED}, {call} case {number}: {case.how} {case.status} {case.body[:80]!r}"
            )
            try:
                if call == "query":
                    table = ds.query("SELECT * FROM table").to_pyarrow()
                elif call == "query_async" or (number % 10 == 0 and call == "export"):
                    table = asyncio.run(read_async(ds, call))
                else:
                    table = ds.export(batch_size=7).read_all().to_pyarrow()
                table.validate(full=True)
                if case.rows is not None:
                    assert table.num_rows == case.rows, where
                outcomes["data"] = outcomes.get("data", 0) + 1
            except dd.DomoError as e:
                assert case.rows is None, f"{where}: {e}"
                assert e.method and e.url, where
                name = type(e).__name__
                outcomes[name] = outcomes.get(name, 0) + 1
            except Exception as e:  # the point: nothing else may escape
                pytest.fail(f"{where}: {type(e).__name__}: {e}")
        # The corpus reaches both outcomes, or it tests little.
        assert outcomes.get("data", 0) > CASES // 20, outcomes
        assert sum(n for k, n in outcomes.items() if k != "data") > CASES // 10, outcomes


async def read_async(ds: dd.Dataset, call: str) -> Any:
    if call == "query_async":
        return (await ds.query_async("SELECT * FROM table")).to_pyarrow()
    stream = await ds.export_async(batch_size=7)
    return stream.read_all().to_pyarrow()


def query_case(rng: random.Random) -> tuple[Case, dict[str, str]]:
    strict = rng.random() < 0.25
    body, rows = random_answer(rng, strict)
    case = random_case(rng, body, "application/json", strict)
    if case.body == body and case.status == 200 and case.how in ("length", "chunked", "gzip"):
        case.rows = rows if strict else None
    return case, {}


def export_case(rng: random.Random) -> tuple[Case, dict[str, str]]:
    strict = rng.random() < 0.25
    schema, csv, rows = random_export(rng, strict)
    if not strict and rng.random() < 0.2:  # a schema that disagrees with the data
        schema = {name: rng.choice(CSV_TYPES) for name in schema}
    case = random_case(rng, csv, "text/csv;charset=UTF-8", strict)
    if case.body == csv and case.status == 200 and case.how in ("length", "chunked", "gzip"):
        case.rows = rows if strict else None
    return case, schema


def test_fuzzed_query_answers_raise_only_domo_errors() -> None:
    run_cases(query_case, "query")


def test_fuzzed_async_query_answers_raise_only_domo_errors() -> None:
    run_cases(query_case, "query_async")


def test_fuzzed_exports_raise_only_domo_errors() -> None:
    run_cases(export_case, "export")
