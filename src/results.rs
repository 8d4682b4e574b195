//! Results handed to Python: `Table` (Arrow data in Rust memory, exported through the
//! Arrow PyCapsule interface) and `BatchStream` (batches as they arrive).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use domo_core::codec::listings::{RecordColumn, records_to_batch};
use domo_core::codec::query::DecodedRows;
use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyType};
use pyo3_arrow::error::PyArrowError;
use pyo3_arrow::ffi::to_schema_pycapsule;
use pyo3_arrow::{PyRecordBatchReader, PyTable};

use crate::display;
use crate::errors::PyDomoResult;
use crate::runtime::{run, run_async, runtime};

#[doc = stub_doc!(Table)]
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
    pub fn from_records(
        records: &[serde_json::Value],
        columns: &[RecordColumn],
    ) -> domo_core::Result<Self> {
        let batch = records_to_batch(records, columns)?;
        Ok(PyDomoTable::new(batch.schema(), vec![batch]))
    }

    fn as_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTable>> {
        let table = PyTable::try_new(self.batches.clone(), self.schema.clone())?;
        Bound::new(py, table)
    }
}

impl From<DecodedRows> for PyDomoTable {
    fn from(decoded: DecodedRows) -> Self {
        PyDomoTable::new(decoded.schema, decoded.batches)
    }
}

#[pymethods]
impl PyDomoTable {
    #[doc = stub_doc!(Table, num_rows)]
    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    #[doc = stub_doc!(Table, num_columns)]
    #[getter]
    fn num_columns(&self) -> usize {
        self.schema.fields().len()
    }

    #[doc = stub_doc!(Table, column_names)]
    #[getter]
    fn column_names(&self) -> Vec<String> {
        display::column_names(&self.schema)
    }

    #[doc = stub_doc!(Table, __len__)]
    fn __len__(&self) -> usize {
        self.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "Table({}; {})",
            display::count(self.num_rows(), "row"),
            display::columns_text(&self.schema)
        )
    }

    #[doc = stub_doc!(Table, _repr_html_)]
    fn _repr_html_(&self) -> String {
        display::table_html("Table", &self.schema, &self.batches)
    }

    #[doc = stub_doc!(Table, __arrow_c_schema__)]
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        Ok(to_schema_pycapsule(
            py,
            schema_for_consumer(py, &self.schema).as_ref(),
        )?)
    }

    #[doc = stub_doc!(Table, __arrow_c_stream__)]
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let requested = stream_request(py, &self.schema, requested_schema)?;
        self.as_arrow(py)?
            .call_method1("__arrow_c_stream__", (requested,))
    }

    #[doc = stub_doc!(Table, to_pyarrow)]
    fn to_pyarrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (schema, batches) =
            with_plain_strings(&self.schema, &self.batches).map_err(PyArrowError::from)?;
        let table = PyTable::try_new(batches, schema)?;
        // Read as a stream: `pyarrow.table()` first asks pandas whether its argument is a
        // DataFrame, which imports pandas into a process that has not imported it.
        py.import(intern!(py, "pyarrow"))?
            .getattr(intern!(py, "RecordBatchReader"))?
            .call_method1(intern!(py, "from_stream"), (table,))?
            .call_method0(intern!(py, "read_all"))
    }

    #[doc = stub_doc!(Table, to_polars)]
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py().import("polars")?.call_method1("DataFrame", (slf,))
    }

    #[doc = stub_doc!(Table, to_pandas)]
    #[pyo3(signature = (*, decimals="arrow", **kwargs))]
    fn to_pandas<'py>(
        slf: &Bound<'py, Self>,
        decimals: &str,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let convert = py.import("domo_datasets._pandas")?.getattr("to_pandas")?;
        convert.call((slf.get().to_pyarrow(py)?, decimals), kwargs)
    }
}

/// `schema` with its string views as plain `Utf8`, pyarrow's default string type.
fn plain_strings(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8View => f.as_ref().clone().with_data_type(DataType::Utf8),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// The batches with string views cast to plain `Utf8`, which pandas and pyarrow's own
/// tables expect.
fn with_plain_strings(
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
    let schema = plain_strings(schema);
    let batches = batches
        .iter()
        .map(|batch| {
            let columns = batch
                .columns()
                .iter()
                .map(|c| match c.data_type() {
                    DataType::Utf8View => arrow_cast::cast(c, &DataType::Utf8),
                    _ => Ok(c.clone()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            RecordBatch::try_new(schema.clone(), columns)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((schema, batches))
}

/// The schema the consumer calling now is handed: `schema` itself when polars asks,
/// which holds strings as views and so copies nothing; else `schema` with plain strings,
/// because pyarrow's kernels (filter, take, sort, compare, join, CSV) and pandas do not
/// take views.
fn schema_for_consumer(py: Python<'_>, schema: &SchemaRef) -> SchemaRef {
    if called_from_polars(py) {
        schema.clone()
    } else {
        plain_strings(schema)
    }
}

/// The schema a stream is cast to: the one the consumer asked for, else
/// [`schema_for_consumer`]'s where it differs from `schema`; `None` casts nothing.
fn stream_request<'py>(
    py: Python<'py>,
    schema: &SchemaRef,
    requested: Option<Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    if requested.is_some() {
        return Ok(requested);
    }
    let handed = schema_for_consumer(py, schema);
    if &handed == schema {
        return Ok(None);
    }
    Ok(Some(to_schema_pycapsule(py, handed.as_ref())?.into_any()))
}

/// Whether the Python code calling into the extension is polars' own: its constructors
/// (`polars.DataFrame`, `polars.from_arrow`) import a PyCapsule stream from their module
/// code, where pyarrow's, written in Cython, leave the caller's frame on top.
fn called_from_polars(py: Python<'_>) -> bool {
    let module = py
        .import("sys")
        .and_then(|sys| sys.call_method1("_getframe", (0,)))
        .and_then(|frame| frame.getattr("f_globals"))
        .and_then(|globals| globals.get_item("__name__"))
        .and_then(|name| name.extract::<String>());
    module.is_ok_and(|name| name == "polars" || name.starts_with("polars."))
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

#[doc = stub_doc!(BatchStream)]
#[pyclass(module = "domo_datasets._domo", name = "BatchStream", frozen)]
pub struct PyBatchStream {
    schema: SchemaRef,
    // A tokio mutex: `__anext__` holds it across an await.
    inner: Arc<tokio::sync::Mutex<Option<Batches>>>,
    closed: AtomicBool,
}

impl PyBatchStream {
    pub fn new(stream: Batches) -> Self {
        PyBatchStream {
            schema: stream.schema(),
            inner: Arc::new(tokio::sync::Mutex::new(Some(stream))),
            closed: AtomicBool::new(false),
        }
    }

    fn table(&self, batch: RecordBatch) -> PyDomoTable {
        PyDomoTable::new(self.schema.clone(), vec![batch])
    }

    /// "closed" once `close()` was called, "consumed" once read to the end or handed to
    /// a consumer, "open" before (and while a read is under way).
    fn state(&self) -> &'static str {
        if self.closed.load(Ordering::Relaxed) {
            return "closed";
        }
        match self.inner.try_lock() {
            Ok(guard) if guard.is_none() => "consumed",
            _ => "open",
        }
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

impl From<Batches> for PyBatchStream {
    fn from(stream: Batches) -> Self {
        PyBatchStream::new(stream)
    }
}

#[pymethods]
impl PyBatchStream {
    #[doc = stub_doc!(BatchStream, column_names)]
    #[getter]
    fn column_names(&self) -> Vec<String> {
        display::column_names(&self.schema)
    }

    fn __repr__(&self) -> String {
        format!(
            "BatchStream({}; {})",
            self.state(),
            display::columns_text(&self.schema)
        )
    }

    #[doc = stub_doc!(BatchStream, _repr_html_)]
    fn _repr_html_(&self) -> String {
        display::stream_html("BatchStream", self.state(), &self.schema)
    }

    #[doc = stub_doc!(BatchStream, __iter__)]
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[doc = stub_doc!(BatchStream, __next__)]
    fn __next__(&self, py: Python<'_>) -> PyDomoResult<PyDomoTable> {
        let inner = self.inner.clone();
        let next = run(py, next_batch(inner))?;
        Ok(next
            .map(|b| self.table(b))
            .ok_or_else(|| PyStopIteration::new_err(()))?)
    }

    #[doc = stub_doc!(BatchStream, __aiter__)]
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[doc = stub_doc!(BatchStream, __anext__)]
    fn __anext__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.call_method0("_anext")
    }

    async fn _anext(&self) -> PyDomoResult<PyDomoTable> {
        let inner = self.inner.clone();
        let next = run_async(next_batch(inner)).await?;
        Ok(next
            .map(|b| self.table(b))
            .ok_or_else(|| PyStopAsyncIteration::new_err(()))?)
    }

    #[doc = stub_doc!(BatchStream, __arrow_c_schema__)]
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        Ok(to_schema_pycapsule(
            py,
            schema_for_consumer(py, &self.schema).as_ref(),
        )?)
    }

    #[doc = stub_doc!(BatchStream, __arrow_c_stream__)]
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
        let requested = stream_request(py, &self.schema, requested_schema)?;
        let reader = Bound::new(py, PyRecordBatchReader::new(Box::new(reader)))?;
        reader.call_method1("__arrow_c_stream__", (requested,))
    }

    #[doc = stub_doc!(BatchStream, read_all)]
    fn read_all(&self, py: Python<'_>) -> PyDomoResult<PyDomoTable> {
        let mut stream = self.take()?;
        let batches = run(py, async move {
            let mut batches = Vec::new();
            while let Some(batch) = stream.next().await {
                batches.push(batch?);
            }
            Ok::<_, domo_core::Error>(batches)
        })?;
        Ok(PyDomoTable::new(self.schema.clone(), batches))
    }

    #[doc = stub_doc!(BatchStream, close)]
    fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
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

    #[doc = stub_doc!(BatchStream, __enter__)]
    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[doc = stub_doc!(BatchStream, __exit__)]
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
