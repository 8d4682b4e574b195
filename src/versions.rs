//! Conversions for data versions, partitions, indexes and streams: Python values to the
//! JSON domo-core takes, listings to lists of dicts or Arrow tables.

use std::time::Duration;

use domo_core::versions::PartitionSearch;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use serde_json::Value;

use crate::convert::{json_to_py, py_to_json};
use crate::errors::to_py;

/// Any JSON-shaped Python value (dicts, lists, tuples, scalars, dates) as JSON.
pub fn py_json(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in dict.iter() {
            let key: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err(format!("dict keys must be strings, not {k}")))?;
            map.insert(key, py_json(&v)?);
        }
        return Ok(Value::Object(map));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|v| py_json(&v?))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    py_to_json(value)
}

pub fn opt_json(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Value>> {
    value.filter(|v| !v.is_none()).map(py_json).transpose()
}

/// An id given as an int or a string, as text.
pub fn id_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(s.to_str()?.to_string());
    }
    if let Ok(i) = value.extract::<u64>() {
        return Ok(i.to_string());
    }
    Err(PyTypeError::new_err(format!(
        "an id must be an int or a str, not {value}"
    )))
}

/// Data-version ids: None (all eligible) or a sequence of ints / strings.
pub fn data_ids(value: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Value>> {
    match opt_json(value)? {
        None => Ok(vec![]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(PyTypeError::new_err(
            "data_ids must be a sequence of data version ids",
        )),
    }
}

pub fn search(
    sort: String,
    descending: bool,
    min: Option<&Bound<'_, PyAny>>,
    max: Option<&Bound<'_, PyAny>>,
) -> PyResult<PartitionSearch> {
    let s = PartitionSearch {
        sort,
        descending,
        min: opt_json(min)?,
        max: opt_json(max)?,
    };
    s.pagination_fields().map_err(to_py)?;
    Ok(s)
}

pub fn timeout(seconds: f64) -> PyResult<Duration> {
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(PyValueError::new_err(format!(
            "timeout must be a positive number of seconds, not {seconds}"
        )));
    }
    Duration::try_from_secs_f64(seconds)
        .map_err(|e| PyValueError::new_err(format!("timeout {seconds} is not usable: {e}")))
}

pub fn list_to_py<'py>(py: Python<'py>, items: &[Value]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for item in items {
        list.append(json_to_py(py, item)?)?;
    }
    Ok(list)
}

pub fn list_to_owned(items: &[Value]) -> PyResult<Py<PyList>> {
    Python::attach(|py| list_to_py(py, items).map(Bound::unbind))
}

pub fn value_to_owned(value: &Value) -> PyResult<Py<PyAny>> {
    Python::attach(|py| json_to_py(py, value).map(Bound::unbind))
}
