"""Side-by-side benchmark of domo-datasets against pydomo, on a local Domo emulator.

One command runs everything and prints the tables::

    python bench/run.py              # 100k and 1M rows
    python bench/run.py --quick      # 100k rows only, a smoke check

What it does, in one run and on the same data:

1. Generates deterministic tables of mixed Domo types (see ``datagen.py``).
2. Starts the emulator (``python -m domo_datasets serve``) in its own process, on
   127.0.0.1, and loads the data into it.
3. Measures each client operation in a fresh Python process (``worker.py``): wall time
   and peak RSS over a baseline taken after imports and loading the input. Query, export
   and upload with domo-datasets and with pydomo (if installed); ratios are pydomo/ours.
   Each is also measured with the emulator's share taken out (queries and exports
   replaying saved answer bytes, uploads with parts and commit stubbed), which splits the
   time between server and client.
4. Decode throughput: the emulator's JSON answer for ``SELECT *`` is saved once, then
   decoded by the client over HTTP (the emulator serves those bytes verbatim through a
   fault rule, so its SQL time is not counted) and, without HTTP, by the Rust example
   ``decode_throughput`` against serde_json's raw-value tokenising of the same bytes.
5. Encode throughput: the Rust example ``encode_throughput`` (CSV + gzip level 1, as
   uploads do it) against pyarrow's ``write_csv`` followed by ``gzip.compress(level=1)``.
6. At 100k rows, query, export and upload once more through ``netlink.py``, a proxy
   shaped like a far-away Domo (100 Mbit/s each way, 20 ms round trip by default), to
   show what compression and overlapping transfer with decoding buy there.

All traffic stays on this machine: 127.0.0.1, and 127.0.0.2 for the shaped link. Every
subprocess has a timeout; the emulator is stopped on exit, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import datagen
import netlink
import pyarrow as pa
import worker

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SQL_ALL = "SELECT * FROM table"

# Fresh processes per side for the export against pyarrow's reader: a fresh process's
# time for either varies by more than the two differ, so this row takes the median of
# many, in turns, where every other row keeps the best of ``--repeat``.
READ_CSV_TURNS = 8
QUERY_ROUTE = "/api/query/v1/execute/{id}"
PYDOMO_QUERY_GLOB = "/v1/datasets/query/execute/*"
EXPORT_ROUTE = "/api/data/v2/datasources/{id}/dataversions/latest"
PYDOMO_EXPORT_ROUTE = "/v1/datasets/{id}/data"
CSV = "text/csv"
# Upload routes whose handlers a stubbed run skips: parts and commit.
OURS_UPLOAD_STUBS = (
    "/api/data/v3/datasources/*/uploads/*/parts/*",
    "/api/data/v3/datasources/*/uploads/*/commit",
)
PYDOMO_UPLOAD_STUBS = (
    "/v1/streams/*/executions/*/part/*",
    "/v1/streams/*/executions/*/commit",
)
PART_SIZE = 32 * 1024 * 1024  # Dataset.upload's defaults
CONCURRENCY = 4
MB = 1e6
SMALL_ROWS = 100_000

# Loopback only: no proxy from the environment may see this traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _child_env() -> dict[str, str]:
    """The environment for subprocesses: no proxies, loopback exempted anyway."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH")]))
    return env


def say(text: str = "") -> None:
    """Print and flush, so progress shows through pipes."""
    print(text, flush=True)


# -- the emulator, in its own process ---------------------------------------------------------


class EmulatorProcess:
    """``python -m domo_datasets serve --port 0`` in a subprocess, plus its admin routes.

    ``python`` chooses the installation (another virtualenv's interpreter runs its build).
    """

    def __init__(
        self, workdir: Path, start_timeout: float = 60.0, python: str = sys.executable
    ) -> None:
        self._log_path = Path(tempfile.mkstemp(prefix="emulator-", suffix=".log", dir=workdir)[1])
        self._log = self._log_path.open("w")
        self._proc = subprocess.Popen(
            [python, "-m", "domo_datasets", "serve", "--host", "127.0.0.1", "--port", "0"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=_child_env(),
        )
        deadline = time.monotonic() + start_timeout
        text = ""
        while time.monotonic() < deadline:
            text = self._log_path.read_text()
            if "Press Ctrl-C" in text:
                break
            if self._proc.poll() is not None:
                raise RuntimeError(f"the emulator exited at start:\n{text}")
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"the emulator did not start in {start_timeout:.0f} s:\n{text}")
        self.url = _find(r"listening on (http://127\.0\.0\.1:\d+)", text)
        self.token = _find(r"developer token:\s+(\S+)", text)
        self.email, self.password = re.findall(r"login:\s+(\S+) / (\S+)", text)[0]

    @property
    def pid(self) -> int:
        """The emulator process's id."""
        return self._proc.pid

    def cpu_seconds(self) -> float | None:
        """CPU time the emulator process has used so far (all its threads, user and
        system), or None where ``/proc`` does not tell it (not Linux)."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return None
        # The fields after the command name (which may hold spaces) close with ')'.
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """SIGTERM (a clean stop for ``serve``), then SIGKILL after 10 s. Idempotent."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._log.close()

    def _call(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> bytes:
        """One HTTP request to the emulator; the answer's body."""
        request = urllib.request.Request(self.url + path, data=body, method=method)
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with _OPENER.open(request, timeout=600) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as err:
            detail = err.read()[:2000].decode("utf-8", "replace")
            raise RuntimeError(f"{method} {path}: HTTP {err.code}: {detail}") from None

    def admin(self, method: str, path: str, payload: Any = None) -> None:
        """Call an ``/_emulator/`` admin route with a JSON payload."""
        body = None if payload is None else json.dumps(payload).encode()
        self._call(method, path, body, {"Content-Type": "application/json"})

    def query_answer(self, dataset_id: str, sql: str) -> bytes:
        """The raw JSON answer of the instance query route, as the client receives it."""
        return self._call(
            "POST",
            QUERY_ROUTE.format(id=dataset_id),
            json.dumps({"sql": sql}).encode(),
            {
                "X-DOMO-Developer-Token": self.token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )

    def serve_verbatim(
        self,
        path_glob: str,
        body: bytes,
        count: int = 1,
        method: str = "POST",
        content_type: str = "application/json",
    ) -> None:
        """Answer the next ``count`` requests to ``path_glob`` with ``body`` (HTTP 200).

        The emulator still reads each request's body in full, then skips its handler.
        """
        self.admin(
            "POST",
            "/_emulator/faults",
            {
                "method": method,
                "path": path_glob,
                "status": 200,
                "content_type": content_type,
                "body": body.decode("utf-8"),
                "count": count,
                "skip": 0,
                "delay_ms": 0,
                "drop": False,
            },
        )

    def stub(self, path_globs: Sequence[str]) -> None:
        """Answer PUTs to these routes at once with ``{}``, until :meth:`clear_faults`."""
        for glob in path_globs:
            self.serve_verbatim(glob, b"{}", count=1_000_000, method="PUT")

    def clear_faults(self) -> None:
        """Remove every fault rule (and so every stub)."""
        self.admin("DELETE", "/_emulator/faults")


def _find(pattern: str, text: str) -> str:
    """The first group of ``pattern`` in ``text``, or a clear error."""
    match = re.search(pattern, text)
    if not match:
        raise RuntimeError(f"cannot find {pattern!r} in the emulator's output:\n{text}")
    return match.group(1)


# -- measurements -------------------------------------------------------------------------------


@dataclass
class Measurement:
    """One operation's outcome: wall time (s), peak RSS over baseline (MB), facts, or error."""

    wall_s: float | None = None
    peak_mb: float | None = None
    baseline_mb: float | None = None
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.wall_s is not None


SKIPPED = Measurement(error="skipped")
NA = Measurement(error="")


@dataclass
class Settings:
    """What every measurement shares."""

    url: str
    token: str
    client_id: str
    client_secret: str
    repeat: int
    timeout: float


def measure(
    settings: Settings,
    op: str,
    params: dict[str, Any],
    before: Callable[[], None] | None = None,
    in_process_repeat: int = 1,
    after: Callable[[], None] | None = None,
) -> Measurement:
    """Run ``op`` in ``settings.repeat`` fresh worker processes; keep the fastest run.

    ``before`` runs ahead of each process (e.g. to arm a pre-rendered answer), ``after``
    once each has ended, however it ended. The peak memory reported is the largest of the
    runs, so it is never flattered by the choice.
    """
    spec = _worker_spec(settings, op, params, in_process_repeat)
    runs: list[dict[str, Any]] = []
    for _ in range(settings.repeat):
        run = _run_worker(settings, spec, before, after)
        if isinstance(run, Measurement):
            return run
        runs.append(run)
    best = min(runs, key=lambda r: float(r["wall_s"]))
    return _measurement(runs, best)


def measure_in_turns(
    settings: Settings, sides: Sequence[tuple[str, dict[str, Any], dict[str, Any]]], turns: int
) -> list[Measurement]:
    """Run each side's ``(op, params, hooks)`` ``turns`` times, each in a fresh worker
    process, the sides in turns; keep each side's median run.

    For two operations whose fresh-process times vary by more than they differ: the turns
    give both sides the same background, and the median is not one lucky draw. Each
    measurement's ``info["fastest_s"]`` is its side's fastest run.
    """
    runs: list[list[dict[str, Any]]] = [[] for _ in sides]
    for _ in range(turns):
        for taken, (op, params, hooks) in zip(runs, sides, strict=True):
            spec = _worker_spec(settings, op, params, 1)
            run = _run_worker(settings, spec, hooks.get("before"), hooks.get("after"))
            if isinstance(run, Measurement):
                return [run for _ in sides]
            taken.append(run)
    measured = []
    for taken in runs:
        by_time = sorted(taken, key=lambda r: float(r["wall_s"]))
        m = _measurement(taken, by_time[(len(by_time) - 1) // 2])
        m.info["fastest_s"] = float(by_time[0]["wall_s"])
        measured.append(m)
    return measured


def _worker_spec(
    settings: Settings, op: str, params: dict[str, Any], in_process_repeat: int
) -> dict[str, Any]:
    """What a worker process is told: the operation, where and as whom, and how often."""
    return {
        "op": op,
        "url": settings.url,
        "token": settings.token,
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
        "repeat": in_process_repeat,
        **params,
    }


def _run_worker(
    settings: Settings,
    spec: dict[str, Any],
    before: Callable[[], None] | None,
    after: Callable[[], None] | None,
) -> dict[str, Any] | Measurement:
    """One worker process running ``spec``: its result, or a Measurement of the error."""
    if before is not None:
        before()
    try:
        proc = subprocess.run(
            [sys.executable, str(BENCH / "worker.py"), json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=settings.timeout,
            env=_child_env(),
            cwd=ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Measurement(error=f"timed out after {settings.timeout:.0f} s")
    finally:
        if after is not None:
            after()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return Measurement(error=f"exit {proc.returncode}: {tail[0][:200]}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result


def _measurement(runs: list[dict[str, Any]], kept: dict[str, Any]) -> Measurement:
    """The measurement of ``kept``, one of ``runs``, with the largest peak of them all."""
    return Measurement(
        wall_s=float(kept["wall_s"]),
        peak_mb=max(int(r["peak_delta_kib"]) for r in runs) * 1024 / MB,
        baseline_mb=int(kept["baseline_kib"]) * 1024 / MB,
        info=dict(kept["info"]),
        note="" if all(r["baseline_exact"] for r in runs) else "baseline is a peak",
    )


def cargo_example(name: str, args: Sequence[str], timeout: float) -> dict[str, Any]:
    """Build and run a domo-core example in release mode; its final ``JSON`` line."""
    cmd = ["cargo", "run", "--release", "-q", "-p", "domo-core", "--example", name, "--", *args]
    say(f"  $ {' '.join(cmd)}")
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("JSON ")]
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-3:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)[:300]}"}
    for line in proc.stdout.splitlines():
        if not line.startswith("JSON "):
            say(f"    {line}")
    result: dict[str, Any] = json.loads(lines[-1][len("JSON ") :])
    return result


# -- printing -------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a comparison table: our operation against pydomo's."""

    group: str
    ours_label: str
    ours: Measurement
    peer_label: str
    peer: Measurement


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _ratio(peer: float | None, ours: float | None, floor: float = 0.0) -> str:
    """``peer / ours`` as ``"2.5x"``; ``"-"`` when missing or both are below ``floor``."""
    if peer is None or ours is None or ours <= 0 or max(peer, ours) < floor:
        return "-"
    return f"{peer / ours:.1f}x"


def _cell(m: Measurement) -> tuple[str, str]:
    if not m.ok:
        return ("failed" if m.error is None else m.error)[:24], ""
    return f"{m.wall_s:.3f}", _fmt(m.peak_mb, ".0f")


def print_table(title: str, rows: list[Row]) -> None:
    """A fixed-width table: wall time, peak RSS delta, and pydomo/ours ratios."""
    head = (
        f"{'operation':<18}{'ours':<28}{'s':>9}{'MB':>7}  "
        f"{'pydomo':<22}{'s':>9}{'MB':>7}  {'time x':>7}{'mem x':>7}"
    )
    say()
    say(title)
    say(head)
    say("-" * len(head))
    for row in rows:
        ours_s, ours_mb = _cell(row.ours)
        peer_s, peer_mb = _cell(row.peer)
        time_x = _ratio(row.peer.wall_s, row.ours.wall_s) if row.peer.ok else "-"
        mem_x = _ratio(row.peer.peak_mb, row.ours.peak_mb, floor=5.0) if row.peer.ok else "-"
        say(
            f"{row.group:<18}{row.ours_label:<28}{ours_s:>9}{ours_mb:>7}  "
            f"{row.peer_label:<22}{peer_s:>9}{peer_mb:>7}  {time_x:>7}{mem_x:>7}"
        )
    notes = {r.ours.note or r.peer.note for r in rows} - {""}
    for note in sorted(notes):
        say(f"note: some baselines could not be reset ({note}); deltas may be low")


# -- one data size ---------------------------------------------------------------------------


@dataclass
class SizeRun:
    """Everything measured for one number of rows."""

    rows: int
    arrow_bytes: int
    pandas_bytes: int
    answer_bytes: int
    answer_path: Path
    arrow_path: Path
    tables: dict[str, list[Row]] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)


def _write_inputs(table: pa.Table, workdir: Path) -> tuple[Path, Path, int]:
    """The table as an Arrow IPC file and as a pickled pandas DataFrame, for the workers."""
    rows = table.num_rows
    arrow_path = workdir / f"data_{rows}.arrow"
    with pa.OSFile(str(arrow_path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table, max_chunksize=65536)
    df = datagen.to_pandas(table)
    pandas_path = workdir / f"data_{rows}.pkl"
    df.to_pickle(pandas_path)
    return arrow_path, pandas_path, int(df.memory_usage(deep=True).sum())


def _count_rows(client: Any, dataset_id: str) -> int:
    """Rows committed in a dataset, by SQL."""
    table = client.dataset(dataset_id).query("SELECT COUNT(*) AS n FROM table").to_pyarrow()
    return int(table.column(0)[0].as_py())


class SizeBench:
    """The client measurements for one data size, against one loaded emulator."""

    def __init__(
        self,
        rows: int,
        emulator: EmulatorProcess,
        settings: Settings,
        workdir: Path,
        with_pydomo: bool,
        quick: bool,
    ) -> None:
        import domo_datasets as dd

        self.emulator = emulator
        self.settings = settings
        self.workdir = workdir
        self.with_pydomo = with_pydomo
        self.quick = quick
        say(f"\n=== {rows:,} rows: generating and loading")
        t0 = time.perf_counter()
        table = datagen.make_table(rows)
        arrow_path, pandas_path, pandas_bytes = _write_inputs(table, workdir)
        self.client = dd.Client(emulator.url, token=emulator.token, read_timeout=600.0)
        self.source = self.client.create_dataset(f"bench source {rows}", datagen.SCHEMA).id
        self.client.dataset(self.source).upload(table, mode="replace")
        self.answer = emulator.query_answer(self.source, SQL_ALL)
        answer_path = workdir / f"answer_{rows}.json"
        answer_path.write_bytes(self.answer)
        self.target = self.client.create_dataset(f"bench upload {rows}", datagen.SCHEMA).id
        self.pydomo_target = ""
        if with_pydomo:  # created by pydomo, so that ds_update sends no schema change
            domo = worker.pydomo_client(emulator.url, emulator.email, emulator.password)
            head = datagen.to_pandas(table.slice(0, 100))
            self.pydomo_target = str(domo.ds_create(head, f"bench pydomo upload {rows}"))
        self.run = SizeRun(
            rows, table.nbytes, pandas_bytes, len(self.answer), answer_path, arrow_path
        )
        self.upload_params: dict[str, Any] = {
            "arrow": str(arrow_path),
            "pandas": str(pandas_path),
            "part_size": PART_SIZE,
            "concurrency": CONCURRENCY,
            "schema": datagen.SCHEMA,
        }
        say(
            f"  Arrow {table.nbytes / MB:.1f} MB, pandas {pandas_bytes / MB:.1f} MB, query "
            f"answer {len(self.answer) / MB:.1f} MB; ready in {time.perf_counter() - t0:.1f} s"
        )

    # -- helpers --

    def ours(
        self, op: str, params: dict[str, Any], url: str | None = None, **hooks: Any
    ) -> Measurement:
        """Measure one of our operations (talking to ``url`` instead of the emulator's)."""
        settings = self.settings if url is None else replace(self.settings, url=url)
        return measure(settings, op, params, **hooks)

    def peer(
        self,
        op: str,
        params: dict[str, Any],
        skip: bool = False,
        url: str | None = None,
        **hooks: Any,
    ) -> Measurement:
        """Measure one of pydomo's operations, unless pydomo is out or ``skip``."""
        if skip or not self.with_pydomo:
            return SKIPPED
        settings = self.settings if url is None else replace(self.settings, url=url)
        return measure(settings, op, params, **hooks)

    def replay(self, path: str, body: bytes, method: str, content_type: str) -> dict[str, Any]:
        """Hooks that make the emulator answer the next request to ``path`` with ``body``."""
        return {
            "before": lambda: self.emulator.serve_verbatim(path, body, 1, method, content_type),
            "after": self.emulator.clear_faults,
        }

    def stubbed_uploads(self, globs: Sequence[str]) -> dict[str, Any]:
        """Hooks that answer every upload part and commit at once."""
        return {"before": lambda: self.emulator.stub(globs), "after": self.emulator.clear_faults}

    # -- the measurements --

    def query(self) -> None:
        """SELECT * into pandas, pyarrow and polars; live, then replaying saved bytes."""
        say("  query ...")
        params = {"dataset": self.source, "sql": SQL_ALL}
        peer = self.peer("pydomo_query", params)
        self.run.tables["query (live: the emulator runs the SQL each time)"] = [
            Row(
                "query",
                f"{into} (ds.query)",
                self.ours("ours_query", {"into": into, **params}),
                "ds_query",
                peer,
            )
            for into in ("pandas", "pandas-arrow", "pyarrow", "polars")
        ]
        say("  query, pre-rendered answer ...")
        ours_route = QUERY_ROUTE.format(id=self.source)
        json_type = "application/json"
        self.run.tables["query (pre-rendered: the emulator replays saved answer bytes)"] = [
            Row(
                "query replayed",
                "pyarrow (ds.query)",
                self.ours(
                    "ours_query",
                    {"into": "pyarrow", **params},
                    **self.replay(ours_route, self.answer, "POST", json_type),
                ),
                "ds_query",
                self.peer(
                    "pydomo_query",
                    params,
                    skip=self.quick,
                    **self.replay(PYDOMO_QUERY_GLOB, self.answer, "POST", json_type),
                ),
            )
        ]
        say("  polars import of a query result ...")
        self.run.tables["polars import (pl.DataFrame of a result in memory; strings as views)"] = [
            Row(
                "polars import",
                "pl.DataFrame(ds.query())",
                self.ours("ours_polars_import", params),
                "",
                NA,
            )
        ]

    def export(self) -> None:
        """The whole dataset into pyarrow, pandas, polars and a file; then replayed."""
        say("  export ...")
        params = {"dataset": self.source}
        peer = self.peer("pydomo_get", params)
        rows = [
            Row(
                "export",
                f"{into} (ds.export)",
                self.ours("ours_export", {"into": into, **params}),
                "ds_get",
                peer,
            )
            for into in ("pyarrow", "pandas", "pandas-arrow", "polars")
        ]
        ours_csv, peer_csv = self.workdir / "export_ours.csv", self.workdir / "export_pydomo.csv"
        to_file = Row(
            "export to file",
            "CSV, undecoded (export_to)",
            self.ours("ours_export_to", {"path": str(ours_csv), **params}),
            "data_export_to_file",
            self.peer("pydomo_export_to", {"path": str(peer_csv), **params}),
        )
        self.run.tables["export (live: the emulator writes the CSV each time)"] = [*rows, to_file]
        if not to_file.ours.ok:
            return
        # Each client is sent the CSV its own route gave (nulls as \N or as empty fields).
        say("  export, pre-rendered CSV ...")
        ours_body = ours_csv.read_bytes()
        peer_body = peer_csv.read_bytes() if to_file.peer.ok else b""
        peer = self.peer(
            "pydomo_get",
            params,
            skip=self.quick or not peer_body,
            **self.replay(PYDOMO_EXPORT_ROUTE.format(id=self.source), peer_body, "GET", CSV),
        )
        ours_route = EXPORT_ROUTE.format(id=self.source)
        replayed = [
            Row(
                "export replayed",
                f"{into} (ds.export)",
                self.ours(
                    "ours_export",
                    {"into": into, **params},
                    **self.replay(ours_route, ours_body, "GET", CSV),
                ),
                "ds_get",
                peer,
            )
            for into in ("pyarrow", "pandas", "pandas-arrow")
        ]
        say(
            f"  the same against pyarrow.csv.read_csv, {READ_CSV_TURNS} processes each in turns ..."
        )
        ours, read_csv = measure_in_turns(
            self.settings,
            [
                (
                    "ours_export",
                    {"into": "pyarrow", **params},
                    self.replay(ours_route, ours_body, "GET", CSV),
                ),
                ("pyarrow_read_csv", {"path": str(ours_csv)}, {}),
            ],
            READ_CSV_TURNS,
        )
        if ours.ok and read_csv.ok:
            say(
                f"    fastest: ours {ours.info['fastest_s']:.3f} s, "
                f"read_csv {read_csv.info['fastest_s']:.3f} s"
            )
        against_read_csv = Row(
            "export replayed",
            f"pyarrow (ds.export), median of {READ_CSV_TURNS}",
            ours,
            "pyarrow read_csv",
            read_csv,
        )
        title = "export (pre-rendered: the emulator replays saved CSV bytes)"
        self.run.tables[title] = [*replayed, against_read_csv]

    def upload(self) -> None:
        """Replace the data from pyarrow and pandas, create+upload; then server stubbed."""
        say("  upload ...")
        up = self.upload_params
        arrow = self.ours("ours_upload", {"source": "arrow", "dataset": self.target, **up})
        pandas = self.ours("ours_upload", {"source": "pandas", "dataset": self.target, **up})
        update = self.peer("pydomo_upload", {"dataset": self.pydomo_target, **up})
        create_params = {"create": True, "name": f"bench create {self.run.rows}", **up}
        create = (
            SKIPPED
            if self.quick
            else self.ours("ours_upload", {"source": "pandas", **create_params})
        )
        peer_create = self.peer("pydomo_upload", create_params, skip=self.quick)
        self.run.tables["upload (replace; in-memory data -> committed)"] = [
            Row("upload", "pyarrow.Table (ds.upload)", arrow, "ds_update", update),
            Row("upload", "pandas (ds.upload)", pandas, "ds_update", update),
            Row("create+upload", "pandas (create+upload)", create, "ds_create", peer_create),
        ]
        for label, m in [
            ("ours upload", pandas),
            ("ours create+upload", create),
            ("pydomo ds_update", update),
            ("pydomo ds_create", peer_create),
        ]:
            if m.ok and m.info.get("dataset"):
                n = _count_rows(self.client, str(m.info["dataset"]))
                wrong = "" if n == self.run.rows else " (WRONG)"
                self.run.checks.append(f"{label}: {n:,} rows committed{wrong}")

        say("  upload, server stubbed ...")
        stub_arrow, stub_pandas = (
            self.ours(
                "ours_upload",
                {"source": kind, "dataset": self.target, **up},
                **self.stubbed_uploads(OURS_UPLOAD_STUBS),
            )
            for kind in ("arrow", "pandas")
        )
        stub_peer = self.peer(
            "pydomo_upload",
            {"dataset": self.pydomo_target, **up},
            **self.stubbed_uploads(PYDOMO_UPLOAD_STUBS),
        )
        title = "upload, stubbed server (parts and commit answered at once: client cost)"
        self.run.tables[title] = [
            Row("upload stubbed", "pyarrow.Table (ds.upload)", stub_arrow, "ds_update", stub_peer),
            Row("upload stubbed", "pandas (ds.upload)", stub_pandas, "ds_update", stub_peer),
            Row("stage", "pandas -> batches (ds.upload)", self.ours("pandas_batches", up), "", NA),
        ]

    def network(self, mbit: float, rtt_ms: float) -> None:
        """Query, export and upload through a link shaped like a far-away Domo's."""
        say(f"  through a {mbit:g} Mbit/s, {rtt_ms:g} ms link ...")
        with netlink.ShapedLink(self.emulator.url, mbit, rtt_ms) as link:
            far = link.url
            query = {"dataset": self.source, "sql": SQL_ALL}
            export = {"dataset": self.source}
            up = {"dataset": self.target, "source": "arrow", **self.upload_params}
            peer_up = {"dataset": self.pydomo_target, **self.upload_params}
            rows = [
                Row(
                    "far query",
                    "pyarrow (ds.query)",
                    self.ours("ours_query", {"into": "pyarrow", **query}, far),
                    "ds_query",
                    self.peer("pydomo_query", query, url=far),
                ),
                Row(
                    "far export",
                    "pyarrow (ds.export)",
                    self.ours("ours_export", {"into": "pyarrow", **export}, far),
                    "ds_get",
                    self.peer("pydomo_get", export, url=far),
                ),
                Row(
                    "far upload",
                    "pyarrow.Table (ds.upload)",
                    self.ours("ours_upload", up, far),
                    "ds_update",
                    self.peer("pydomo_upload", peer_up, url=far),
                ),
            ]
        title = f"through a shaped link ({mbit:g} Mbit/s each way, {rtt_ms:g} ms round trip)"
        self.run.tables[title] = rows


def run_size(
    rows: int,
    emulator: EmulatorProcess,
    settings: Settings,
    workdir: Path,
    with_pydomo: bool,
    quick: bool,
    network: tuple[float, float] | None = None,
) -> SizeRun:
    """Generate ``rows`` rows, load them, and measure query, export and upload (and the
    same through a shaped link, if ``network`` gives its Mbit/s and round trip in ms)."""
    bench = SizeBench(rows, emulator, settings, workdir, with_pydomo, quick)
    bench.query()
    bench.export()
    bench.upload()
    if network is not None:
        bench.network(*network)
    emulator.admin("POST", "/_emulator/reset")
    return bench.run


# -- throughput -------------------------------------------------------------------------------


@dataclass
class Throughput:
    """Decode and encode throughput, in MB/s, and the raw figures behind them."""

    answer_mb: float
    http: Measurement
    rust_decode: dict[str, Any]
    python_encode: Measurement
    python_encode_naive: Measurement
    rust_encode: dict[str, Any]


def run_throughput(
    run: SizeRun,
    emulator: EmulatorProcess,
    settings: Settings,
    skip_rust: bool,
    cargo_timeout: float,
) -> Throughput:
    """Decode (HTTP and Rust) and encode (Rust vs pyarrow + gzip) on ``run``'s data."""
    import domo_datasets as dd

    say(f"\n=== throughput on {run.rows:,} rows")
    answer = run.answer_path.read_bytes()
    client = dd.Client(emulator.url, token=emulator.token)
    ds = client.create_dataset("bench decode", datagen.SCHEMA)  # empty: answers are replayed
    repeats = 3
    http = measure(
        settings,
        "ours_query",
        {"dataset": ds.id, "sql": SQL_ALL, "into": "table"},
        before=lambda: emulator.serve_verbatim(QUERY_ROUTE.format(id=ds.id), answer, repeats),
        in_process_repeat=repeats,
    )
    python_encode, python_encode_naive = (
        measure(
            settings,
            "pyarrow_csv_gzip",
            {"arrow": str(run.arrow_path), "naive_ts": naive},
            in_process_repeat=3,
        )
        for naive in (False, True)
    )
    skipped = {"error": "skipped (--skip-rust)"}
    rust_decode = (
        skipped
        if skip_rust
        else cargo_example("decode_throughput", [str(run.answer_path), "5"], cargo_timeout)
    )
    rust_encode = (
        skipped
        if skip_rust
        else cargo_example("encode_throughput", [str(run.arrow_path), "3"], cargo_timeout)
    )
    emulator.admin("POST", "/_emulator/reset")
    return Throughput(
        run.answer_bytes / MB, http, rust_decode, python_encode, python_encode_naive, rust_encode
    )


def print_throughput(tp: Throughput) -> None:
    """Decode and encode throughput tables."""
    say()
    say(f"decode: JSON query answer -> Arrow ({tp.answer_mb:.1f} MB answer)")
    rd = tp.rust_decode
    if "error" in rd:
        say(f"  Rust decode_query_answer / serde_json raw values: {rd['error']}")
    else:
        say(f"  {'Rust decode_query_answer (no HTTP), 1 thread':<46}{rd['decode_mb_s']:8.1f} MB/s")
        label = f"  same, {rd['threads']} threads (what ds.query does)"
        say(f"{label:<48}{rd['parallel_mb_s']:8.1f} MB/s")
        say(f"  {'Rust serde_json raw values (lower bound)':<46}{rd['raw_mb_s']:8.1f} MB/s")
        say(f"  {'Rust serde_json IgnoredAny (tokenise only)':<46}{rd['skip_mb_s']:8.1f} MB/s")
        share = 100 * rd["decode_mb_s"] / rd["raw_mb_s"]
        say(f"  {'decoder (1 thread) / lower bound':<46}{share:8.1f} %")
    if tp.http.ok and tp.http.wall_s:
        mbs = tp.answer_mb / tp.http.wall_s
        say(f"  {'Python ds.query over HTTP (replayed bytes)':<46}{mbs:8.1f} MB/s")
    else:
        say(f"  Python ds.query over HTTP: {tp.http.error}")
    say()
    say("encode: Arrow -> CSV -> gzip level 1 (one thread, same table)")
    re_ = tp.rust_encode
    if "error" in re_:
        say(f"  Rust write_batch + gzip: {re_['error']}")
    else:
        say(
            f"  {'ours: write_batch + flate2 (zlib-rs)':<46}{re_['csv_mb_s']:8.1f} MB/s"
            f"  {re_['total_s']:.3f} s (CSV {re_['encode_s']:.3f} + gzip {re_['gzip_s']:.3f}),"
            f" {re_['csv_bytes'] / MB:.1f} MB CSV"
        )
    for label, pe in [
        ("pyarrow write_csv + gzip.compress(level=1)", tp.python_encode),
        ("  same, timestamps without time zone", tp.python_encode_naive),
    ]:
        if not (pe.ok and pe.wall_s):
            say(f"  {label}: {pe.error}")
            continue
        info = pe.info
        speedup = f", ours {pe.wall_s / re_['total_s']:.2f}x faster" if "error" not in re_ else ""
        say(
            f"  {label:<46}{info['csv_bytes'] / MB / pe.wall_s:8.1f} MB/s"
            f"  {pe.wall_s:.3f} s (CSV {info['encode_s']:.3f} + gzip {info['gzip_s']:.3f}),"
            f" {info['csv_bytes'] / MB:.1f} MB CSV{speedup}"
        )


# -- targets -----------------------------------------------------------------------------------


def _find_row(run: SizeRun, table_prefix: str, ours_prefix: str, peer_label: str = "") -> Row:
    for title, rows in run.tables.items():
        if title.startswith(table_prefix):
            for row in rows:
                if row.ours_label.startswith(ours_prefix) and row.peer_label.startswith(peer_label):
                    return row
    return Row("", "", SKIPPED, "", SKIPPED)


def print_targets(run: SizeRun, tp: Throughput | None, far: SizeRun | None = None) -> None:
    """Each target with the figure measured for it, met or missed: against pydomo on the
    largest size, against the limits (pyarrow's CSV reader, serde_json, a copy-free polars
    import), and through the shaped link (``far``, the size it ran on)."""

    def speedup(row: Row) -> float | None:
        ok = row.ours.ok and row.peer.ok and row.ours.wall_s
        return (row.peer.wall_s or 0) / (row.ours.wall_s or 1) if ok else None

    def peak(m: Measurement) -> float | None:
        return m.peak_mb if m.ok else None

    live = _find_row(run, "query (live", "pyarrow")
    export_pa = _find_row(run, "export", "pyarrow")
    export_pd = _find_row(run, "export", "pandas")
    upload_pd = _find_row(run, "upload (", "pandas (ds")
    upload_pa = _find_row(run, "upload (", "pyarrow")
    create_pd = _find_row(run, "upload (", "pandas (cr")
    arrow_mb = export_pa.ours.info.get("arrow_bytes", 0) / MB if export_pa.ours.ok else 0
    export_peak = peak(export_pa.ours)
    not_run: dict[str, Any] = {"error": "not run"}
    rd = tp.rust_decode if tp is not None else not_run
    re_ = tp.rust_encode if tp is not None else not_run
    upload_bound = PART_SIZE * (CONCURRENCY + 1) / MB + 50
    polars_import = _find_row(run, "polars import", "pl.").ours

    def time_ratio(a: Measurement, b: Measurement) -> float | None:
        return (a.wall_s or 0) / b.wall_s if a.ok and b.ok and b.wall_s else None

    def encode_speedup(pe: Measurement | None) -> float | None:
        ok = pe is not None and pe.ok and "error" not in re_
        return (pe.wall_s or 0) / float(re_["total_s"]) if ok and pe else None

    # (name, measured, target, higher is better)
    checks: list[tuple[str, float | None, float, bool]] = [
        ("query -> Arrow vs ds_query, x (live SQL)", speedup(live), 20, True),
        (
            "query -> Arrow vs ds_query, x (replayed)",
            speedup(_find_row(run, "query (pre", "pyarrow")),
            50,
            True,
        ),
        (
            "query -> Arrow peak RSS / ds_query's",
            (peak(live.ours) or 0) / live.peer.peak_mb
            if live.peer.ok and live.peer.peak_mb and live.ours.ok
            else None,
            1 / 3,
            False,
        ),
        ("export -> pandas vs ds_get, x (live)", speedup(export_pd), 3, True),
        (
            "  same, ArrowDtype columns",
            speedup(_find_row(run, "export (live", "pandas-arrow")),
            3,
            True,
        ),
        ("export -> pyarrow vs ds_get, x (live)", speedup(export_pa), 3, True),
        (
            "export -> pandas vs ds_get, x (replayed)",
            speedup(_find_row(run, "export (pre", "pandas")),
            3,
            True,
        ),
        (
            "  same, ArrowDtype columns",
            speedup(_find_row(run, "export (pre", "pandas-arrow")),
            3,
            True,
        ),
        (
            "export -> pyarrow vs ds_get, x (replayed)",
            speedup(_find_row(run, "export (pre", "pyarrow")),
            3,
            True,
        ),
        (
            "export -> pyarrow peak RSS / Arrow size",
            export_peak / arrow_mb if export_peak is not None and arrow_mb else None,
            1.5,
            False,
        ),
        (
            "decode / serde_json raw-value bound",
            rd["decode_mb_s"] / rd["raw_mb_s"] if "error" not in rd else None,
            0.7,
            True,
        ),
        (
            "query decode on one core, MB/s",
            rd["decode_mb_s"] if "error" not in rd else None,
            300,
            True,
        ),
        (
            "export replayed vs pyarrow read_csv, x",
            speedup(
                _find_row(run, "export (pre", "pyarrow (ds.export), median", "pyarrow read_csv")
            ),
            1,
            True,
        ),
        (
            "export -> pyarrow / undecoded export_to",
            time_ratio(export_pa.ours, _find_row(run, "export (live", "CSV").ours),
            1,
            False,
        ),
        (
            "polars import: RSS growth / string bytes",
            (peak(polars_import) or 0) / (polars_import.info["string_bytes"] / MB)
            if polars_import.ok and polars_import.info.get("string_bytes")
            else None,
            0.05,
            False,
        ),
        ("upload pandas vs ds_update, x", speedup(upload_pd), 8, True),
        ("upload pyarrow vs ds_update, x", speedup(upload_pa), 10, True),
        (
            "  same, server stubbed (client only)",
            speedup(_find_row(run, "upload, stubbed", "pandas")),
            5,
            True,
        ),
        ("create+upload vs ds_create, x", speedup(create_pd), 5, True),
        (
            "upload pyarrow: peak RSS over input, MB",
            peak(upload_pa.ours),
            upload_bound,
            False,
        ),
        (
            "upload pandas: peak RSS over input, MB",
            peak(upload_pd.ours),
            upload_bound,
            False,
        ),
        (
            "CSV+gzip vs pyarrow write_csv+gzip, x",
            encode_speedup(tp.python_encode if tp else None),
            1.5,
            True,
        ),
        (
            "  same, pyarrow given zone-less timestamps",
            encode_speedup(tp.python_encode_naive if tp else None),
            1.5,
            True,
        ),
    ]
    if far is not None:
        checks += [
            (f"{what} vs pydomo, shaped link ({far.rows:,}), x", speedup(row), 1, True)
            for what, row in (
                ("query", _find_row(far, "through a shaped", "pyarrow (ds.q")),
                ("export", _find_row(far, "through a shaped", "pyarrow (ds.e")),
                ("upload", _find_row(far, "through a shaped", "pyarrow.T")),
            )
        ]
    say()
    say(f"targets ({run.rows:,} rows)")
    for name, value, target, higher in checks:
        if value is None:
            say(f"  {name:<44}{'not measured':<30}n/a")
            continue
        met = value >= target if higher else value <= target
        text = f"{value:.2f} (target {'>=' if higher else '<='} {target:.3g})"
        say(f"  {name:<44}{text:<30}{'met' if met else 'MISSED'}")


# -- main ------------------------------------------------------------------------------------------


@contextmanager
def _workdir(keep: Path | None) -> Iterator[Path]:
    """A scratch folder for data files: the given one (kept), or a temporary one."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    path = Path(tempfile.mkdtemp(prefix="domo-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _pydomo_status() -> str | None:
    """None if pydomo can be used, else why not."""
    if importlib.util.find_spec("pydomo") is None:
        return "pydomo is not installed (pip install pydomo): its columns are skipped"
    return None


def _check_pydomo(emulator: EmulatorProcess) -> str | None:
    """None if pydomo can talk to the emulator's public API, else why not."""
    try:
        worker.pydomo_client(emulator.url, emulator.email, emulator.password)
    except Exception as err:  # any failure means: run without pydomo
        return f"pydomo cannot use the emulator ({str(err)[:160]}): its columns are skipped"
    return None


def _load() -> str:
    """The 1, 5 and 15 minute load averages, where the OS gives them."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _extension_warning() -> str | None:
    """A warning if the installed extension looks like a debug build."""
    spec = importlib.util.find_spec("domo_datasets._domo")
    if spec is None or spec.origin is None:
        return "domo_datasets is not importable: build it with `maturin develop --release`"
    size = Path(spec.origin).stat().st_size
    if size > 150 * 1024 * 1024:
        return (
            f"the extension is {size / MB:.0f} MB, probably a debug build; numbers will be "
            "slow. Build with: maturin develop --release"
        )
    return None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="large size (default 1000000)")
    p.add_argument("--quick", action="store_true", help="100k rows only; skip slow pydomo parts")
    p.add_argument("--repeat", type=int, default=1, help="fresh-process runs per cell (best kept)")
    p.add_argument("--timeout", type=float, default=1200.0, help="seconds per measured process")
    p.add_argument("--skip-rust", action="store_true", help="skip the cargo examples")
    p.add_argument("--no-pydomo", action="store_true", help="measure domo-datasets only")
    p.add_argument("--workdir", type=Path, default=None, help="keep data files in this folder")
    p.add_argument("--no-network", action="store_true", help="skip the runs through a shaped link")
    p.add_argument("--link-mbit", type=float, default=100.0, help="shaped link's bandwidth")
    p.add_argument("--link-rtt-ms", type=float, default=20.0, help="shaped link's round trip")
    args = p.parse_args(argv)
    if args.rows < 1 or args.repeat < 1 or args.timeout <= 0:
        p.error("--rows, --repeat and --timeout must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    sizes = [SMALL_ROWS] if args.quick else sorted({SMALL_ROWS, args.rows})
    say(f"domo-datasets benchmark: sizes {', '.join(f'{n:,}' for n in sizes)} rows")
    say(
        f"python {sys.version.split()[0]}, pyarrow {pa.__version__}, {os.cpu_count()} CPUs, "
        f"load average {_load()}"
    )
    if warning := _extension_warning():
        say(f"WARNING: {warning}")
    pydomo_problem = "--no-pydomo given" if args.no_pydomo else _pydomo_status()
    with _workdir(args.workdir) as workdir:
        emulator = EmulatorProcess(workdir)
        try:
            say(f"emulator: {emulator.url} (its own process, pid {emulator.pid}; not measured)")
            if pydomo_problem is None:
                pydomo_problem = _check_pydomo(emulator)
            if pydomo_problem:
                say(f"NOTE: {pydomo_problem}")
            else:
                say(f"pydomo {importlib.metadata.version('pydomo')}")
            settings = Settings(
                emulator.url,
                emulator.token,
                emulator.email,
                emulator.password,
                args.repeat,
                min(args.timeout, 300.0) if args.quick else args.timeout,
            )
            shaped = None if args.no_network else (args.link_mbit, args.link_rtt_ms)
            runs = [
                run_size(
                    n,
                    emulator,
                    settings,
                    workdir,
                    pydomo_problem is None,
                    args.quick,
                    shaped if n == SMALL_ROWS else None,
                )
                for n in sizes
            ]
            tp = run_throughput(
                runs[-1], emulator, settings, args.skip_rust, 300.0 if args.quick else 1800.0
            )
        finally:
            emulator.stop()
    say("\n" + "=" * 100)
    say("Wall time in seconds, peak RSS over the process's baseline in MB (1e6 bytes).")
    say("Ratios are pydomo / ours: above 1 means ours is faster or smaller ('-' when")
    say("a side is missing, or for memory when both peaks are under 5 MB).")
    say(f"Load average at the end: {_load()} (other work on the machine skews timings).")
    for run in runs:
        say(
            f"\n##### {run.rows:,} rows: Arrow {run.arrow_bytes / MB:.1f} MB, "
            f"pandas {run.pandas_bytes / MB:.1f} MB, query answer {run.answer_bytes / MB:.1f} MB"
        )
        for title, rows in run.tables.items():
            print_table(title, rows)
        export_pa = _find_row(run, "export", "pyarrow").ours
        if export_pa.ok:
            say(f"final Arrow size of the export: {export_pa.info['arrow_bytes'] / MB:.1f} MB")
        for check in run.checks:
            say(f"check: {check}")
    print_throughput(tp)
    far = next((r for r in runs if any(t.startswith("through a shaped") for t in r.tables)), None)
    print_targets(runs[-1], tp, far)
    return 0


if __name__ == "__main__":
    sys.exit(main())
