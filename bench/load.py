"""Load test: concurrent queries and appends against a local Domo with faults, then every
row reconciled.

    python bench/load.py                          # 8 clients for 20 s
    python bench/load.py --clients 50 --seconds 60

N client threads share one emulator (``LocalDomo``, in this process, on 127.0.0.1). Each
loops until the time is up or it has done ``--max-ops`` operations: a query (a count, or
its own rows), or an append of a small batch whose rows carry (client, batch, row) so
they can be found again. Meanwhile a chaos thread keeps injecting one-shot faults: 503s
and 429s with ``Retry-After`` on queries and parts, connections dropped on parts and
upload starts, and, on commits, a 503, a dropped connection and a commit applied whose
reply is lost (``drop_reply``).

Then the data is reconciled batch by batch:

- an append that succeeded must be there exactly once, every row;
- an append that failed may be there (its commit applied, the reply lost) or not, but
  never in part and never twice;
- no row that was never sent.

The summary lists operations and errors by kind, rows sent, found, lost and duplicated;
the exit status is 1 if any row was lost, duplicated, partial or unknown. Bounded in time
(``--seconds``, plus a join timeout) and in count (``--max-ops`` per client).
"""

from __future__ import annotations

import argparse
import collections
import logging
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import domo_datasets as dd
import pyarrow as pa
from domo_datasets.testing import LocalDomo

SCHEMA = {"client": "LONG", "batch": "LONG", "row": "LONG", "note": "STRING"}
UPLOADS = "/api/data/v3/datasources/*/uploads"


@dataclass
class Tally:
    """What one client did; read after its thread has ended."""

    ops: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    committed: dict[int, int] = field(default_factory=dict)  # batch -> rows, known applied
    uncertain: dict[int, int] = field(default_factory=dict)  # batch -> rows, outcome unknown


def batch_table(client: int, batch: int, rows: int) -> pa.Table:
    return pa.table(
        {
            "client": pa.array([client] * rows, pa.int64()),
            "batch": pa.array([batch] * rows, pa.int64()),
            "row": pa.array(range(rows), pa.int64()),
            "note": pa.array([f'c{client} b{batch} r{r}, "q"' for r in range(rows)]),
        }
    )


def run_client(
    domo: LocalDomo,
    dataset_id: str,
    client: int,
    deadline: float,
    max_ops: int,
    seed: int,
    tally: Tally,
) -> None:
    rng = random.Random(seed * 1000 + client)
    api = domo.client(max_retries=8, read_timeout=30.0)
    ds = api.dataset(dataset_id)
    batch = 0
    while time.monotonic() < deadline and sum(tally.ops.values()) < max_ops:
        kind = rng.choice(["append", "append", "count", "own rows"])
        tally.ops[kind] += 1
        try:
            if kind == "append":
                batch += 1
                rows = rng.randint(1, 200)
                try:
                    ds.upload(batch_table(client, batch, rows), mode="append")
                    tally.committed[batch] = rows
                except dd.DomoError:
                    # Failed or unknown (the commit may have landed): never re-sent here,
                    # so the reconciliation can tell a lost reply from a double commit.
                    tally.uncertain[batch] = rows
                    raise
            elif kind == "count":
                ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow()
            else:
                ds.query(
                    f"SELECT `batch`, COUNT(*) AS n FROM table WHERE `client` = {client} "
                    "GROUP BY `batch`"
                ).to_pyarrow()
        except dd.DomoError as e:
            tally.errors[f"{kind}: {type(e).__name__}"] += 1
        except Exception as e:  # anything else is a finding, counted apart
            tally.errors[f"{kind}: NOT A DomoError {type(e).__name__}"] += 1


def chaos(
    domo: LocalDomo, stop: threading.Event, seed: int, fired: collections.Counter[str]
) -> None:
    """Keeps one-shot faults coming until `stop` is set."""
    rng = random.Random(seed)
    faults: list[tuple[str, dict[str, Any]]] = [
        ("503 on a part", {"path": f"{UPLOADS}/*/parts/*", "method": "PUT", "status": 503}),
        (
            "429 + Retry-After on a part",
            {"path": f"{UPLOADS}/*/parts/*", "method": "PUT", "status": 429, "retry_after": 1},
        ),
        ("dropped part", {"path": f"{UPLOADS}/*/parts/*", "method": "PUT", "drop": True}),
        ("503 on a query", {"path": "/api/query/v1/execute/*", "status": 503}),
        (
            "429 + Retry-After on a query",
            {"path": "/api/query/v1/execute/*", "status": 429, "retry_after": 1},
        ),
        ("dropped query", {"path": "/api/query/v1/execute/*", "drop": True}),
        ("dropped upload start", {"path": UPLOADS, "method": "POST", "drop": True}),
        ("503 on a commit", {"path": f"{UPLOADS}/*/commit", "status": 503}),
        ("dropped commit", {"path": f"{UPLOADS}/*/commit", "drop": True}),
        ("commit applied, reply lost", {"path": f"{UPLOADS}/*/commit", "drop_reply": True}),
    ]
    while not stop.wait(rng.uniform(0.05, 0.3)):
        name, rule = rng.choice(faults)
        domo.inject_fault(**rule)
        fired[name] += 1


def reconcile(domo: LocalDomo, dataset_id: str, tallies: list[Tally]) -> dict[str, int]:
    table = (
        domo.client()
        .dataset(dataset_id)
        .query("SELECT `client`, `batch`, `row`, COUNT(*) AS n FROM table GROUP BY 1, 2, 3")
        .to_pyarrow()
    )
    found: dict[tuple[int, int], dict[int, int]] = collections.defaultdict(dict)
    for c, b, r, n in zip(*(table.column(i).to_pylist() for i in range(4)), strict=True):
        found[(c, b)][r] = n
    out = collections.Counter[str]()
    for client, tally in enumerate(tallies):
        for batch, rows in tally.committed.items():
            got = found.pop((client, batch), {})
            out["rows sent (acknowledged)"] += rows
            out["rows found"] += sum(got.values())
            out["rows lost"] += sum(1 for r in range(rows) if r not in got)
            out["rows duplicated"] += sum(n - 1 for n in got.values() if n > 1)
        for batch, rows in tally.uncertain.items():
            got = found.pop((client, batch), {})
            out["rows sent (unacknowledged)"] += rows
            out["rows found"] += sum(got.values())
            if got:
                out["unacknowledged batches applied"] += 1
                out["rows duplicated"] += sum(n - 1 for n in got.values() if n > 1)
                if len(got) != rows:
                    out["partial batches"] += 1
            else:
                out["unacknowledged batches not applied"] += 1
    out["rows never sent"] = sum(sum(g.values()) for g in found.values())
    out["rows found"] += out["rows never sent"]
    return dict(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max-ops", type=int, default=2000, help="per client")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--verbose", action="store_true", help="show each retry as logged")
    args = parser.parse_args()
    # Each retry is logged as a warning: thousands of lines under this load.
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR)
    if not (1 <= args.clients <= 200 and 0 < args.seconds <= 600 and args.max_ops >= 1):
        parser.error("--clients 1..200, --seconds up to 600, --max-ops at least 1")

    with LocalDomo() as domo:
        dataset_id = domo.client().create_dataset("load", SCHEMA).id
        tallies = [Tally() for _ in range(args.clients)]
        fired: collections.Counter[str] = collections.Counter()
        stop = threading.Event()
        started = time.monotonic()
        deadline = started + args.seconds
        chaos_thread = threading.Thread(
            target=chaos, args=(domo, stop, args.seed, fired), daemon=True
        )
        workers = [
            threading.Thread(
                target=run_client,
                args=(domo, dataset_id, i, deadline, args.max_ops, args.seed, tallies[i]),
                # A thread still stuck at the end must not keep the process alive.
                daemon=True,
            )
            for i in range(args.clients)
        ]
        chaos_thread.start()
        for w in workers:
            w.start()
        # Retries can outlast the deadline (Retry-After, backoff): bounded all the same.
        for w in workers:
            w.join(max(1.0, deadline + 120 - time.monotonic()))
        stop.set()
        chaos_thread.join(10)
        hung = sum(w.is_alive() for w in workers)
        elapsed = time.monotonic() - started
        domo.clear_faults()
        result = reconcile(domo, dataset_id, tallies)

    ops = sum((t.ops for t in tallies), collections.Counter[str]())
    errors = sum((t.errors for t in tallies), collections.Counter[str]())
    print(f"{args.clients} clients, {elapsed:.1f} s, seed {args.seed}")
    print("operations:", ", ".join(f"{k} {v}" for k, v in sorted(ops.items())))
    print("faults injected:", ", ".join(f"{k} {v}" for k, v in sorted(fired.items())))
    print("errors:", ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "none")
    for key in sorted(result):
        print(f"  {key}: {result[key]}")
    bad = (
        result.get("rows lost", 0)
        + result.get("rows duplicated", 0)
        + result.get("partial batches", 0)
        + result.get("rows never sent", 0)
        + sum(v for k, v in errors.items() if "NOT A DomoError" in k)
        + hung
    )
    if hung:
        print(f"{hung} client threads still running at the end")
    print("OK: no row lost or duplicated" if bad == 0 else "FAILED")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
