//! domo-core results as Python objects: JSON answers as plain dicts, lists and scalars;
//! schemas and upload summaries as the dicts the stubs describe.

use domo_core::Column;
use domo_core::upload::UploadSummary;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

/// A JSON answer, handed to Python as dicts, lists and scalars.
pub struct Json(pub Value);

impl From<Value> for Json {
    fn from(value: Value) -> Self {
        Json(value)
    }
}

/// A listing (data versions, partitions, history...), a list of dicts in Python.
impl From<Vec<Value>> for Json {
    fn from(items: Vec<Value>) -> Self {
        Json(Value::Array(items))
    }
}

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        json_to_py(py, &self.0)
    }
}

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

/// A schema, as a list of `{"name", "type"}` dicts.
pub struct Columns(pub Vec<Column>);

impl From<Vec<Column>> for Columns {
    fn from(columns: Vec<Column>) -> Self {
        Columns(columns)
    }
}

impl<'py> IntoPyObject<'py> for Columns {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let list = PyList::empty(py);
        for c in self.0 {
            let d = PyDict::new(py);
            d.set_item("name", c.name)?;
            d.set_item("type", c.domo_type.name())?;
            list.append(d)?;
        }
        Ok(list)
    }
}

/// What an upload did, with the dataset it went into.
pub struct UploadResult {
    pub dataset_id: String,
    pub summary: UploadSummary,
}

impl<'py> IntoPyObject<'py> for UploadResult {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let s = &self.summary;
        let d = PyDict::new(py);
        d.set_item("dataset_id", self.dataset_id)?;
        d.set_item("upload_id", s.upload_id)?;
        d.set_item("mode", s.mode.name())?;
        d.set_item("parts", s.parts)?;
        d.set_item("rows", s.rows)?;
        d.set_item("bytes_sent", s.bytes_sent)?;
        Ok(d)
    }
}
