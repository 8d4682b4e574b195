//! Python arguments as domo-core values, each read once, under the GIL, when a method is
//! called. Every type here is a `FromPyObject` newtype, so a method's blocking form and
//! its `_async` twin take the same converted values and neither reads Python again.

use domo_core::policies::PolicyFilter;
use domo_core::types::columns_from_arrow;
use domo_core::{Column, ColumnChange, DomoType, Permission};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDate, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyMapping};
use pyo3::types::{PyString, PyTuple};
use pyo3_arrow::PySchema;
use pyo3_arrow::input::AnyRecordBatch;
use serde_json::{Map, Value};

use crate::errors::{PyDomoError, PyDomoResult};

/// Implements `FromPyObject` for a newtype from a function reading a `&Bound`.
macro_rules! from_py {
    ($newtype:ident, $read:expr) => {
        impl<'a, 'py> FromPyObject<'a, 'py> for $newtype {
            type Error = PyDomoError;

            fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> Result<Self, Self::Error> {
                let read: fn(&Bound<'py, PyAny>) -> PyDomoResult<_> = $read;
                read(&obj).map($newtype)
            }
        }
    };
}

/// Any JSON-shaped value: dicts (string keys), lists, tuples and the scalars of a row.
pub struct Json(pub Value);
from_py!(Json, json_from_py);

/// An id given as a string or an int (Domo user and data version ids are numbers).
pub struct Id(pub String);
from_py!(Id, |v| Ok(id_from_py(v)?));

/// Ids given as a sequence of strings or ints, never one string.
pub struct Ids(pub Vec<String>);
from_py!(Ids, |values| {
    if values.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("give a list of ids, not a single string").into());
    }
    Ok(values
        .try_iter()?
        .map(|v| id_from_py(&v?))
        .collect::<PyResult<_>>()?)
});

/// Data-version ids: a sequence of ints or strings, sent as they are.
pub struct DataIds(pub Vec<Value>);
from_py!(DataIds, |value| match json_from_py(value)? {
    Value::Array(items) => Ok(items),
    _ => Err(PyTypeError::new_err("data_ids must be a sequence of data version ids").into()),
});

/// A dataset schema: a mapping of name to type, a sequence of (name, type) pairs or
/// `{"name", "type"}` dicts, or an Arrow schema source.
pub struct Columns(pub Vec<Column>);
from_py!(Columns, columns_from_py);

/// Permissions: dicts with `id`, `type` (default `"USER"`) and `access_level` (or
/// `accessLevel`). Checking the values themselves is domo-core's job.
pub struct Permissions(pub Vec<Permission>);
from_py!(Permissions, permissions_from_py);

/// A new schema: a mapping of name to type, or dicts with `name`, `type` and optional
/// `from` (or `id`), the current name of a renamed column.
pub struct ColumnChanges(pub Vec<ColumnChange>);
from_py!(ColumnChanges, changes_from_py);

/// A mapping of property name to JSON-able value.
pub struct Properties(pub Map<String, Value>);
from_py!(Properties, |properties| {
    let mapping = properties
        .cast::<PyMapping>()
        .map_err(|_| PyTypeError::new_err("properties must be a mapping of name to value"))?;
    let mut out = Map::new();
    for item in mapping.items()?.iter() {
        let (k, v): (String, Bound<'_, PyAny>) = item.extract()?;
        out.insert(k, json_from_py(&v)?);
    }
    Ok(out)
});

/// Rows given as a sequence of dicts, as JSON objects, after
/// `domo_datasets._sources.plain_rows` turns numpy scalars, NaT and pandas' NA into plain
/// Python values.
pub struct Rows(pub Vec<Map<String, Value>>);
from_py!(Rows, |rows| {
    let plain = rows
        .py()
        .import("domo_datasets._sources")?
        .call_method1("plain_rows", (rows,))?;
    Ok(rows_from_py(&plain)?)
});

/// PDP policy filters: a sequence of dicts with `column`, `values`, and optionally
/// `operator` (EQUALS) and `not` (False), each checked by domo-core.
pub struct PolicyFilters(pub Vec<PolicyFilter>);
from_py!(PolicyFilters, policy_filters_from_py);

/// A number of seconds, positive and finite.
pub fn seconds(name: &str, value: f64) -> PyResult<std::time::Duration> {
    if !value.is_finite() || value <= 0.0 {
        return Err(PyValueError::new_err(format!(
            "{name} must be a positive number of seconds, not {value}"
        )));
    }
    std::time::Duration::try_from_secs_f64(value)
        .map_err(|e| PyValueError::new_err(format!("{name}: {e}")))
}

fn json_from_py(value: &Bound<'_, PyAny>) -> PyDomoResult<Value> {
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in dict.iter() {
            let key: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err(format!("dict keys must be strings, not {k}")))?;
            map.insert(key, json_from_py(&v)?);
        }
        return Ok(Value::Object(map));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|v| json_from_py(&v?))
            .collect::<PyDomoResult<Vec<_>>>()
            .map(Value::Array);
    }
    Ok(cell_from_py(value)?)
}

/// A Python value as JSON for a row to append: dates and datetimes as Domo writes them
/// (datetimes in UTC), decimals as numbers.
fn cell_from_py(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        return match value.extract::<i64>() {
            Ok(i) => Ok(Value::from(i)),
            Err(_) => Ok(Value::from(value.extract::<u64>()?)),
        };
    }
    if value.is_instance_of::<PyFloat>() {
        let f: f64 = value.extract()?;
        // Domo has no NaN or infinity: they are nulls.
        return Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_string()));
    }
    let py = value.py();
    if value.is_instance_of::<PyDateTime>() {
        let utc = if value.getattr("tzinfo")?.is_none() {
            value.clone()
        } else {
            let timezone = py.import("datetime")?.getattr("timezone")?.getattr("utc")?;
            value.call_method1("astimezone", (timezone,))?
        };
        let text: String = utc
            .call_method1("strftime", ("%Y-%m-%dT%H:%M:%S",))?
            .extract()?;
        return Ok(Value::String(text));
    }
    if value.is_instance_of::<PyDate>() {
        return Ok(Value::String(value.call_method0("isoformat")?.extract()?));
    }
    if value.get_type().name()? == "Decimal" {
        let f: f64 = value.call_method0("__float__")?.extract()?;
        return Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number));
    }
    Err(PyTypeError::new_err(format!(
        "cannot send a value of type {} in a row; use str, int, float, bool, None, date, datetime or Decimal",
        value.get_type().name()?
    )))
}

fn rows_from_py(rows: &Bound<'_, PyAny>) -> PyResult<Vec<Map<String, Value>>> {
    if rows.is_instance_of::<PyString>() || rows.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err("rows must be a sequence of dicts"));
    }
    rows.try_iter()
        .map_err(|_| PyTypeError::new_err("rows must be a sequence of dicts"))?
        .enumerate()
        .map(|(i, row)| {
            let row = row?;
            let dict = row
                .cast::<PyDict>()
                .map_err(|_| PyTypeError::new_err(format!("row {i} is not a dict")))?;
            dict.iter()
                .map(|(k, v)| {
                    let key: String = k.extract().map_err(|_| {
                        PyTypeError::new_err(format!("row {i}: column names must be strings"))
                    })?;
                    let value = cell_from_py(&v).map_err(|e| {
                        PyTypeError::new_err(format!("row {i}, column {key:?}: {e}"))
                    })?;
                    Ok((key, value))
                })
                .collect()
        })
        .collect()
}

fn id_from_py(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(s.to_str()?.to_string());
    }
    if value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>() {
        return Ok(value.str()?.to_str()?.to_string());
    }
    Err(PyTypeError::new_err(format!(
        "an id must be a string or an int, not {}",
        value.get_type().name()?
    )))
}

fn domo_type_from_py(value: &Bound<'_, PyAny>) -> PyDomoResult<DomoType> {
    let name: String = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "a column type must be a string such as \"LONG\", not {value}"
        ))
    })?;
    Ok(name.parse()?)
}

fn columns_from_py(schema: &Bound<'_, PyAny>) -> PyDomoResult<Vec<Column>> {
    if schema.hasattr("__arrow_c_schema__")? {
        let arrow: PySchema = schema.extract()?;
        return Ok(columns_from_arrow(arrow.as_ref())?);
    }
    if schema.hasattr("__arrow_c_stream__")? {
        let reader: AnyRecordBatch = schema.extract()?;
        return Ok(columns_from_arrow(reader.schema()?.as_ref())?);
    }
    if schema.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "schema must be a mapping, a sequence of columns or an Arrow schema, not a string",
        )
        .into());
    }
    if let Ok(mapping) = schema.cast::<PyMapping>() {
        return mapping
            .items()?
            .iter()
            .map(|item| {
                let (name, kind): (String, Bound<'_, PyAny>) = item.extract()?;
                Ok(Column::new(name, domo_type_from_py(&kind)?))
            })
            .collect();
    }
    let items = schema.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "schema must be a mapping of name to type, a sequence of (name, type) pairs or \
             {{\"name\", \"type\"}} dicts, or an Arrow schema; got {}",
            schema
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    items
        .map(|item| {
            let item = item?;
            if let Ok(dict) = item.cast::<PyDict>() {
                let get = |key: &str| {
                    dict.get_item(key)?.ok_or_else(|| {
                        PyValueError::new_err(format!("column {dict} has no {key:?}"))
                    })
                };
                return Ok(Column::new(
                    get("name")?.extract::<String>()?,
                    domo_type_from_py(&get("type")?)?,
                ));
            }
            let (name, kind): (String, Bound<'_, PyAny>) = item.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "a column must be a (name, type) pair or a dict, not {item}"
                ))
            })?;
            Ok(Column::new(name, domo_type_from_py(&kind)?))
        })
        .collect()
}

fn permissions_from_py(values: &Bound<'_, PyAny>) -> PyDomoResult<Vec<Permission>> {
    if values.is_instance_of::<PyString>() || values.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(
            "permissions must be a list of dicts with \"id\", \"type\" and \"access_level\"",
        )
        .into());
    }
    values
        .try_iter()?
        .enumerate()
        .map(|(i, item)| {
            let item = item?;
            let dict = item
                .cast::<PyDict>()
                .map_err(|_| PyTypeError::new_err(format!("permission {i} is not a dict")))?;
            let get = |keys: &[&str]| -> PyResult<Option<Bound<'_, PyAny>>> {
                for k in keys {
                    if let Some(v) = dict.get_item(k)? {
                        return Ok(Some(v));
                    }
                }
                Ok(None)
            };
            let id = get(&["id"])?
                .ok_or_else(|| PyTypeError::new_err(format!("permission {i} has no \"id\"")))?;
            let kind: String = match get(&["type"])? {
                Some(v) => v.extract()?,
                None => "USER".into(),
            };
            let level: String = get(&["access_level", "accessLevel"])?
                .ok_or_else(|| {
                    PyTypeError::new_err(format!("permission {i} has no \"access_level\""))
                })?
                .extract()?;
            Ok(Permission::new(&kind, &id_from_py(&id)?, &level)?)
        })
        .collect()
}

fn changes_from_py(columns: &Bound<'_, PyAny>) -> PyDomoResult<Vec<ColumnChange>> {
    if columns.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("columns must be a mapping or a list of dicts").into());
    }
    if let Ok(mapping) = columns.cast::<PyMapping>() {
        return mapping
            .items()?
            .iter()
            .map(|item| {
                let (name, kind): (String, Bound<'_, PyAny>) = item.extract()?;
                Ok(ColumnChange {
                    name,
                    domo_type: domo_type_from_py(&kind)?,
                    from: None,
                })
            })
            .collect();
    }
    columns
        .try_iter()?
        .enumerate()
        .map(|(i, item)| {
            let item = item?;
            let dict = item.cast::<PyDict>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "column {i} must be a dict with \"name\" and \"type\""
                ))
            })?;
            let name: String = dict
                .get_item("name")?
                .ok_or_else(|| PyTypeError::new_err(format!("column {i} has no \"name\"")))?
                .extract()?;
            let kind = dict
                .get_item("type")?
                .ok_or_else(|| PyTypeError::new_err(format!("column {i} has no \"type\"")))?;
            let from = match dict.get_item("from")?.or(dict.get_item("id")?) {
                Some(v) if !v.is_none() => Some(v.extract::<String>()?),
                _ => None,
            };
            Ok(ColumnChange {
                name,
                domo_type: domo_type_from_py(&kind)?,
                from,
            })
        })
        .collect()
}

fn policy_filters_from_py(filters: &Bound<'_, PyAny>) -> PyDomoResult<Vec<PolicyFilter>> {
    let Value::Array(items) = json_from_py(filters)? else {
        return Err(PyTypeError::new_err(
            "filters must be a list of dicts with column, values, operator and not",
        )
        .into());
    };
    items.iter().map(policy_filter_from_json).collect()
}

fn policy_filter_from_json(item: &Value) -> PyDomoResult<PolicyFilter> {
    let Value::Object(map) = item else {
        return Err(PyTypeError::new_err(format!(
            "a filter must be a dict with column and values, not {item}"
        ))
        .into());
    };
    if let Some(key) = map
        .keys()
        .find(|k| !["column", "values", "operator", "not"].contains(&k.as_str()))
    {
        return Err(PyValueError::new_err(format!(
            "a filter has no key {key:?}; its keys are column, values, operator and not"
        ))
        .into());
    }
    let column = map
        .get("column")
        .and_then(Value::as_str)
        .ok_or_else(|| PyValueError::new_err("a filter's column must be a column name (str)"))?;
    let values = match map.get("values") {
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| match v {
                // Domo's policies hold text.
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(PyValueError::new_err(format!(
                    "the filter on column {column:?} has the value {other}; values are \
                     strings or numbers"
                ))),
            })
            .collect::<PyResult<Vec<_>>>()?,
        _ => {
            return Err(PyValueError::new_err(format!(
                "the filter on column {column:?} needs values, a list"
            ))
            .into());
        }
    };
    let operator = match map.get("operator") {
        None | Some(Value::Null) => "EQUALS",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "a filter's operator must be a str, not {other}"
            ))
            .into());
        }
    };
    let not = match map.get("not") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "a filter's not must be True or False, not {other}"
            ))
            .into());
        }
    };
    Ok(PolicyFilter::new(column, values, operator, not)?)
}
