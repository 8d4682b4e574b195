//! An upload's data from Python: Arrow sources, iterators of them, CSV paths.

use std::path::PathBuf;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};
use domo_core::UploadSource;
use domo_core::schema_check::cast_batch;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyString};
use pyo3_arrow::input::AnyRecordBatch;

use crate::errors::PyDomoError;

/// The data of an upload, and its number of rows when the object says it (a table, a
/// record batch or a DataFrame in memory), for progress totals.
pub struct UploadData {
    pub source: UploadSource,
    pub rows_total: Option<u64>,
}

impl<'a, 'py> FromPyObject<'a, 'py> for UploadData {
    type Error = PyDomoError;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> Result<Self, Self::Error> {
        Ok(UploadData {
            rows_total: rows_of(&obj),
            source: source_from_py(&obj)?,
        })
    }
}

/// The rows an in-memory object holds: pyarrow's `num_rows`, polars' `height`, pandas'
/// `len()`. Streams, iterators and files have no count before they are read.
fn rows_of(data: &Bound<'_, PyAny>) -> Option<u64> {
    if data.is_instance_of::<PyString>() || data.hasattr("__next__").unwrap_or(true) {
        return None;
    }
    let attribute = |name: &str| data.getattr(name).ok()?.extract::<u64>().ok();
    let module = data
        .get_type()
        .module()
        .map(|m| m.to_string())
        .unwrap_or_default();
    match module.split('.').next() {
        Some("pyarrow") => attribute("num_rows"),
        Some("polars") => attribute("height"),
        Some("pandas") => data.len().ok().map(|n| n as u64),
        _ => None,
    }
}

/// Upload data from anything `domo_datasets._sources.upload_source` accepts, which hands
/// back a CSV path, an Arrow source or an iterator of those (or says what is accepted).
fn source_from_py(data: &Bound<'_, PyAny>) -> PyResult<UploadSource> {
    let data = data
        .py()
        .import("domo_datasets._sources")?
        .call_method1("upload_source", (data,))?;
    if let Ok(path) = data.cast::<PyString>() {
        return Ok(UploadSource::CsvFile(PathBuf::from(path.to_str()?)));
    }
    if data.hasattr("__arrow_c_stream__")? || data.hasattr("__arrow_c_array__")? {
        let batches: AnyRecordBatch = data.extract()?;
        return Ok(UploadSource::Batches(batches.into_reader()?));
    }
    Ok(UploadSource::Batches(Box::new(PyBatchIter::new(
        data.try_iter()?,
    )?)))
}

type Reader = Box<dyn RecordBatchReader + Send>;

/// Batches from a Python iterator of Arrow objects (tables, batches, DataFrames), read one
/// item at a time as the upload needs them: the one place an upload reads Python after
/// the call, because the data may be larger than memory.
struct PyBatchIter {
    items: Py<PyIterator>,
    current: Option<Reader>,
    schema: SchemaRef,
    index: usize,
}

fn item_reader(item: &Bound<'_, PyAny>, index: usize) -> PyResult<Reader> {
    match source_from_py(item) {
        Ok(UploadSource::Batches(reader)) if !item.hasattr("__next__")? => Ok(reader),
        _ => Err(PyTypeError::new_err(format!(
            "item {index} of the upload iterator is a {}, not an Arrow table, record batch or DataFrame",
            item.get_type().name()?
        ))),
    }
}

impl PyBatchIter {
    /// Reads the first item now, for the schema and so that a bad iterator fails early.
    fn new(items: Bound<'_, PyIterator>) -> PyResult<Self> {
        let first = items
            .clone()
            .next()
            .ok_or_else(|| PyValueError::new_err("the upload iterator is empty"))??;
        let reader = item_reader(&first, 0)?;
        Ok(PyBatchIter {
            schema: reader.schema(),
            current: Some(reader),
            items: items.unbind(),
            index: 0,
        })
    }

    fn advance(&mut self) -> Result<bool, ArrowError> {
        Python::attach(|py| {
            let next = self.items.bind(py).clone().next();
            let Some(item) = next else {
                return Ok(false);
            };
            self.index += 1;
            let reader = item.and_then(|item| item_reader(&item, self.index))?;
            self.current = Some(reader);
            Ok(true)
        })
        .map_err(|e: PyErr| ArrowError::ExternalError(Box::new(e)))
    }
}

impl Iterator for PyBatchIter {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(batch) = self.current.as_mut().and_then(Iterator::next) {
                let index = self.index;
                return Some(batch.and_then(|b| {
                    cast_batch(b, &self.schema).map_err(|e| {
                        ArrowError::SchemaError(format!("item {index} of the upload iterator: {e}"))
                    })
                }));
            }
            self.current = None;
            match self.advance() {
                Ok(true) => continue,
                Ok(false) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl RecordBatchReader for PyBatchIter {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}
