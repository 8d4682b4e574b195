"""Reading only what a pipeline needs: a lazy polars source and a pushdown reader.

:func:`scan` gives a polars ``LazyFrame`` over a dataset. What polars pushes into the
scan becomes SQL: the columns, the parts of the filter that translate exactly (see
:mod:`domo_datasets._pushdown`) and the row limit; polars applies the whole filter again
to what comes back, so a part that does not translate is never lost, only read. The SQL
each scan sends is logged at DEBUG on ``domo_datasets.scan`` and shown, without sending
anything, by :func:`explain_scan`.

Domo answers at most 1,000,000 rows per query and cuts the rest. A read that may be
larger is split: pages over a key that identifies rows (given, or a LONG column found to
be unique), or an export of the whole dataset when nothing filters it, or, with neither,
pages ordered by every column (rows equal in every column are interchangeable, so no row
is lost or repeated while the dataset is not written to). One page is held at a time.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from domo_datasets._pushdown import predicate_to_sql, quote_identifier
from domo_datasets.exceptions import RowCapWarning

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

    from domo_datasets._domo import Dataset

log = logging.getLogger("domo_datasets.scan")

#: The most rows Domo answers to one query.
LIVE_ANSWER_CAP = 1_000_000

_POLARS_TYPES = {
    "STRING": ("String", ()),
    "LONG": ("Int64", ()),
    "DOUBLE": ("Float64", ()),
    "DECIMAL": ("Decimal", (38, 10)),
    "DATE": ("Date", ()),
    "DATETIME": ("Datetime", ("us", "UTC")),
}


# -- reading, split past the answer cap ----------------------------------------------------


class _Plan:
    """What one read asks for, and the SQL it sends (kept for :func:`explain_scan`)."""

    def __init__(
        self,
        dataset: Dataset,
        schema: Sequence[Mapping[str, Any]],
        columns: Sequence[str] | None,
        where: str | None,
        limit: int | None,
        key: str | None,
        max_rows_per_query: int,
    ) -> None:
        names = [c["name"] for c in schema]
        if columns is None:
            columns = names
        unknown = [c for c in columns if c not in names]
        if unknown:
            raise ValueError(f"the dataset has no column {', '.join(map(repr, unknown))}")
        if key is not None and key not in names:
            raise ValueError(f"key {key!r} is not a column of the dataset")
        if key is not None and next(c["type"] for c in schema if c["name"] == key) != "LONG":
            # Pages continue after the last key read, which needs an exact order.
            raise ValueError(f"key {key!r} must be a LONG column whose values identify rows")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ValueError("limit must be a non-negative whole number of rows")
        if not isinstance(max_rows_per_query, int) or max_rows_per_query < 1:
            raise ValueError("max_rows_per_query must be a positive whole number")
        if where is not None and not where.strip():
            where = None
        self.dataset = dataset
        self.schema = list(schema)
        self.types = {c["name"]: c["type"] for c in schema}
        self.columns = list(columns) or names[:1]
        self.where = where
        self.limit = limit
        self.key = key
        self.cap = max_rows_per_query
        self.sql: list[str] = []

    def _select(self, extra: str | None = None) -> str:
        columns = list(self.columns)
        if extra is not None and extra not in columns:
            columns.append(extra)
        return ", ".join(quote_identifier(c) for c in columns)

    def _where(self, *more: str) -> str:
        parts = [f"({self.where})"] if self.where else []
        parts += more
        return f" WHERE {' AND '.join(parts)}" if parts else ""

    def _query(self, sql: str, send: bool) -> Any:
        self.sql.append(sql)
        log.debug("scan of dataset %s sends: %s", self.dataset.id, sql)
        if not send:
            return None
        # The plan pages past the cap itself, so a capped answer is no news to the user.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RowCapWarning)
            return self.dataset.query(sql)

    def tables(self, send: bool = True) -> Iterator[Any]:
        """Arrow tables (with at least the plan's columns) in order; nothing when not
        ``send``, which only records the SQL reading starts with."""
        if self.limit == 0:
            return
        base = f"SELECT {self._select()} FROM table{self._where()}"
        first = base if self.limit is None else f"{base} LIMIT {self.limit}"
        if not send:
            self.sql.append(first)
            return
        if self.where is None and (self.limit is None or self.limit >= self.cap):
            # Without a filter the dataset's row count says whether one answer can hold it.
            rows = self.dataset.metadata().get("rowCount")
            small = isinstance(rows, int) and rows < self.cap
        else:
            small = self.limit is not None and self.limit < self.cap
        if small or self.where is not None:
            table = self._query(first, send)
            if table.num_rows < self.cap or (self.limit is not None and self.limit <= self.cap):
                yield table
                return
            # Cut at the cap: read again, in pages.
        key = self.key or self._unique_long_key()
        if self.where is None and (key is None or 2 * len(self.columns) > len(self.schema)):
            self.sql.append("(export of the whole dataset)")
            log.debug("scan of dataset %s reads its export", self.dataset.id)
            with self.dataset.export() as batches:
                yield from batches
            return
        if key is not None:
            yield from self._pages_by_key(key)
        else:
            yield from self._pages_in_full_order()

    def _unique_long_key(self) -> str | None:
        longs = [c["name"] for c in self.schema if c["type"] == "LONG"]
        if not longs:
            return None
        counts = ", ".join(
            f"COUNT(DISTINCT {quote_identifier(c)}) AS d{i}, COUNT({quote_identifier(c)}) AS n{i}"
            for i, c in enumerate(longs)
        )
        answer = self._query(f"SELECT COUNT(*) AS total, {counts} FROM table", True).to_pyarrow()
        total = answer.column("total")[0].as_py()
        for i, name in enumerate(longs):
            distinct = answer.column(f"d{i}")[0].as_py()
            present = answer.column(f"n{i}")[0].as_py()
            if distinct == present == total:
                return str(name)
        return None

    def _pages_by_key(self, key: str) -> Iterator[Any]:
        last: Any = None
        read = 0
        quoted = quote_identifier(key)
        wanted = self.limit
        while wanted is None or read < wanted:
            after = [] if last is None else [f"{quoted} > {last}"]
            page = self.cap if wanted is None else min(self.cap, wanted - read)
            sql = (
                f"SELECT {self._select(key)} FROM table{self._where(*after)}"
                f" ORDER BY {quoted} LIMIT {page}"
            )
            table = self._query(sql, True)
            if table.num_rows == 0:
                return
            read += table.num_rows
            keys = table.to_pyarrow().column(key)
            last = int(keys[len(keys) - 1].as_py())
            yield table
            if table.num_rows < page:
                return

    def _pages_in_full_order(self) -> Iterator[Any]:
        order = ", ".join(quote_identifier(c["name"]) for c in self.schema)
        base = f"SELECT {self._select()} FROM table{self._where()} ORDER BY {order}"
        wanted = self.limit
        for offset in itertools.count(0, self.cap):
            if wanted is not None and offset >= wanted:
                return
            page = self.cap if wanted is None else min(self.cap, wanted - offset)
            table = self._query(f"{base} LIMIT {page} OFFSET {offset}", True)
            yield table
            if table.num_rows < page:
                return


# -- polars ---------------------------------------------------------------------------------


def polars_schema(schema: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The polars schema of a dataset's columns."""
    import polars as pl

    out: dict[str, Any] = {}
    for column in schema:
        name, args = _POLARS_TYPES.get(column["type"], ("String", ()))
        out[column["name"]] = getattr(pl, name)(*args)
    return out


_DRY_RUNS: set[int] = set()
_DRY_RUN_SQL: dict[int, list[str]] = {}
_DRY_RUN_LOCK = threading.Lock()
_SCAN_IDS = itertools.count(1)
_SCAN_NAME = re.compile(r"domo_datasets\.scan#(\d+)")


def scan(
    dataset: Dataset,
    *,
    key: str | None = None,
    max_rows_per_query: int = LIVE_ANSWER_CAP,
) -> pl.LazyFrame:
    """A polars LazyFrame over ``dataset``, reading only what the query needs.

    The dataset's schema is read once, now; data is read when the frame is collected.
    Selected columns, the filter's translatable parts and ``head(n)`` become the SQL sent
    (see :func:`domo_datasets._pushdown.predicate_to_sql`); polars applies the whole
    filter to what comes back.
    Reads that may exceed ``max_rows_per_query`` rows (Domo's cap) are split over
    ``key`` (a column whose values identify rows; by default a LONG column found to be
    unique), or read through an export when nothing filters them.

    Raises:
        ImportError: If polars is not installed.
        ValueError: If ``key`` is not a column.
    """
    import polars as pl
    from polars.io.plugins import register_io_source

    schema = dataset.schema()
    _Plan(dataset, schema, None, None, None, key, max_rows_per_query)  # checks the arguments
    types = {c["name"]: c["type"] for c in schema}
    scan_id = next(_SCAN_IDS)

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        where, complete = (None, True)
        if predicate is not None:
            where, complete = predicate_to_sql(predicate, types)
        columns = list(with_columns) if with_columns is not None else list(types)
        if predicate is not None:
            for name in predicate.meta.root_names():
                if name in types and name not in columns:
                    columns.append(name)
        plan = _Plan(
            dataset,
            schema,
            columns,
            where,
            n_rows if complete else None,
            key,
            max_rows_per_query,
        )
        with _DRY_RUN_LOCK:
            dry = scan_id in _DRY_RUNS
        if dry:
            for _ in plan.tables(send=False):
                pass
            with _DRY_RUN_LOCK:
                _DRY_RUN_SQL.setdefault(scan_id, []).extend(plan.sql)
            return
        left = n_rows
        wanted = with_columns if with_columns is not None else list(types)
        for table in plan.tables():
            frame = pl.DataFrame(table)
            if predicate is not None:
                frame = frame.filter(predicate)
            frame = frame.select(wanted)
            if left is not None:
                frame = frame.head(left)
                left -= frame.height
            if batch_size:
                yield from frame.iter_slices(batch_size)
            else:
                yield frame
            if left == 0:
                return

    return register_io_source(
        source,
        schema=polars_schema(schema),
        validate_schema=True,
        explain_name=f"domo_datasets.scan#{scan_id}",
        explain_detail=f"dataset {dataset.id}",
    )


def explain_scan(frame: pl.LazyFrame) -> list[str]:
    """The SQL the Domo scans in ``frame``'s plan would send first, sending nothing.

    Reads that may exceed the answer cap start with a ``COUNT(*)``; the pages that follow
    depend on the data and are logged at DEBUG on ``domo_datasets.scan`` when they are sent.
    """
    ids = {int(m) for m in _SCAN_NAME.findall(frame.explain())}
    with _DRY_RUN_LOCK:
        _DRY_RUNS.update(ids)
        for i in ids:
            _DRY_RUN_SQL.pop(i, None)
    try:
        frame.collect()
    finally:
        with _DRY_RUN_LOCK:
            _DRY_RUNS.difference_update(ids)
            sql = [s for i in sorted(ids) for s in _DRY_RUN_SQL.pop(i, [])]
    return sql


# -- plain Arrow ----------------------------------------------------------------------------


class DatasetReader:
    """Record batches of a dataset's rows, read with the columns, condition and limit
    given; an Arrow PyCapsule stream (``pa.RecordBatchReader.from_stream``,
    ``pl.DataFrame``, DuckDB) or an iterator of tables. Nothing is sent until read."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        columns: Sequence[str] | None = None,
        where: str | None = None,
        limit: int | None = None,
        key: str | None = None,
        max_rows_per_query: int = LIVE_ANSWER_CAP,
    ) -> None:
        if isinstance(columns, str):
            raise TypeError("columns must be a sequence of column names, not one string")
        if where is not None and not isinstance(where, str):
            raise TypeError("where must be a SQL condition as a string")
        self._plan = _Plan(
            dataset, dataset.schema(), columns, where, limit, key, max_rows_per_query
        )
        self._used = False

    @property
    def columns(self) -> list[str]:
        """The columns each batch holds, in order."""
        return list(self._plan.columns)

    @property
    def sql(self) -> list[str]:
        """The SQL sent so far (after reading) or that reading starts with (before)."""
        if self._plan.sql:
            return list(self._plan.sql)
        probe = _Plan(
            self._plan.dataset,
            self._plan.schema,
            self._plan.columns,
            self._plan.where,
            self._plan.limit,
            self._plan.key,
            self._plan.cap,
        )
        for _ in probe.tables(send=False):
            pass
        return probe.sql

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        arrow_types: dict[str, Callable[[], Any]] = {
            "STRING": pa.string,
            "LONG": pa.int64,
            "DOUBLE": pa.float64,
            "DECIMAL": lambda: pa.decimal128(38, 10),
            "DATE": pa.date32,
            "DATETIME": lambda: pa.timestamp("us", "UTC"),
        }
        return pa.schema(
            [(c, arrow_types.get(self._plan.types[c], pa.string)()) for c in self._plan.columns]
        )

    def _start(self) -> Iterator[Any]:
        if self._used:
            raise RuntimeError("this reader has been read; make a new one with ds.reader()")
        self._used = True
        return self._plan.tables()

    def __iter__(self) -> Iterator[pa.Table]:
        """pyarrow tables of the selected columns, in order."""
        left = self._plan.limit
        for table in self._start():
            selected = table.to_pyarrow().select(self._plan.columns)
            if left is not None:
                selected = selected.slice(0, left)
                left -= selected.num_rows
            yield selected
            if left == 0:
                return

    def to_reader(self) -> pa.RecordBatchReader:
        """A pyarrow RecordBatchReader over the rows (streamed, a page at a time)."""
        import pyarrow as pa

        schema = self.arrow_schema()

        def batches() -> Iterator[pa.RecordBatch]:
            for table in self:
                yield from table.cast(schema).to_batches()

        return pa.RecordBatchReader.from_batches(schema, batches())

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self.to_reader().__arrow_c_stream__(requested_schema)

    def read_all(self) -> pa.Table:
        """Every row as one pyarrow Table."""
        return self.to_reader().read_all()

    def __repr__(self) -> str:
        state = "read" if self._used else "not read"
        columns = len(self._plan.columns)
        return f"DatasetReader(dataset {self._plan.dataset.id!r}, {columns} columns, {state})"
