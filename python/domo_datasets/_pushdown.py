"""polars predicates as Domo SQL: the parts that translate exactly, for :mod:`._scan`.

Exact means every row polars keeps, the SQL keeps too; polars applies the whole predicate
again to what comes back, so the SQL may keep more but never less.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

_ORDERED_TYPES = {"LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME"}


def quote_identifier(name: str) -> str:
    """A column name as a backtick-quoted MySQL identifier."""
    return "`" + name.replace("`", "``") + "`"


_COMPARISONS = {"Eq": "=", "NotEq": "<>", "Lt": "<", "LtEq": "<=", "Gt": ">", "GtEq": ">="}
_FLIPPED = {"Eq": "Eq", "NotEq": "NotEq", "Lt": "Gt", "LtEq": "GtEq", "Gt": "Lt", "GtEq": "LtEq"}


class _Untranslatable(Exception):
    """A part of a predicate with no exact SQL equivalent: polars applies it."""


def _string_literal(text: str) -> str:
    # A backslash escapes in MySQL string literals but not in every SQL engine, so a
    # literal holding one is left to polars rather than risk comparing another string.
    if "\\" in text or "\x00" in text:
        raise _Untranslatable
    return "'" + text.replace("'", "''") + "'"


def _like_pattern(text: str, prefix: str, suffix: str) -> str:
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"LIKE {_string_literal(prefix + escaped + suffix)} ESCAPE '!'"


def _literal(node: Any, domo_type: str) -> str:
    """SQL for a literal compared with a column of ``domo_type``."""
    if not isinstance(node, dict) or "Literal" not in node:
        raise _Untranslatable
    value = node["Literal"]
    inner = value.get("Dyn") or value.get("Scalar")
    if not isinstance(inner, dict) or len(inner) != 1:
        raise _Untranslatable
    ((kind, raw),) = inner.items()
    if domo_type == "STRING":
        if kind == "String" and isinstance(raw, str):
            return _string_literal(raw)
        raise _Untranslatable
    if domo_type in ("LONG", "DOUBLE", "DECIMAL"):
        if kind in ("Int", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32"):
            return str(int(raw))
        if kind in ("UInt64", "Int128") and isinstance(raw, int):
            return str(raw)
        if kind in ("Float", "Float32", "Float64") and isinstance(raw, (int, float)):
            if not math.isfinite(raw):
                raise _Untranslatable
            return repr(float(raw))
        if kind == "Decimal" and isinstance(raw, list) and len(raw) == 3:
            digits, _precision, scale = raw
            return str(Decimal(int(digits)).scaleb(-int(scale)))
        raise _Untranslatable
    if domo_type == "DATE" and kind == "Date" and isinstance(raw, int):
        return "'" + (dt.date(1970, 1, 1) + dt.timedelta(days=raw)).isoformat() + "'"
    if domo_type == "DATETIME" and kind == "Datetime" and isinstance(raw, list):
        ticks, unit, zone = ([*raw, None])[:3]
        per_second = {"Microseconds": 10**6, "Milliseconds": 10**3, "Nanoseconds": 10**9}
        if unit not in per_second or not isinstance(ticks, int):
            raise _Untranslatable
        zone_name = zone.get("inner") if isinstance(zone, dict) else zone
        if zone_name not in (None, "UTC"):
            raise _Untranslatable
        seconds, rest = divmod(ticks, per_second[unit])
        # Domo keeps whole seconds; a literal between two seconds is left to polars.
        if rest:
            raise _Untranslatable
        at = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
        return "'" + at.strftime("%Y-%m-%d %H:%M:%S") + "'"
    raise _Untranslatable


def _column(node: Any, types: Mapping[str, str]) -> tuple[str, str]:
    if isinstance(node, dict) and isinstance(node.get("Column"), str) and node["Column"] in types:
        name: str = node["Column"]
        return quote_identifier(name), types[name]
    raise _Untranslatable


def _in_list(node: Any, domo_type: str) -> list[str]:
    """The values of an ``is_in`` list literal, as SQL literals."""
    try:
        raw = node["Literal"]["Scalar"]["List"]
        import pyarrow as pa

        reader = pa.ipc.open_stream(bytes(raw))
        values = reader.read_all().column(0).to_pylist()
    except Exception as e:  # any other shape: left to polars
        raise _Untranslatable from e
    if isinstance(values, list) and len(values) == 1 and isinstance(values[0], list):
        values = values[0]
    if not values or any(v is None for v in values):
        raise _Untranslatable
    out = []
    for v in values:
        out.append(_python_literal(v, domo_type))
    return out


def _python_literal(value: Any, domo_type: str) -> str:
    if domo_type == "STRING" and isinstance(value, str):
        return _string_literal(value)
    if domo_type in ("LONG", "DOUBLE", "DECIMAL") and not isinstance(value, bool):
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
        if isinstance(value, Decimal) and value.is_finite():
            return str(value)
    if domo_type == "DATE" and type(value) is dt.date:
        return f"'{value.isoformat()}'"
    if domo_type == "DATETIME" and isinstance(value, dt.datetime) and value.microsecond == 0:
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return "'" + str(value.strftime("%Y-%m-%d %H:%M:%S")) + "'"
    raise _Untranslatable


def _translate(node: Any, types: Mapping[str, str], negated: bool) -> str:
    """Exact SQL for ``node``, or _Untranslatable.

    Exact means: every row polars keeps, the SQL keeps too. Domo compares text as MySQL
    does, ignoring case (and trailing spaces), so text equality, ``IN`` and ``LIKE`` keep a
    superset of what polars keeps, which polars then narrows; text ordering and negated
    text tests could drop rows polars keeps, so they are left to polars.
    """
    if not isinstance(node, dict) or len(node) != 1:
        raise _Untranslatable
    ((kind, body),) = node.items()
    if kind == "BinaryExpr":
        op = body["op"]
        if op in ("And", "LogicalAnd", "Or", "LogicalOr"):
            word = "AND" if op in ("And", "LogicalAnd") else "OR"
            left = _translate(body["left"], types, negated)
            right = _translate(body["right"], types, negated)
            return f"({left} {word} {right})"
        if op in _COMPARISONS:
            left, right = body["left"], body["right"]
            if isinstance(left, dict) and "Literal" in left:
                left, right, op = right, left, _FLIPPED[op]
            column, domo_type = _column(left, types)
            if domo_type == "STRING" and (negated or op != "Eq"):
                raise _Untranslatable
            return f"{column} {_COMPARISONS[op]} {_literal(right, domo_type)}"
        raise _Untranslatable
    if kind == "Function":
        function = body.get("function")
        inputs = body.get("input") or []
        if function == {"Boolean": "Not"} and len(inputs) == 1:
            return f"(NOT {_translate(inputs[0], types, not negated)})"
        if function == {"Boolean": "IsNull"} and len(inputs) == 1:
            return f"{_column(inputs[0], types)[0]} IS NULL"
        if function == {"Boolean": "IsNotNull"} and len(inputs) == 1:
            return f"{_column(inputs[0], types)[0]} IS NOT NULL"
        if isinstance(function, dict) and len(inputs) == 2:
            boolean = function.get("Boolean")
            if isinstance(boolean, dict) and "IsIn" in boolean and not negated:
                # polars answers false for a null value where SQL's IN answers null; the
                # two differ only under a negation, which is left to polars.
                column, domo_type = _column(inputs[0], types)
                return f"{column} IN ({', '.join(_in_list(inputs[1], domo_type))})"
            string = function.get("StringExpr")
            if string is not None and not negated:
                column, domo_type = _column(inputs[0], types)
                if domo_type != "STRING":
                    raise _Untranslatable
                text = _string_literal_value(inputs[1])
                if string == "StartsWith":
                    return f"{column} {_like_pattern(text, '', '%')}"
                if string == "EndsWith":
                    return f"{column} {_like_pattern(text, '%', '')}"
                if isinstance(string, dict) and string.get("Contains", {}).get("literal"):
                    return f"{column} {_like_pattern(text, '%', '%')}"
            raise _Untranslatable
        if isinstance(function, dict) and len(inputs) == 3:
            boolean = function.get("Boolean")
            if isinstance(boolean, dict) and boolean.get("IsBetween", {}).get("closed") == "Both":
                column, domo_type = _column(inputs[0], types)
                if domo_type not in _ORDERED_TYPES:
                    raise _Untranslatable
                low = _literal(inputs[1], domo_type)
                high = _literal(inputs[2], domo_type)
                return f"{column} BETWEEN {low} AND {high}"
        raise _Untranslatable
    raise _Untranslatable


def _string_literal_value(node: Any) -> str:
    try:
        text = node["Literal"]["Scalar"]["String"]
    except (KeyError, TypeError) as e:
        raise _Untranslatable from e
    if not isinstance(text, str) or not text:
        raise _Untranslatable
    return text


def _conjuncts(node: Any) -> Iterator[Any]:
    if (
        isinstance(node, dict)
        and "BinaryExpr" in node
        and node["BinaryExpr"]["op"] in ("And", "LogicalAnd")
    ):
        yield from _conjuncts(node["BinaryExpr"]["left"])
        yield from _conjuncts(node["BinaryExpr"]["right"])
    else:
        yield node


def predicate_to_sql(predicate: pl.Expr, types: Mapping[str, str]) -> tuple[str | None, bool]:
    """The SQL condition for the parts of a polars predicate that translate exactly.

    Returns the condition (``None`` if no part translates) and whether all of it did.
    ``types`` maps column names to Domo types. Pushed down: comparisons with literals
    (numbers, dates, whole-second datetimes; text equality only), ``&``, ``|``, ``~``,
    ``is_null``/``is_not_null``, ``is_in``, ``is_between`` and text
    ``starts_with``/``ends_with``/literal ``contains``. Anything else, and any part of
    an ``|`` or ``~`` holding it, is left to polars.
    """
    try:
        tree = json.loads(predicate.meta.serialize(format="json"))
    except Exception:
        return None, False
    parts: list[str] = []
    complete = True
    for conjunct in _conjuncts(tree):
        try:
            parts.append(_translate(conjunct, types, negated=False))
        except (_Untranslatable, KeyError, TypeError, ValueError):
            complete = False
    return (" AND ".join(parts) if parts else None), complete
