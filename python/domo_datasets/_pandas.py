"""Query results and exports into pandas DataFrames (uploads: ``_pandas_upload``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    import pyarrow as pa

DECIMALS = ("arrow", "object", "float")
"""What ``Table.to_pandas(decimals=...)`` accepts."""


def to_pandas(
    table: pa.Table,
    decimals: str,
    /,
    types_mapper: Callable[[pa.DataType], object] | None = None,
    **kwargs: object,
) -> pd.DataFrame:
    """``table.to_pandas(types_mapper=..., **kwargs)`` with the dtypes pandas users expect.

    Given no ``types_mapper``, each Domo type becomes (as pydomo's frames have them):

    - LONG: ``Int64``, pandas' nullable integer (a null stays ``<NA>``; the column never
      turns into float64);
    - DATE and DATETIME: ``datetime64[us]``, naive, in UTC (DATE at midnight), so ``.dt``
      works and the frame uploads back unchanged;
    - DOUBLE: ``float64`` (NaN for null); STRING: pandas' string dtype; BOOLEAN (only
      Domo makes those): ``boolean``, pandas' nullable bool.

    DECIMAL columns become what ``decimals`` says. ``"arrow"``:
    ``pandas.ArrowDtype(decimal128(38, 10))``, exact and without copying (a
    ``types_mapper`` that maps the type itself wins); ``"object"``: pyarrow's default, a
    ``decimal.Decimal`` per value, which costs about a second per million; ``"float"``:
    float64, NaN for null. A ``types_mapper`` given replaces the defaults above for every
    other type (``types_mapper=pandas.ArrowDtype`` keeps every column in Arrow memory).
    """
    if decimals not in DECIMALS:
        choices = ", ".join(map(repr, DECIMALS))
        raise ValueError(f"decimals must be one of {choices}, not {decimals!r}")
    import pyarrow as pa

    if types_mapper is None:
        table = _dates_as_naive_timestamps(table)
        types_mapper = _nullable_integers()
    if decimals == "float":
        for i, field in enumerate(table.schema):
            if pa.types.is_decimal(field.type):
                table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    elif decimals == "arrow":
        types_mapper = _decimals_in_arrow(types_mapper)
    return table.to_pandas(types_mapper=types_mapper, **kwargs)


def _dates_as_naive_timestamps(table: pa.Table) -> pa.Table:
    """DATE and DATETIME columns as naive ``timestamp[us]`` (UTC wall time)."""
    import pyarrow as pa

    naive = pa.timestamp("us")
    for i, field in enumerate(table.schema):
        if pa.types.is_date(field.type) or pa.types.is_timestamp(field.type):
            if field.type != naive:
                column = table.column(i)
                if pa.types.is_timestamp(field.type) and field.type.tz is not None:
                    # Dropping the zone keeps the UTC wall time.
                    column = column.cast(pa.timestamp(field.type.unit))
                table = table.set_column(i, field.name, column.cast(naive))
    return table


def _nullable_integers() -> Callable[[pa.DataType], object]:
    """A ``types_mapper``: integers as ``Int64`` and bools as ``boolean``."""
    import pandas as pd
    import pyarrow as pa

    def types_mapper(t: pa.DataType) -> object:
        if pa.types.is_integer(t):
            return pd.Int64Dtype()
        if pa.types.is_boolean(t):
            return pd.BooleanDtype()
        return None

    return types_mapper


def _decimals_in_arrow(
    given: Callable[[pa.DataType], object] | None,
) -> Callable[[pa.DataType], object]:
    """A ``types_mapper``: ``given``'s answer, else ``pandas.ArrowDtype`` for decimals."""
    import pandas as pd
    import pyarrow as pa

    def types_mapper(t: pa.DataType) -> object:
        mapped = given(t) if given is not None else None
        if mapped is None and pa.types.is_decimal(t):
            return pd.ArrowDtype(t)
        return mapped

    return types_mapper
