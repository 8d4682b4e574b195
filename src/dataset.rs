//! `Dataset`: metadata, schema, query, export and upload, each with an `_async` twin.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};
use domo_core::access::PERMISSION_COLUMNS;
use domo_core::properties::{CARD_COLUMNS, HISTORY_COLUMNS};
use domo_core::schema_check::cast_batch;
use domo_core::types::columns_from_arrow;
use domo_core::upload::UploadSummary;
use domo_core::{
    Column, DomoType, PartitionParam, UploadMode, UploadOptions, UploadProgress, UploadSource,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList, PyMapping, PyString};
use pyo3_arrow::PySchema;
use pyo3_arrow::input::AnyRecordBatch;

use crate::client::PyClient;
use crate::convert::{json_to_py, rows_to_json};
use crate::errors::to_py;
use crate::manage::{
    changes_from_py, id_from_py, ids_from_py, permissions_from_py, properties_from_py, py_json,
};
use crate::results::{PyBatchStream, PyDomoTable};
use crate::runtime::{block_on, spawn};
use crate::stream::PyStream;
use crate::versions::{self, list_to_owned, list_to_py};
use domo_core::versions::{DATA_VERSION_COLUMNS, DEFAULT_MAX_ITEMS, PARTITION_COLUMNS};

/// A Domo dataset, addressed by id.
#[pyclass(module = "domo_datasets._domo", name = "Dataset", frozen)]
pub struct PyDataset {
    pub(crate) inner: domo_core::Dataset,
}

impl PyDataset {
    pub fn new(inner: domo_core::Dataset) -> Self {
        PyDataset { inner }
    }
}

fn domo_type(value: &Bound<'_, PyAny>) -> PyResult<DomoType> {
    let name: String = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "a column type must be a string such as \"LONG\", not {value}"
        ))
    })?;
    name.parse().map_err(to_py)
}

/// Columns from a mapping, a sequence of pairs or column dicts, or an Arrow schema source.
pub fn columns_from_py(schema: &Bound<'_, PyAny>) -> PyResult<Vec<Column>> {
    if schema.hasattr("__arrow_c_schema__")? {
        let arrow: PySchema = schema.extract()?;
        return columns_from_arrow(arrow.as_ref()).map_err(to_py);
    }
    if schema.hasattr("__arrow_c_stream__")? {
        let reader: AnyRecordBatch = schema.extract()?;
        return columns_from_arrow(reader.schema()?.as_ref()).map_err(to_py);
    }
    if schema.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "schema must be a mapping, a sequence of columns or an Arrow schema, not a string",
        ));
    }
    if let Ok(mapping) = schema.cast::<PyMapping>() {
        return mapping
            .items()?
            .iter()
            .map(|item| {
                let (name, kind): (String, Bound<'_, PyAny>) = item.extract()?;
                Ok(Column::new(name, domo_type(&kind)?))
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
                    domo_type(&get("type")?)?,
                ));
            }
            let (name, kind): (String, Bound<'_, PyAny>) = item.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "a column must be a (name, type) pair or a dict, not {item}"
                ))
            })?;
            Ok(Column::new(name, domo_type(&kind)?))
        })
        .collect()
}

/// Upload data from an Arrow source or a CSV path.
fn source_from_py(data: &Bound<'_, PyAny>) -> PyResult<UploadSource> {
    let py = data.py();
    if data.is_instance_of::<PyString>() || data.hasattr("__fspath__")? {
        let path: PathBuf = py
            .import("os")?
            .call_method1("fspath", (data,))?
            .extract()?;
        return Ok(UploadSource::CsvFile(path));
    }
    let module = data
        .get_type()
        .module()
        .map(|m| m.to_string())
        .unwrap_or_default();
    if module.starts_with("pandas") {
        if py.import("pyarrow").is_err() {
            return Err(PyTypeError::new_err(
                "uploading a pandas DataFrame needs pyarrow installed",
            ));
        }
        let table = py
            .import("domo_datasets._pandas")?
            .call_method1("to_arrow", (data,))?;
        return source_from_py(&table);
    }
    if data.hasattr("__arrow_c_stream__")? || data.hasattr("__arrow_c_array__")? {
        let batches: AnyRecordBatch = data.extract()?;
        return Ok(UploadSource::Batches(batches.into_reader()?));
    }
    if let Ok(items) = data.try_iter() {
        return Ok(UploadSource::Batches(Box::new(PyBatchIter::new(items)?)));
    }
    Err(PyTypeError::new_err(format!(
        "cannot upload a {}: give an Arrow table, record batch or stream (pyarrow, polars, \
         pandas), an iterator of those, or the path of a CSV file",
        data.get_type().name()?
    )))
}

type Reader = Box<dyn RecordBatchReader + Send>;

/// Batches from a Python iterator of Arrow objects (tables, batches, DataFrames), read one
/// item at a time as the upload needs them.
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

use pyo3::types::IntoPyDict;

/// A progress reporter: `True` for a tqdm bar, a callable for events, or nothing.
fn progress_from_py(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<domo_core::ProgressFn>> {
    let Some(progress) = progress.filter(|p| !p.is_none()) else {
        return Ok(None);
    };
    if let Ok(flag) = progress.cast::<pyo3::types::PyBool>() {
        if !flag.is_true() {
            return Ok(None);
        }
        let Ok(tqdm) = py.import("tqdm.auto") else {
            py.import("warnings")?.call_method1(
                "warn",
                ("progress=True needs tqdm (pip install tqdm); uploading without a progress bar",),
            )?;
            return Ok(None);
        };
        let kwargs = [("unit", "row"), ("desc", "upload")].into_py_dict(py)?;
        kwargs.set_item("unit_scale", true)?;
        let bar = tqdm.getattr("tqdm")?.call((), Some(&kwargs))?.unbind();
        let reported = std::sync::atomic::AtomicU64::new(0);
        return Ok(Some(Arc::new(move |p: UploadProgress| {
            Python::attach(|py| {
                let bar = bar.bind(py);
                let before = reported.swap(p.rows_sent, std::sync::atomic::Ordering::Relaxed);
                let outcome = bar
                    .call_method1("update", (p.rows_sent - before,))
                    .and_then(|_| {
                        if p.done {
                            bar.call_method0("close").map(drop)
                        } else {
                            Ok(())
                        }
                    });
                if let Err(e) = outcome {
                    e.write_unraisable(py, Some(bar));
                }
            })
        })));
    }
    if !progress.is_callable() {
        return Err(PyTypeError::new_err(
            "progress must be True, False, None or a callable",
        ));
    }
    let callback = progress.clone().unbind();
    Ok(Some(Arc::new(move |p: UploadProgress| {
        Python::attach(|py| {
            let event = PyDict::new(py);
            let filled = event
                .set_item("parts_sent", p.parts_sent)
                .and_then(|()| event.set_item("rows_sent", p.rows_sent))
                .and_then(|()| event.set_item("bytes_sent", p.bytes_sent))
                .and_then(|()| event.set_item("done", p.done));
            if let Err(e) = filled.and_then(|()| callback.call1(py, (event,)).map(drop)) {
                e.write_unraisable(py, Some(callback.bind(py)));
            }
        })
    })))
}

struct UploadRequest {
    source: UploadSource,
    options: UploadOptions,
    progress: Option<domo_core::ProgressFn>,
}

#[allow(clippy::too_many_arguments)]
fn upload_request(
    data: &Bound<'_, PyAny>,
    mode: &str,
    partition: Option<String>,
    partition_param: &str,
    part_size: usize,
    concurrency: usize,
    index: bool,
    match_by_name: bool,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<UploadRequest> {
    let options = UploadOptions {
        mode: UploadMode::parse(mode).map_err(to_py)?,
        partition,
        partition_param: PartitionParam::parse(partition_param).map_err(to_py)?,
        part_size,
        concurrency,
        index,
        gzip: true,
        match_by_name,
    };
    options.validate().map_err(to_py)?;
    Ok(UploadRequest {
        source: source_from_py(data)?,
        options,
        progress: progress_from_py(data.py(), progress)?,
    })
}

fn summary_to_py<'py>(
    py: Python<'py>,
    dataset_id: &str,
    s: &UploadSummary,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("dataset_id", dataset_id)?;
    d.set_item("upload_id", s.upload_id)?;
    d.set_item("mode", s.mode.name())?;
    d.set_item("parts", s.parts)?;
    d.set_item("rows", s.rows)?;
    d.set_item("bytes_sent", s.bytes_sent)?;
    Ok(d)
}

fn columns_to_py<'py>(py: Python<'py>, columns: &[Column]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for c in columns {
        let d = PyDict::new(py);
        d.set_item("name", &c.name)?;
        d.set_item("type", c.domo_type.name())?;
        list.append(d)?;
    }
    Ok(list)
}

fn table(decoded: domo_core::codec::json_rows::DecodedRows) -> PyDomoTable {
    PyDomoTable::new(decoded.schema, decoded.batches)
}

#[pymethods]
impl PyDataset {
    #[getter]
    fn id(&self) -> &str {
        self.inner.id()
    }

    #[getter]
    fn client(&self) -> PyClient {
        PyClient {
            inner: self.inner.client().clone(),
        }
    }

    fn __repr__(&self) -> String {
        format!("Dataset({:?})", self.inner.id())
    }

    // ---- data versions and partitions (issue 6) ----

    fn data_versions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let ds = self.inner.clone();
        let items = block_on(py, async move { ds.data_versions().await })?;
        list_to_py(py, &items)
    }

    async fn data_versions_async(&self) -> PyResult<Py<PyList>> {
        let ds = self.inner.clone();
        let items = spawn(async move { ds.data_versions().await }).await?;
        list_to_owned(&items)
    }

    fn data_versions_table(&self, py: Python<'_>) -> PyResult<PyDomoTable> {
        let ds = self.inner.clone();
        let items = block_on(py, async move { ds.data_versions().await })?;
        PyDomoTable::from_records(&items, DATA_VERSION_COLUMNS)
    }

    async fn data_versions_table_async(&self) -> PyResult<PyDomoTable> {
        let ds = self.inner.clone();
        let items = spawn(async move { ds.data_versions().await }).await?;
        PyDomoTable::from_records(&items, DATA_VERSION_COLUMNS)
    }

    fn partitions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let ds = self.inner.clone();
        let items = block_on(py, async move { ds.partitions().await })?;
        list_to_py(py, &items)
    }

    async fn partitions_async(&self) -> PyResult<Py<PyList>> {
        let ds = self.inner.clone();
        let items = spawn(async move { ds.partitions().await }).await?;
        list_to_owned(&items)
    }

    #[pyo3(
        signature = (*, sort="datecompleted".to_string(), descending=true, min=None, max=None, limit=100, offset=0),
        text_signature = "(self, *, sort='datecompleted', descending=True, min=None, max=None, limit=100, offset=0)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn search_partitions<'py>(
        &self,
        py: Python<'py>,
        sort: String,
        descending: bool,
        min: Option<&Bound<'py, PyAny>>,
        max: Option<&Bound<'py, PyAny>>,
        limit: u64,
        offset: u64,
    ) -> PyResult<Bound<'py, PyList>> {
        let search = versions::search(sort, descending, min, max)?;
        let ds = self.inner.clone();
        let items = block_on(py, async move {
            ds.search_partitions(&search, limit, offset).await
        })?;
        list_to_py(py, &items)
    }

    #[pyo3(
        signature = (*, sort="datecompleted".to_string(), descending=true, min=None, max=None, limit=100, offset=0),
        text_signature = "(self, *, sort='datecompleted', descending=True, min=None, max=None, limit=100, offset=0)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn search_partitions_async(
        &self,
        sort: String,
        descending: bool,
        min: Option<Py<PyAny>>,
        max: Option<Py<PyAny>>,
        limit: u64,
        offset: u64,
    ) -> PyResult<Py<PyList>> {
        let search = Python::attach(|py| {
            versions::search(
                sort,
                descending,
                min.as_ref().map(|v| v.bind(py)),
                max.as_ref().map(|v| v.bind(py)),
            )
        })?;
        let ds = self.inner.clone();
        let items =
            spawn(async move { ds.search_partitions(&search, limit, offset).await }).await?;
        list_to_owned(&items)
    }

    #[pyo3(
        signature = (*, sort="datecompleted".to_string(), descending=true, min=None, max=None, max_items=DEFAULT_MAX_ITEMS),
        text_signature = "(self, *, sort='datecompleted', descending=True, min=None, max=None, max_items=100000)"
    )]
    fn partitions_table<'py>(
        &self,
        py: Python<'py>,
        sort: String,
        descending: bool,
        min: Option<&Bound<'py, PyAny>>,
        max: Option<&Bound<'py, PyAny>>,
        max_items: usize,
    ) -> PyResult<PyDomoTable> {
        let search = versions::search(sort, descending, min, max)?;
        let ds = self.inner.clone();
        let items = block_on(py, async move {
            ds.search_all_partitions(&search, max_items).await
        })?;
        PyDomoTable::from_records(&items, PARTITION_COLUMNS)
    }

    #[pyo3(
        signature = (*, sort="datecompleted".to_string(), descending=true, min=None, max=None, max_items=DEFAULT_MAX_ITEMS),
        text_signature = "(self, *, sort='datecompleted', descending=True, min=None, max=None, max_items=100000)"
    )]
    async fn partitions_table_async(
        &self,
        sort: String,
        descending: bool,
        min: Option<Py<PyAny>>,
        max: Option<Py<PyAny>>,
        max_items: usize,
    ) -> PyResult<PyDomoTable> {
        let search = Python::attach(|py| {
            versions::search(
                sort,
                descending,
                min.as_ref().map(|v| v.bind(py)),
                max.as_ref().map(|v| v.bind(py)),
            )
        })?;
        let ds = self.inner.clone();
        let items =
            spawn(async move { ds.search_all_partitions(&search, max_items).await }).await?;
        PyDomoTable::from_records(&items, PARTITION_COLUMNS)
    }

    #[pyo3(
        signature = (*, expression="1=1".to_string(), max_items=DEFAULT_MAX_ITEMS),
        text_signature = "(self, *, expression='1=1', max_items=100000)"
    )]
    fn magic_data_versions<'py>(
        &self,
        py: Python<'py>,
        expression: String,
        max_items: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let ds = self.inner.clone();
        let items = block_on(py, async move {
            ds.magic_data_versions(&expression, max_items).await
        })?;
        list_to_py(py, &items)
    }

    #[pyo3(
        signature = (*, expression="1=1".to_string(), max_items=DEFAULT_MAX_ITEMS),
        text_signature = "(self, *, expression='1=1', max_items=100000)"
    )]
    async fn magic_data_versions_async(
        &self,
        expression: String,
        max_items: usize,
    ) -> PyResult<Py<PyList>> {
        let ds = self.inner.clone();
        let items =
            spawn(async move { ds.magic_data_versions(&expression, max_items).await }).await?;
        list_to_owned(&items)
    }

    fn delete_data_version<'py>(
        &self,
        py: Python<'py>,
        partition: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let key = versions::id_text(partition)?;
        let ds = self.inner.clone();
        let answer = block_on(py, async move { ds.delete_data_version(&key).await })?;
        json_to_py(py, &answer)
    }

    async fn delete_data_version_async(&self, partition: Py<PyAny>) -> PyResult<Py<PyAny>> {
        let key = Python::attach(|py| versions::id_text(partition.bind(py)))?;
        let ds = self.inner.clone();
        let answer = spawn(async move { ds.delete_data_version(&key).await }).await?;
        versions::value_to_owned(&answer)
    }

    fn delete_partition<'py>(
        &self,
        py: Python<'py>,
        partition: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let answer = block_on(py, async move { ds.delete_partition(&partition).await })?;
        json_to_py(py, &answer)
    }

    async fn delete_partition_async(&self, partition: String) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let answer = spawn(async move { ds.delete_partition(&partition).await }).await?;
        versions::value_to_owned(&answer)
    }

    // ---- indexes (issue 6) ----

    #[pyo3(signature = (*, data_ids=None))]
    fn index<'py>(
        &self,
        py: Python<'py>,
        data_ids: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ids = versions::data_ids(data_ids)?;
        let ds = self.inner.clone();
        let answer = block_on(py, async move { ds.index(&ids).await })?;
        json_to_py(py, &answer)
    }

    #[pyo3(signature = (*, data_ids=None))]
    async fn index_async(&self, data_ids: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        let ids = Python::attach(|py| versions::data_ids(data_ids.as_ref().map(|v| v.bind(py))))?;
        let ds = self.inner.clone();
        let answer = spawn(async move { ds.index(&ids).await }).await?;
        versions::value_to_owned(&answer)
    }

    #[pyo3(signature = (index_id, *, data_ids=None))]
    fn reindex<'py>(
        &self,
        py: Python<'py>,
        index_id: &Bound<'py, PyAny>,
        data_ids: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let index_id = versions::id_text(index_id)?;
        let ids = versions::data_ids(data_ids)?;
        let ds = self.inner.clone();
        let answer = block_on(py, async move { ds.reindex(&index_id, &ids).await })?;
        json_to_py(py, &answer)
    }

    #[pyo3(signature = (index_id, *, data_ids=None))]
    async fn reindex_async(
        &self,
        index_id: Py<PyAny>,
        data_ids: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (index_id, ids) = Python::attach(|py| {
            Ok::<_, PyErr>((
                versions::id_text(index_id.bind(py))?,
                versions::data_ids(data_ids.as_ref().map(|v| v.bind(py)))?,
            ))
        })?;
        let ds = self.inner.clone();
        let answer = spawn(async move { ds.reindex(&index_id, &ids).await }).await?;
        versions::value_to_owned(&answer)
    }

    fn index_status<'py>(
        &self,
        py: Python<'py>,
        index_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let index_id = versions::id_text(index_id)?;
        let ds = self.inner.clone();
        let answer = block_on(py, async move { ds.index_status(&index_id).await })?;
        json_to_py(py, &answer)
    }

    async fn index_status_async(&self, index_id: Py<PyAny>) -> PyResult<Py<PyAny>> {
        let index_id = Python::attach(|py| versions::id_text(index_id.bind(py)))?;
        let ds = self.inner.clone();
        let answer = spawn(async move { ds.index_status(&index_id).await }).await?;
        versions::value_to_owned(&answer)
    }

    #[pyo3(signature = (index_id, *, timeout=600.0))]
    fn wait_for_index<'py>(
        &self,
        py: Python<'py>,
        index_id: &Bound<'py, PyAny>,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let index_id = versions::id_text(index_id)?;
        let timeout = versions::timeout(timeout)?;
        let ds = self.inner.clone();
        let answer = block_on(
            py,
            async move { ds.wait_for_index(&index_id, timeout).await },
        )?;
        json_to_py(py, &answer)
    }

    #[pyo3(signature = (index_id, *, timeout=600.0))]
    async fn wait_for_index_async(&self, index_id: Py<PyAny>, timeout: f64) -> PyResult<Py<PyAny>> {
        let index_id = Python::attach(|py| versions::id_text(index_id.bind(py)))?;
        let timeout = versions::timeout(timeout)?;
        let ds = self.inner.clone();
        let answer = spawn(async move { ds.wait_for_index(&index_id, timeout).await }).await?;
        versions::value_to_owned(&answer)
    }

    // ---- the dataset's stream (issue 6) ----

    fn stream(&self, py: Python<'_>) -> PyResult<PyStream> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.stream().await }).map(|inner| PyStream { inner })
    }

    async fn stream_async(&self) -> PyResult<PyStream> {
        let ds = self.inner.clone();
        spawn(async move { ds.stream().await })
            .await
            .map(|inner| PyStream { inner })
    }

    #[pyo3(signature = (*, part=None))]
    fn metadata<'py>(
        &self,
        py: Python<'py>,
        part: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let value = block_on(py, async move {
            match part {
                Some(part) => ds.metadata_parts(&part).await,
                None => ds.metadata().await,
            }
        })?;
        json_to_py(py, &value)
    }

    #[pyo3(signature = (*, part=None))]
    async fn metadata_async(&self, part: Option<Vec<String>>) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let value = spawn(async move {
            match part {
                Some(part) => ds.metadata_parts(&part).await,
                None => ds.metadata().await,
            }
        })
        .await?;
        py_json(&value)
    }

    #[pyo3(signature = (*, include_hidden=false))]
    fn schema<'py>(&self, py: Python<'py>, include_hidden: bool) -> PyResult<Bound<'py, PyList>> {
        let ds = self.inner.clone();
        let columns = block_on(py, async move { ds.schema_with(include_hidden).await })?;
        columns_to_py(py, &columns)
    }

    #[pyo3(signature = (*, include_hidden=false))]
    async fn schema_async(&self, include_hidden: bool) -> PyResult<Py<PyList>> {
        let ds = self.inner.clone();
        let columns = spawn(async move { ds.schema_with(include_hidden).await }).await?;
        Python::attach(|py| columns_to_py(py, &columns).map(Bound::unbind))
    }

    fn query(&self, py: Python<'_>, sql: String) -> PyResult<PyDomoTable> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.query(&sql).await }).map(table)
    }

    async fn query_async(&self, sql: String) -> PyResult<PyDomoTable> {
        let ds = self.inner.clone();
        spawn(async move { ds.query(&sql).await }).await.map(table)
    }

    /// A polars LazyFrame over the dataset, reading only what the query needs: see
    /// `domo_datasets.scan` (written in Python on top of `query` and `export`).
    #[pyo3(signature = (*, key=None, max_rows_per_query=None))]
    fn scan<'py>(
        slf: &Bound<'py, Self>,
        key: Option<String>,
        max_rows_per_query: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let kwargs = PyDict::new(py);
        kwargs.set_item("key", key)?;
        if let Some(rows) = max_rows_per_query {
            kwargs.set_item("max_rows_per_query", rows)?;
        }
        py.import("domo_datasets._scan")?
            .getattr("scan")?
            .call((slf,), Some(&kwargs))
    }

    /// Record batches of the chosen columns and rows, split past Domo's answer cap: see
    /// `domo_datasets._scan.DatasetReader`.
    #[pyo3(signature = (*, columns=None, r#where=None, limit=None, key=None, max_rows_per_query=None))]
    fn reader<'py>(
        slf: &Bound<'py, Self>,
        columns: Option<Vec<String>>,
        r#where: Option<String>,
        limit: Option<i64>,
        key: Option<String>,
        max_rows_per_query: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let kwargs = PyDict::new(py);
        kwargs.set_item("columns", columns)?;
        kwargs.set_item("where", r#where)?;
        kwargs.set_item("limit", limit)?;
        kwargs.set_item("key", key)?;
        if let Some(rows) = max_rows_per_query {
            kwargs.set_item("max_rows_per_query", rows)?;
        }
        py.import("domo_datasets._scan")?
            .getattr("DatasetReader")?
            .call((slf,), Some(&kwargs))
    }

    #[pyo3(signature = (*, batch_size=65536))]
    fn export(&self, py: Python<'_>, batch_size: usize) -> PyResult<PyBatchStream> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.export(batch_size).await }).map(PyBatchStream::new)
    }

    #[pyo3(signature = (*, batch_size=65536))]
    async fn export_async(&self, batch_size: usize) -> PyResult<PyBatchStream> {
        let ds = self.inner.clone();
        spawn(async move { ds.export(batch_size).await })
            .await
            .map(PyBatchStream::new)
    }

    #[pyo3(signature = (data, *, mode="append", partition=None, partition_param="dataTag", part_size=32*1024*1024, concurrency=4, index=true, match_by_name=false, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn upload<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        mode: &str,
        partition: Option<String>,
        partition_param: &str,
        part_size: usize,
        concurrency: usize,
        index: bool,
        match_by_name: bool,
        progress: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let request = upload_request(
            data,
            mode,
            partition,
            partition_param,
            part_size,
            concurrency,
            index,
            match_by_name,
            progress,
        )?;
        let ds = self.inner.clone();
        let summary = block_on(py, async move {
            ds.upload(request.source, request.options, request.progress)
                .await
        })?;
        summary_to_py(py, self.inner.id(), &summary)
    }

    #[pyo3(
        signature = (data, *, mode="append".to_string(), partition=None, partition_param="dataTag".to_string(), part_size=32*1024*1024, concurrency=4, index=true, match_by_name=false, progress=None),
        text_signature = "(self, data, *, mode='append', partition=None, partition_param='dataTag', part_size=33554432, concurrency=4, index=True, match_by_name=False, progress=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn upload_async(
        &self,
        data: Py<PyAny>,
        mode: String,
        partition: Option<String>,
        partition_param: String,
        part_size: usize,
        concurrency: usize,
        index: bool,
        match_by_name: bool,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyDict>> {
        let request = Python::attach(|py| {
            upload_request(
                data.bind(py),
                &mode,
                partition,
                &partition_param,
                part_size,
                concurrency,
                index,
                match_by_name,
                progress.as_ref().map(|p| p.bind(py)),
            )
        })?;
        let ds = self.inner.clone();
        let summary = spawn(async move {
            ds.upload(request.source, request.options, request.progress)
                .await
        })
        .await?;
        let id = self.inner.id().to_string();
        Python::attach(|py| summary_to_py(py, &id, &summary).map(Bound::unbind))
    }

    fn append_rows<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rows = rows_to_json(rows)?;
        let ds = self.inner.clone();
        let answer = block_on(py, async move { ds.append_rows(rows).await })?;
        json_to_py(py, &answer)
    }

    async fn append_rows_async(&self, rows: Py<PyAny>) -> PyResult<Py<PyAny>> {
        let rows = Python::attach(|py| rows_to_json(rows.bind(py)))?;
        let ds = self.inner.clone();
        let answer = spawn(async move { ds.append_rows(rows).await }).await?;
        Python::attach(|py| json_to_py(py, &answer).map(Bound::unbind))
    }

    /// Pages through a large result; see `domo_core::query_pages` for the caveats.
    #[pyo3(signature = (sql, *, page_size=100_000, prefetch=2))]
    fn query_pages(
        &self,
        py: Python<'_>,
        sql: String,
        page_size: usize,
        prefetch: usize,
    ) -> PyResult<PyBatchStream> {
        let ds = self.inner.clone();
        block_on(py, async move {
            ds.query_pages(&sql, page_size, prefetch).await
        })
        .map(PyBatchStream::new)
    }

    #[pyo3(signature = (sql, *, page_size=100_000, prefetch=2))]
    async fn query_pages_async(
        &self,
        sql: String,
        page_size: usize,
        prefetch: usize,
    ) -> PyResult<PyBatchStream> {
        let ds = self.inner.clone();
        spawn(async move { ds.query_pages(&sql, page_size, prefetch).await })
            .await
            .map(PyBatchStream::new)
    }

    fn export_to(&self, py: Python<'_>, path: PathBuf) -> PyResult<u64> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.export_to(&path).await })
    }

    async fn export_to_async(&self, path: PathBuf) -> PyResult<u64> {
        let ds = self.inner.clone();
        spawn(async move { ds.export_to(&path).await }).await
    }

    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let value = block_on(py, async move { ds.details().await })?;
        json_to_py(py, &value)
    }

    async fn details_async(&self) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let value = spawn(async move { ds.details().await }).await?;
        py_json(&value)
    }

    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let items = block_on(py, async move { ds.history().await })?;
        json_to_py(py, &serde_json::Value::Array(items))
    }

    async fn history_async(&self) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let items = spawn(async move { ds.history().await }).await?;
        py_json(&serde_json::Value::Array(items))
    }

    fn history_table(&self, py: Python<'_>) -> PyResult<PyDomoTable> {
        let ds = self.inner.clone();
        let items = block_on(py, async move { ds.history().await })?;
        PyDomoTable::from_records(&items, HISTORY_COLUMNS)
    }

    async fn history_table_async(&self) -> PyResult<PyDomoTable> {
        let ds = self.inner.clone();
        let items = spawn(async move { ds.history().await }).await?;
        PyDomoTable::from_records(&items, HISTORY_COLUMNS)
    }

    fn copy_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let value = block_on(py, async move { ds.copy_status().await })?;
        json_to_py(py, &value)
    }

    async fn copy_status_async(&self) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let value = spawn(async move { ds.copy_status().await }).await?;
        py_json(&value)
    }

    fn copy_log(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.copy_log().await })
    }

    async fn copy_log_async(&self) -> PyResult<Vec<String>> {
        let ds = self.inner.clone();
        spawn(async move { ds.copy_log().await }).await
    }

    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let value = block_on(py, async move { ds.data().await })?;
        json_to_py(py, &value)
    }

    async fn data_async(&self) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let value = spawn(async move { ds.data().await }).await?;
        py_json(&value)
    }

    fn saved_query(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.saved_query().await })
    }

    async fn saved_query_async(&self) -> PyResult<Option<String>> {
        let ds = self.inner.clone();
        spawn(async move { ds.saved_query().await }).await
    }

    fn saved_sql(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.saved_sql().await })
    }

    async fn saved_sql_async(&self) -> PyResult<Option<String>> {
        let ds = self.inner.clone();
        spawn(async move { ds.saved_sql().await }).await
    }

    fn dataflow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let value = block_on(py, async move { ds.dataflow().await })?;
        json_to_py(py, &value)
    }

    async fn dataflow_async(&self) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let value = spawn(async move { ds.dataflow().await }).await?;
        py_json(&value)
    }

    fn tags(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.tags().await })
    }

    async fn tags_async(&self) -> PyResult<Vec<String>> {
        let ds = self.inner.clone();
        spawn(async move { ds.tags().await }).await
    }

    fn permissions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let items = block_on(py, async move { ds.permissions().await })?;
        json_to_py(py, &serde_json::Value::Array(items))
    }

    async fn permissions_async(&self) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let items = spawn(async move { ds.permissions().await }).await?;
        py_json(&serde_json::Value::Array(items))
    }

    fn owner<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let value = block_on(py, async move { ds.owner().await })?;
        json_to_py(py, &value)
    }

    async fn owner_async(&self) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let value = spawn(async move { ds.owner().await }).await?;
        py_json(&value)
    }

    fn set_properties(&self, py: Python<'_>, properties: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = properties_from_py(properties)?;
        let ds = self.inner.clone();
        block_on(py, async move { ds.set_properties(v).await })
    }

    async fn set_properties_async(&self, properties: Py<PyAny>) -> PyResult<()> {
        let v = Python::attach(|py| {
            let properties = properties.bind(py);
            properties_from_py(properties)
        })?;
        let ds = self.inner.clone();
        spawn(async move { ds.set_properties(v).await }).await
    }

    fn replace_data(&self, py: Python<'_>, rows: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = rows_to_json(rows)?
            .into_iter()
            .map(serde_json::Value::Object)
            .collect::<Vec<_>>();
        let ds = self.inner.clone();
        block_on(py, async move { ds.replace_data(v).await })
    }

    async fn replace_data_async(&self, rows: Py<PyAny>) -> PyResult<()> {
        let v = Python::attach(|py| -> PyResult<_> {
            let rows = rows.bind(py);
            Ok(rows_to_json(rows)?
                .into_iter()
                .map(serde_json::Value::Object)
                .collect::<Vec<_>>())
        })?;
        let ds = self.inner.clone();
        spawn(async move { ds.replace_data(v).await }).await
    }

    fn add_tags(&self, py: Python<'_>, tags: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = tags.extract::<Vec<String>>()?;
        let ds = self.inner.clone();
        block_on(py, async move { ds.add_tags(&v).await })
    }

    async fn add_tags_async(&self, tags: Py<PyAny>) -> PyResult<()> {
        let v = Python::attach(|py| {
            let tags = tags.bind(py);
            tags.extract::<Vec<String>>()
        })?;
        let ds = self.inner.clone();
        spawn(async move { ds.add_tags(&v).await }).await
    }

    fn remove_tags(&self, py: Python<'_>, tags: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = tags.extract::<Vec<String>>()?;
        let ds = self.inner.clone();
        block_on(py, async move { ds.remove_tags(&v).await })
    }

    async fn remove_tags_async(&self, tags: Py<PyAny>) -> PyResult<()> {
        let v = Python::attach(|py| {
            let tags = tags.bind(py);
            tags.extract::<Vec<String>>()
        })?;
        let ds = self.inner.clone();
        spawn(async move { ds.remove_tags(&v).await }).await
    }

    fn update_permissions(&self, py: Python<'_>, permissions: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = permissions_from_py(permissions)?;
        let ds = self.inner.clone();
        block_on(py, async move { ds.update_permissions(&v).await })
    }

    async fn update_permissions_async(&self, permissions: Py<PyAny>) -> PyResult<()> {
        let v = Python::attach(|py| {
            let permissions = permissions.bind(py);
            permissions_from_py(permissions)
        })?;
        let ds = self.inner.clone();
        spawn(async move { ds.update_permissions(&v).await }).await
    }

    fn remove_user(&self, py: Python<'_>, user_id: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = id_from_py(user_id)?;
        let ds = self.inner.clone();
        block_on(py, async move { ds.remove_user(&v).await })
    }

    async fn remove_user_async(&self, user_id: Py<PyAny>) -> PyResult<()> {
        let v = Python::attach(|py| {
            let user_id = user_id.bind(py);
            id_from_py(user_id)
        })?;
        let ds = self.inner.clone();
        spawn(async move { ds.remove_user(&v).await }).await
    }

    fn remove_users(&self, py: Python<'_>, user_ids: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = ids_from_py(user_ids)?;
        let ds = self.inner.clone();
        block_on(py, async move { ds.remove_users(&v).await })
    }

    async fn remove_users_async(&self, user_ids: Py<PyAny>) -> PyResult<()> {
        let v = Python::attach(|py| {
            let user_ids = user_ids.bind(py);
            ids_from_py(user_ids)
        })?;
        let ds = self.inner.clone();
        spawn(async move { ds.remove_users(&v).await }).await
    }

    fn alter_schema(&self, py: Python<'_>, columns: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = changes_from_py(columns)?;
        let ds = self.inner.clone();
        block_on(py, async move { ds.alter_schema(&v).await })
    }

    async fn alter_schema_async(&self, columns: Py<PyAny>) -> PyResult<()> {
        let v = Python::attach(|py| {
            let columns = columns.bind(py);
            changes_from_py(columns)
        })?;
        let ds = self.inner.clone();
        spawn(async move { ds.alter_schema(&v).await }).await
    }

    fn set_saved_query(&self, py: Python<'_>, query: String) -> PyResult<()> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.set_saved_query(&query).await })
    }

    async fn set_saved_query_async(&self, query: String) -> PyResult<()> {
        let ds = self.inner.clone();
        spawn(async move { ds.set_saved_query(&query).await }).await
    }

    fn set_saved_sql(&self, py: Python<'_>, sql: String) -> PyResult<()> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.set_saved_sql(&sql).await })
    }

    async fn set_saved_sql_async(&self, sql: String) -> PyResult<()> {
        let ds = self.inner.clone();
        spawn(async move { ds.set_saved_sql(&sql).await }).await
    }

    #[pyo3(signature = (*, drill=true))]
    fn cards<'py>(&self, py: Python<'py>, drill: bool) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let items = block_on(py, async move { ds.cards(drill).await })?;
        json_to_py(py, &serde_json::Value::Array(items))
    }

    #[pyo3(signature = (*, drill=true))]
    async fn cards_async(&self, drill: bool) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let items = spawn(async move { ds.cards(drill).await }).await?;
        py_json(&serde_json::Value::Array(items))
    }

    #[pyo3(signature = (*, drill=true))]
    fn cards_table(&self, py: Python<'_>, drill: bool) -> PyResult<PyDomoTable> {
        let ds = self.inner.clone();
        let items = block_on(py, async move { ds.cards(drill).await })?;
        PyDomoTable::from_records(&items, CARD_COLUMNS)
    }

    #[pyo3(signature = (*, drill=true))]
    async fn cards_table_async(&self, drill: bool) -> PyResult<PyDomoTable> {
        let ds = self.inner.clone();
        let items = spawn(async move { ds.cards(drill).await }).await?;
        PyDomoTable::from_records(&items, CARD_COLUMNS)
    }

    fn permissions_table(&self, py: Python<'_>) -> PyResult<PyDomoTable> {
        let ds = self.inner.clone();
        let items = block_on(py, async move { ds.permissions().await })?;
        PyDomoTable::from_records(&items, PERMISSION_COLUMNS)
    }

    async fn permissions_table_async(&self) -> PyResult<PyDomoTable> {
        let ds = self.inner.clone();
        let items = spawn(async move { ds.permissions().await }).await?;
        PyDomoTable::from_records(&items, PERMISSION_COLUMNS)
    }

    #[pyo3(signature = (permissions, *, send_email=false))]
    fn share(
        &self,
        py: Python<'_>,
        permissions: &Bound<'_, PyAny>,
        send_email: bool,
    ) -> PyResult<()> {
        let v = permissions_from_py(permissions)?;
        let ds = self.inner.clone();
        block_on(py, async move { ds.share(&v, send_email).await })
    }

    #[pyo3(signature = (permissions, *, send_email=false))]
    async fn share_async(&self, permissions: Py<PyAny>, send_email: bool) -> PyResult<()> {
        let v = Python::attach(|py| permissions_from_py(permissions.bind(py)))?;
        let ds = self.inner.clone();
        spawn(async move { ds.share(&v, send_email).await }).await
    }

    fn revoke(
        &self,
        py: Python<'_>,
        entity_type: String,
        entity_id: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let id = id_from_py(entity_id)?;
        let ds = self.inner.clone();
        block_on(py, async move { ds.revoke(&entity_type, &id).await })
    }

    async fn revoke_async(&self, entity_type: String, entity_id: Py<PyAny>) -> PyResult<()> {
        let id = Python::attach(|py| id_from_py(entity_id.bind(py)))?;
        let ds = self.inner.clone();
        spawn(async move { ds.revoke(&entity_type, &id).await }).await
    }

    #[pyo3(
        signature = (owner_id, *, owner_type="USER".to_string()),
        text_signature = "(self, owner_id, *, owner_type='USER')"
    )]
    fn set_owner(
        &self,
        py: Python<'_>,
        owner_id: &Bound<'_, PyAny>,
        owner_type: String,
    ) -> PyResult<()> {
        let id = id_from_py(owner_id)?;
        let ds = self.inner.clone();
        block_on(py, async move { ds.set_owner(&id, &owner_type).await })
    }

    #[pyo3(
        signature = (owner_id, *, owner_type="USER".to_string()),
        text_signature = "(self, owner_id, *, owner_type='USER')"
    )]
    async fn set_owner_async(&self, owner_id: Py<PyAny>, owner_type: String) -> PyResult<()> {
        let id = Python::attach(|py| id_from_py(owner_id.bind(py)))?;
        let ds = self.inner.clone();
        spawn(async move { ds.set_owner(&id, &owner_type).await }).await
    }

    fn delete(&self, py: Python<'_>) -> PyResult<()> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.delete().await })
    }

    async fn delete_async(&self) -> PyResult<()> {
        let ds = self.inner.clone();
        spawn(async move { ds.delete().await }).await
    }
}
