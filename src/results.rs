//! Results handed to Python: `Table` (Arrow data in Rust memory, exported through the
//! Arrow PyCapsule interface) and `BatchStream` (batches as they arrive).

use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::{ArrowError, SchemaRef};
use domo_core::codec::records::{RecordColumn, records_to_batch};
use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyType};
use pyo3_arrow::ffi::to_schema_pycapsule;
use pyo3_arrow::{PyRecordBatchReader, PyTable};

use crate::runtime::{block_on, runtime};

/// An Arrow table held in Rust memory.
#[pyclass(module = "domo_datasets._domo", name = "Table", frozen)]
pub struct PyDomoTable {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl PyDomoTable {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        PyDomoTable { schema, batches }
    }

    /// A listing (data versions, history, access list...) as a table, one column per spec.
    pub fn from_records(records: &[serde_json::Value], columns: &[RecordColumn]) -> PyResult<Self> {
        let batch = records_to_batch(records, columns).map_err(crate::errors::to_py)?;
        Ok(PyDomoTable::new(batch.schema(), vec![batch]))
    }

    fn as_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTable>> {
        let table = PyTable::try_new(self.batches.clone(), self.schema.clone())?;
        Bound::new(py, table)
    }
}

#[pymethods]
impl PyDomoTable {
    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    #[getter]
    fn num_columns(&self) -> usize {
        self.schema.fields().len()
    }

    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }

    fn __repr__(&self) -> String {
        let columns: Vec<String> = self
            .schema
            .fields()
            .iter()
            .map(|f| format!("{}: {}", f.name(), f.data_type()))
            .collect();
        format!("Table({} rows; {})", self.num_rows(), columns.join(", "))
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        Ok(to_schema_pycapsule(py, self.schema.as_ref())?)
    }

    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.as_arrow(py)?
            .call_method1("__arrow_c_stream__", (requested_schema,))
    }

    fn to_pyarrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py().import("pyarrow")?.call_method1("table", (slf,))
    }

    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py().import("polars")?.call_method1("DataFrame", (slf,))
    }

    #[pyo3(signature = (*, decimals="arrow", **kwargs))]
    fn to_pandas<'py>(
        slf: &Bound<'py, Self>,
        decimals: &str,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let convert = py.import("domo_datasets._pandas")?.getattr("to_pandas")?;
        convert.call((Self::to_pyarrow(slf)?, decimals), kwargs)
    }
}

type Batches = domo_core::BatchStream;

/// The next batch; at the end the stream is dropped, which frees its connection.
async fn next_batch(
    inner: Arc<tokio::sync::Mutex<Option<Batches>>>,
) -> domo_core::Result<Option<RecordBatch>> {
    let mut guard = inner.lock().await;
    let Some(stream) = guard.as_mut() else {
        return Ok(None);
    };
    let next = stream.next().await.transpose();
    if matches!(next, Ok(None)) {
        *guard = None;
    }
    next
}

/// Record batches arriving from an export or a paged query.
#[pyclass(module = "domo_datasets._domo", name = "BatchStream", frozen)]
pub struct PyBatchStream {
    schema: SchemaRef,
    // A tokio mutex: `__anext__` holds it across an await.
    inner: Arc<tokio::sync::Mutex<Option<Batches>>>,
}

impl PyBatchStream {
    pub fn new(stream: Batches) -> Self {
        PyBatchStream {
            schema: stream.schema(),
            inner: Arc::new(tokio::sync::Mutex::new(Some(stream))),
        }
    }

    fn table(&self, batch: RecordBatch) -> PyDomoTable {
        PyDomoTable::new(self.schema.clone(), vec![batch])
    }

    /// Takes the stream out for a consumer that reads it to the end.
    fn take(&self) -> PyResult<Batches> {
        self.inner
            .try_lock()
            .ok()
            .and_then(|mut guard| guard.take())
            .ok_or_else(|| PyValueError::new_err("this export stream has been consumed or closed"))
    }
}

#[pymethods]
impl PyBatchStream {
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn __repr__(&self) -> String {
        format!("BatchStream({})", self.column_names().join(", "))
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<PyDomoTable> {
        let inner = self.inner.clone();
        let next = block_on(py, next_batch(inner))?;
        next.map(|b| self.table(b))
            .ok_or_else(|| PyStopIteration::new_err(()))
    }

    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Async iteration hands out the coroutine of `_anext`: dunder methods cannot be
    /// `async fn` themselves.
    fn __anext__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.call_method0("_anext")
    }

    async fn _anext(&self) -> PyResult<PyDomoTable> {
        let inner = self.inner.clone();
        let next = crate::runtime::spawn(next_batch(inner)).await?;
        next.map(|b| self.table(b))
            .ok_or_else(|| PyStopAsyncIteration::new_err(()))
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        Ok(to_schema_pycapsule(py, self.schema.as_ref())?)
    }

    /// Hands the remaining batches to an Arrow consumer, which pulls them as it reads.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut stream = self.take()?;
        let schema = self.schema.clone();
        // The consumer pulls from its own thread, outside the runtime: block there.
        let batches = std::iter::from_fn(move || {
            stream
                .blocking_next()
                .map(|b| b.map_err(|e| ArrowError::ExternalError(Box::new(e))))
        });
        let reader = RecordBatchIterator::new(batches, schema);
        let reader = Bound::new(py, PyRecordBatchReader::new(Box::new(reader)))?;
        reader.call_method1("__arrow_c_stream__", (requested_schema,))
    }

    fn read_all(&self, py: Python<'_>) -> PyResult<PyDomoTable> {
        let mut stream = self.take()?;
        let batches = block_on(py, async move {
            let mut batches = Vec::new();
            while let Some(batch) = stream.next().await {
                batches.push(batch?);
            }
            Ok(batches)
        })?;
        Ok(PyDomoTable::new(self.schema.clone(), batches))
    }

    fn close(&self) {
        let inner = self.inner.clone();
        // Never wait here: a reader may hold the lock while blocked on the network.
        runtime().spawn(async move {
            if let Some(mut stream) = inner.lock().await.take() {
                stream.close();
            }
        });
        if let Ok(mut guard) = self.inner.try_lock()
            && let Some(mut stream) = guard.take()
        {
            stream.close();
        }
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (exc_type=None, exc=None, tb=None))]
    fn __exit__(
        &self,
        exc_type: Option<Bound<'_, PyType>>,
        exc: Option<Bound<'_, PyAny>>,
        tb: Option<Bound<'_, PyAny>>,
    ) {
        // Closing is the same whether or not the block raised.
        let _ = (exc_type, exc, tb);
        self.close();
    }
}
