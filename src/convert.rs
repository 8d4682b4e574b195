//! Plain conversions between Python objects and domo-core values.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

/// JSON as plain Python dicts, lists and scalars.
pub fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A Python value as JSON for a row to append: dates and datetimes as Domo writes them
/// (datetimes in UTC), decimals as numbers.
pub fn py_to_json(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    use pyo3::exceptions::PyTypeError;
    use pyo3::types::{PyBool, PyDate, PyDateTime, PyFloat, PyInt, PyString};
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

/// Rows given as a sequence of dicts, as JSON objects.
pub fn rows_to_json(rows: &Bound<'_, PyAny>) -> PyResult<Vec<serde_json::Map<String, Value>>> {
    use pyo3::exceptions::PyTypeError;
    if rows.is_instance_of::<pyo3::types::PyString>() || rows.is_instance_of::<PyDict>() {
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
                    let value = py_to_json(&v).map_err(|e| {
                        PyTypeError::new_err(format!("row {i}, column {key:?}: {e}"))
                    })?;
                    Ok((key, value))
                })
                .collect()
        })
        .collect()
}
