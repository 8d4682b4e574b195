"""The emulator's own time for ``SELECT *`` and an export, and what gzip changes.

Starts ``python -m domo_datasets serve`` (whichever build the running Python imports),
loads the benchmark table (``datagen.py``, default 1M rows) and times the raw HTTP
routes with urllib, nothing decoded: the instance query route with ``SELECT * FROM
table`` and the instance export route, each with and without ``Accept-Encoding: gzip``.
The time is from sending the request to the last byte read on loopback, so it is the
emulator's work plus the copy through the socket. Best of ``--repeat`` runs.

    python bench/emulator_sql.py --rows 1000000 --repeat 3

Run it once per build to compare builds (see README.md, "The emulator's SQL layer").
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from pathlib import Path

import datagen
import pyarrow.compute as pc
from run import QUERY_ROUTE, EmulatorProcess

EXPORT_ROUTE = "/api/data/v2/datasources/{id}/dataversions/latest?includeHeader=true"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def timed(
    emulator: EmulatorProcess, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[float, int, str]:
    """Seconds to the last byte, bytes on the wire, and the answer's Content-Encoding."""
    request = urllib.request.Request(emulator.url + path, data=body, method=method)
    for name, value in {"X-DOMO-Developer-Token": emulator.token, **headers}.items():
        request.add_header(name, value)
    t0 = time.perf_counter()
    with OPENER.open(request, timeout=600) as response:
        size = len(response.read())
        encoding = response.headers.get("Content-Encoding") or "identity"
    return time.perf_counter() - t0, size, encoding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import domo_datasets as dd

    with tempfile.TemporaryDirectory() as workdir:
        emulator = EmulatorProcess(Path(workdir))
        try:
            client = dd.Client(emulator.url, token=emulator.token, read_timeout=600.0)
            ds = client.create_dataset("bench sql", datagen.SCHEMA)
            table = datagen.make_table(args.rows)
            # Whole seconds, which every client build accepts for a DATETIME.
            ts = table.schema.get_field_index("ts")
            floored = pc.floor_temporal(table.column(ts), unit="second")
            ds.upload(table.set_column(ts, "ts", floored), mode="replace")
            query = json.dumps({"sql": "SELECT * FROM table"}).encode()
            cases = [
                (
                    "query SELECT *",
                    "POST",
                    QUERY_ROUTE.format(id=ds.id),
                    query,
                    {"Content-Type": "application/json", "Accept": "application/json"},
                ),
                ("export", "GET", EXPORT_ROUTE.format(id=ds.id), None, {"Accept": "text/csv"}),
            ]
            print(f"{args.rows:,} rows, best of {args.repeat}")
            for name, method, path, body, headers in cases:
                for accept in ("identity", "gzip"):
                    runs = [
                        timed(emulator, method, path, body, {**headers, "Accept-Encoding": accept})
                        for _ in range(args.repeat)
                    ]
                    best = min(runs)
                    print(
                        f"  {name:15} Accept-Encoding {accept:8}: {best[0]:6.2f} s, "
                        f"{best[1] / 1e6:7.1f} MB on the wire ({best[2]})"
                    )
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
