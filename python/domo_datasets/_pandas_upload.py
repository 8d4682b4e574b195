"""pandas DataFrames into Arrow record batches for uploads, a slice of rows at a time.

:func:`to_batches` hands the upload a stream: columns pandas already holds as numpy or
Arrow data are taken as they are (no copy where pyarrow needs none), and columns of
Python objects (``object`` dtype, pandas' ``string[python]``) are converted
:data:`SLICE_ROWS` rows at a time, as the upload asks for them, so their conversion runs
alongside the encoding of the rows before them and memory holds a few slices, not a copy
of the frame.

Every column's Arrow type is fixed before the first slice, so all slices agree: the type
``pyarrow.Table.from_pandas`` gives the whole column, with ``decimal.Decimal`` columns
as ``decimal128(38, 10)`` (see :func:`_decimal_slice` for values with more places).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DECIMAL_PRECISION = 38
DECIMAL_SCALE = 10
"""How the client reads DECIMAL, so also the type Decimal objects are uploaded as."""

SLICE_ROWS = 65536
"""Rows of object columns converted at a time: small enough that a few slices waiting
for the encoder cost little memory, large enough that pyarrow's per-call cost vanishes."""

_SLICED_KINDS = ("string", "date", "bytes", "boolean", "decimal")
"""What ``pandas.api.types.infer_dtype`` says of an object column whose values pyarrow
converts to one type, whatever the slice: those columns are converted slice by slice.
Any other object column (mixed values, datetimes, integers that may not fit int64) is
converted whole before the first slice, as ``Table.from_pandas`` converts it."""


def to_batches(df: pd.DataFrame) -> pa.RecordBatchReader:
    """``df``'s rows as a stream of record batches of at most :data:`SLICE_ROWS` rows.

    The index is left out, as ``Table.from_pandas(df, preserve_index=False)`` leaves it.
    A frame whose column names repeat is left to ``Table.from_pandas``, which says
    what it makes of them.
    """
    import pyarrow as pa

    if not df.columns.is_unique:
        return pa.Table.from_pandas(df, preserve_index=False).to_reader()
    columns = [_Column.of(df[name]) for name in df.columns]
    schema = pa.schema([pa.field(str(c.name), c.type) for c in columns])
    return pa.RecordBatchReader.from_batches(schema, _slices(columns, schema, len(df)))


def _slices(columns: list[_Column], schema: pa.Schema, rows: int) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    for start in range(0, rows, SLICE_ROWS):
        stop = min(start + SLICE_ROWS, rows)
        arrays = [column.slice(start, stop) for column in columns]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


class _Column:
    """One column of the frame: its Arrow type, and its values for a range of rows."""

    def __init__(self, series: pd.Series, arrow_type: pa.DataType) -> None:
        # Held while the upload reads: under pandas' copy-on-write, a write to the frame
        # meanwhile (an async upload runs alongside the caller) copies the frame's data
        # instead of changing the values being read.
        self.series = series
        self.name = series.name
        self.type = arrow_type

    @staticmethod
    def of(series: pd.Series) -> _Column:
        import pandas as pd
        from pandas.api.types import infer_dtype, is_object_dtype

        dtype = series.dtype
        if is_object_dtype(dtype):
            values = series.to_numpy()
            kind = infer_dtype(values, skipna=True)
            if kind in _SLICED_KINDS:
                return _ObjectColumn(series, values, kind)
        elif isinstance(dtype, pd.StringDtype) and dtype.storage == "python":
            return _StringColumn(series)
        return _WholeColumn(series, _column_array(series))

    def slice(self, start: int, stop: int) -> pa.Array:
        raise NotImplementedError


class _WholeColumn(_Column):
    """A column converted once, whole: numpy and Arrow data are taken without a copy
    (a null bitmap is built for NaN and NaT), so each slice is a view."""

    def __init__(self, series: pd.Series, array: pa.Array | pa.ChunkedArray) -> None:
        super().__init__(series, array.type)
        self.array = array

    def slice(self, start: int, stop: int) -> pa.Array:
        import pyarrow as pa

        part = self.array.slice(start, stop - start)
        if isinstance(part, pa.Array):
            return part
        chunks = part.chunks
        if len(chunks) == 1:
            return chunks[0]
        # Only a slice that spans chunks is copied, and only its own rows.
        return pa.concat_arrays(chunks) if chunks else pa.array([], type=self.type)


class _ObjectColumn(_Column):
    """An ``object`` column whose values are all of one kind (see ``_SLICED_KINDS``)."""

    def __init__(self, series: pd.Series, values: Any, kind: str) -> None:
        import pyarrow as pa

        types = {
            "string": pa.string(),
            "date": pa.date32(),
            "bytes": pa.binary(),
            "boolean": pa.bool_(),
            "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
        }
        super().__init__(series, types[kind])
        self.values = values
        self.decimal = kind == "decimal"

    def slice(self, start: int, stop: int) -> pa.Array:
        import pyarrow as pa

        values = self.values[start:stop]
        try:
            if self.decimal:
                return _decimal_slice(values, self.type)
            array = pa.array(values, from_pandas=True)
            if array.type == pa.null():
                return array.cast(self.type)
            if array.type != self.type:
                # datetimes among dates: the whole column would fail to convert too.
                raise TypeError(f"values of type {array.type}, where the column has {self.type}")
            return array
        except (pa.ArrowException, ValueError, TypeError) as e:
            raise ValueError(f"column {self.name!r}, rows {start} to {stop - 1}: {e}") from None


class _StringColumn(_Column):
    """A ``string[python]`` column (Python str objects behind pandas' string dtype)."""

    def __init__(self, series: pd.Series) -> None:
        import pyarrow as pa

        self.values = series.array
        super().__init__(series, pa.array(self.values[:0]).type)

    def slice(self, start: int, stop: int) -> pa.Array:
        import pyarrow as pa

        return pa.array(self.values[start:stop], type=self.type)


def _decimal_slice(values: Any, decimal_type: pa.DataType) -> pa.Array:
    """Decimal objects as ``decimal_type`` (DECIMAL(38, 10)).

    A value with more than ten places is rounded to ten, half away from zero, as Domo
    rounds the extra places of a DECIMAL it is sent: knowing before the first slice
    whether some value has more places would mean reading every value first, which
    costs more than converting them. A value past 28 digits before the point fits no
    DECIMAL and is refused.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pa.array(values, type=decimal_type, from_pandas=True)
    except pa.ArrowInvalid:
        pass
    exact = pa.array(values, from_pandas=True)
    if pa.types.is_decimal(exact.type) and exact.type.scale > decimal_type.scale:
        exact = pc.round(exact, ndigits=decimal_type.scale, round_mode="half_towards_infinity")
    return exact.cast(decimal_type)


def _column_array(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """One column as ``Table.from_pandas`` converts it, with a column of Decimal objects
    given ``decimal128(38, 10)`` when every value fits: given no type, pyarrow works out
    the precision from every value before converting, several times slower."""
    import pyarrow as pa

    if _holds_decimals(series):
        decimal_type = pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE)
        try:
            return pa.array(series, type=decimal_type, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array(series, from_pandas=True)


def _holds_decimals(series: pd.Series) -> bool:
    """Whether ``series`` is an object column whose first value is a Decimal."""
    if series.dtype != object:
        return False
    present = series.notna().to_numpy()
    if not present.any():
        return False
    return isinstance(series.iloc[int(present.argmax())], decimal.Decimal)
