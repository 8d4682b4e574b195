"""The emulator's own time to answer ``SELECT *``, to export and to take an upload.

The emulator runs in its own process (``python -m domo_datasets serve``); a plain HTTP
request reads each answer to its end and throws it away, so the time is the emulator's
(SQL, rendering, compression) plus loopback transfer. Each is measured without and with
gzip (``Accept-Encoding``), and the bytes on the wire are counted. The upload is this
tree's client replacing the data from the Arrow table (gzip parts, then the commit): the
client's encoding weighs the same on both sides, the rest is the emulator's part ingest
and commit. For the upload it also prints the CPU time the client and the emulator spent
(core-seconds, on Linux): their sum over the machine's cores is the shortest time any
upload of these rows could take here while both share the machine.

``--against PYTHON`` starts a second emulator from another installation (another build of
the package, in another virtualenv), loads the same data into both, and measures them in
turns, so that other work on the machine weighs on both alike; it prints the ratio::

    python bench/emulator_time.py --rows 1000000 --against /path/to/old/venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import datagen  # noqa: E402
from run import EXPORT_ROUTE, QUERY_ROUTE, SQL_ALL, EmulatorProcess  # noqa: E402

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ANSWERS = [(name, gzip) for name in ("query", "export") for gzip in (False, True)] + [
    ("upload", True)
]


class Target:
    """One emulator holding the generated dataset, and its two routes' requests."""

    def __init__(self, emulator: EmulatorProcess, table: object) -> None:
        import domo_datasets as dd

        self.emulator = emulator
        self.table = table
        client = dd.Client(emulator.url, token=emulator.token, read_timeout=600.0)
        ds = client.create_dataset("emulator time", datagen.SCHEMA)
        ds.upload(table, mode="replace")
        self.dataset = ds
        self.routes = {
            "query": ("POST", QUERY_ROUTE.format(id=ds.id), json.dumps({"sql": SQL_ALL})),
            "export": ("GET", EXPORT_ROUTE.format(id=ds.id) + "?includeHeader=true", None),
        }

    def timed(self, name: str, gzip: bool) -> tuple[float, int, tuple[float, float] | None]:
        """Seconds to read the whole answer (or to upload), its size on the wire and, for
        the upload, the CPU seconds the client and the emulator spent on it."""
        if name == "upload":
            client_cpu, emulator_cpu = _client_cpu_seconds(), self.emulator.cpu_seconds()
            started = time.perf_counter()
            sent = self.dataset.upload(self.table, mode="replace")
            wall = time.perf_counter() - started
            emulator_after = self.emulator.cpu_seconds()
            cpu = None
            if emulator_cpu is not None and emulator_after is not None:
                cpu = (_client_cpu_seconds() - client_cpu, emulator_after - emulator_cpu)
            return wall, sent["bytes_sent"], cpu
        method, path, body = self.routes[name]
        request = urllib.request.Request(
            self.emulator.url + path,
            data=None if body is None else body.encode(),
            method=method,
        )
        request.add_header("X-DOMO-Developer-Token", self.emulator.token)
        request.add_header("Accept-Encoding", "gzip" if gzip else "identity")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        started = time.perf_counter()
        size = 0
        with _OPENER.open(request, timeout=600) as response:
            while chunk := response.read(1 << 20):
                size += len(chunk)
        return time.perf_counter() - started, size, None


def _client_cpu_seconds() -> float:
    """CPU time this process (the client, all its threads) has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5, help="turns per answer (best kept)")
    p.add_argument("--against", help="another installation's python, measured in turns")
    args = p.parse_args(argv)
    if args.rows < 1 or not 1 <= args.repeat <= 20:
        p.error("--rows must be positive and --repeat between 1 and 20")
    table = datagen.make_table(args.rows)
    pythons = [sys.executable] + ([args.against] if args.against else [])
    with tempfile.TemporaryDirectory() as workdir:
        emulators: list[EmulatorProcess] = []
        try:
            for python in pythons:
                emulators.append(EmulatorProcess(Path(workdir), python=python))
            targets = [Target(e, table) for e in emulators]
            best: list[dict[tuple[str, bool], tuple[float, int, tuple[float, float] | None]]]
            best = [{} for _ in targets]
            for _ in range(args.repeat):
                for answer in ANSWERS:
                    for target, seen in zip(targets, best, strict=True):
                        got = target.timed(*answer)
                        if answer not in seen or got[0] < seen[answer][0]:
                            seen[answer] = got
        finally:
            for e in emulators:
                e.stop()
    print(f"emulator's own time at {args.rows:,} rows (best of {args.repeat}; MB = 1e6 bytes)")
    head = f"{'answer':<14}{'this tree s':>12}{'MB':>9}"
    if args.against:
        head += f"{'against s':>12}{'MB':>9}{'this/against':>14}"
    print(head)
    print("-" * len(head))
    for answer in ANSWERS:
        s, size, _ = best[0][answer]
        line = f"{answer[0] + (' gzip' if answer[1] else ''):<14}{s:>12.3f}{size / 1e6:>9.1f}"
        if args.against:
            o_s, o_size, _ = best[1][answer]
            line += f"{o_s:>12.3f}{o_size / 1e6:>9.1f}{s / o_s:>13.2f}x"
        print(line)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for side, seen in zip(("this tree", "against"), best, strict=False):
        wall, _, cpu = seen[("upload", True)]
        if cpu is not None and cores:
            client, emulator = cpu
            print(
                f"upload CPU, {side} (best turn, {wall:.3f} s): client {client:.2f} + emulator "
                f"{emulator:.2f} = {client + emulator:.2f} core-s; over {cores} cores, "
                f"{(client + emulator) / cores:.3f} s at the least"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
