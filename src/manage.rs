//! Conversions for dataset administration: permissions, ids, schema changes and
//! properties from Python values. Checking the values themselves is domo-core's job.

use domo_core::{ColumnChange, DomoType, Permission};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyMapping, PyString};
use serde_json::Value;

use crate::convert::{json_to_py, py_to_json};
use crate::errors::to_py;

/// JSON as a Python object, outside of a borrowed `Python` token.
pub fn py_json(value: &Value) -> PyResult<Py<PyAny>> {
    Python::attach(|py| json_to_py(py, value).map(Bound::unbind))
}

/// An id given as a string or an int (Domo user ids are numbers).
pub fn id_from_py(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(s.to_str()?.to_string());
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(value.str()?.to_str()?.to_string());
    }
    Err(PyTypeError::new_err(format!(
        "an id must be a string or an int, not {}",
        value.get_type().name()?
    )))
}

pub fn ids_from_py(values: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if values.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "give a list of ids, not a single string",
        ));
    }
    values.try_iter()?.map(|v| id_from_py(&v?)).collect()
}

/// Permissions from dicts with `id`, `type` (default `"USER"`) and `access_level` (or
/// `accessLevel`).
pub fn permissions_from_py(values: &Bound<'_, PyAny>) -> PyResult<Vec<Permission>> {
    if values.is_instance_of::<PyString>() || values.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(
            "permissions must be a list of dicts with \"id\", \"type\" and \"access_level\"",
        ));
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
            Permission::new(&kind, &id_from_py(&id)?, &level).map_err(to_py)
        })
        .collect()
}

/// The new schema: a mapping of name to type, or dicts with `name`, `type` and optional
/// `from` (or `id`), the current name of a renamed column.
pub fn changes_from_py(columns: &Bound<'_, PyAny>) -> PyResult<Vec<ColumnChange>> {
    let parse = |v: &Bound<'_, PyAny>| -> PyResult<DomoType> {
        let name: String = v.extract().map_err(|_| {
            PyTypeError::new_err(format!("a column type must be a string, not {v}"))
        })?;
        name.parse().map_err(to_py)
    };
    if columns.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "columns must be a mapping or a list of dicts",
        ));
    }
    if let Ok(mapping) = columns.cast::<PyMapping>() {
        return mapping
            .items()?
            .iter()
            .map(|item| {
                let (name, kind): (String, Bound<'_, PyAny>) = item.extract()?;
                Ok(ColumnChange {
                    name,
                    domo_type: parse(&kind)?,
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
                domo_type: parse(&kind)?,
                from,
            })
        })
        .collect()
}

/// A mapping of property name to JSON-able value.
pub fn properties_from_py(
    properties: &Bound<'_, PyAny>,
) -> PyResult<serde_json::Map<String, Value>> {
    let mapping = properties
        .cast::<PyMapping>()
        .map_err(|_| PyTypeError::new_err("properties must be a mapping of name to value"))?;
    let mut out = serde_json::Map::new();
    for item in mapping.items()?.iter() {
        let (k, v): (String, Bound<'_, PyAny>) = item.extract()?;
        out.insert(k, any_to_json(&v)?);
    }
    Ok(out)
}

/// Plain Python data (dicts, lists, scalars) as JSON.
fn any_to_json(v: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(d) = v.cast::<PyDict>() {
        let mut m = serde_json::Map::new();
        for (k, v) in d.iter() {
            m.insert(k.extract::<String>()?, any_to_json(&v)?);
        }
        return Ok(Value::Object(m));
    }
    if !v.is_instance_of::<PyString>()
        && (v.is_instance_of::<pyo3::types::PyList>() || v.is_instance_of::<pyo3::types::PyTuple>())
    {
        return v
            .try_iter()?
            .map(|x| any_to_json(&x?))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    py_to_json(v)
}
