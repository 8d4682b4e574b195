"""Reading 1% of a dataset: a pushed-down polars scan against querying everything and
filtering in polars, on the local Domo, in one run.

    python bench/scan.py                 # 1M rows
    python bench/scan.py --rows 100000   # quicker

Both read the same rows (``id`` in the lowest 1%, two columns) from the same emulator (its
own process on 127.0.0.1); each is measured in a fresh Python process: wall time and peak
RSS (sampled) over a baseline taken after imports. Prints the ratio full/scan for both.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

WORKER_TIMEOUT = 900


def worker(url: str, token: str, dataset_id: str, how: str, cut: int) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    import domo_datasets as dd
    import polars as pl

    ds = dd.Client(url, token=token).dataset(dataset_id)
    # Peak RSS over the call, sampled: ru_maxrss would report the imports' peak.
    base = rss_mb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            peak[0] = max(peak[0], rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    if how == "scan":
        frame = dd.scan(ds).filter(pl.col("id") < cut).select("id", "amount").collect()
    else:
        everything = pl.DataFrame(ds.query("SELECT * FROM table"))
        frame = everything.filter(pl.col("id") < cut).select("id", "amount")
        del everything
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return {"seconds": seconds, "peak_mb": peak[0] - base, "rows": frame.height}


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--worker", nargs=5, metavar=("URL", "TOKEN", "ID", "HOW", "CUT"))
    args = parser.parse_args()
    if args.worker:
        url, token, dataset_id, how, cut = args.worker
        print(json.dumps(worker(url, token, dataset_id, how, int(cut))))
        return 0

    import datagen
    import domo_datasets as dd
    from run import EmulatorProcess

    with tempfile.TemporaryDirectory() as tmp:
        emulator = EmulatorProcess(Path(tmp))
        try:
            client = dd.Client(emulator.url, token=emulator.token)
            table = datagen.make_table(args.rows)
            ds = client.create_dataset("scan bench", datagen.SCHEMA)
            ds.upload(table)
            cut = args.rows // 100
            results = {}
            for how in ("scan", "query"):
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        emulator.url,
                        emulator.token,
                        ds.id,
                        how,
                        str(cut),
                    ],
                    capture_output=True,
                    text=True,
                    timeout=WORKER_TIMEOUT,
                    check=True,
                )
                results[how] = json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            emulator.stop()
    scan, query = results["scan"], results["query"]
    assert scan["rows"] == query["rows"], (scan, query)
    print(f"1% of {args.rows:,} rows ({scan['rows']:,} rows, 2 of the columns)")
    print(f"{'':34} {'time s':>8} {'peak MB':>8}")
    print(f"{'dd.scan(ds).filter().select()':34} {scan['seconds']:8.3f} {scan['peak_mb']:8.1f}")
    print(
        f"{'ds.query(SELECT *) + polars filter':34} {query['seconds']:8.3f} {query['peak_mb']:8.1f}"
    )
    print(
        f"{'ratio (query / scan)':34} {query['seconds'] / scan['seconds']:7.1f}x"
        f" {query['peak_mb'] / max(scan['peak_mb'], 0.1):7.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
