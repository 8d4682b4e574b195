//! Renaming and describing a dataset, listing streams and deleting one: the calls a
//! pydomo user makes with `ds_update`, `streams.list`, `streams.search` and
//! `streams.delete`.

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::client::PyClient;
use crate::dataset::PyDataset;
use crate::runtime::{block_on, spawn};
use crate::stream::PyStream;
use crate::versions::{list_to_owned, list_to_py};

#[pymethods]
impl PyDataset {
    /// Renames the dataset and/or changes its description.
    #[pyo3(signature = (*, name=None, description=None))]
    fn update(
        &self,
        py: Python<'_>,
        name: Option<String>,
        description: Option<String>,
    ) -> PyResult<()> {
        let ds = self.inner.clone();
        block_on(py, async move {
            ds.update(name.as_deref(), description.as_deref()).await
        })
    }

    #[pyo3(signature = (*, name=None, description=None))]
    async fn update_async(
        &self,
        name: Option<String>,
        description: Option<String>,
    ) -> PyResult<()> {
        let ds = self.inner.clone();
        spawn(async move { ds.update(name.as_deref(), description.as_deref()).await }).await
    }
}

#[pymethods]
impl PyClient {
    /// Streams as dicts: every stream (public API, read 50 at a time), or those feeding
    /// `dataset_id`.
    #[pyo3(signature = (dataset_id=None))]
    fn streams<'py>(
        &self,
        py: Python<'py>,
        dataset_id: Option<String>,
    ) -> PyResult<Bound<'py, PyList>> {
        let client = self.inner.clone();
        let items = block_on(
            py,
            async move { client.streams(dataset_id.as_deref()).await },
        )?;
        list_to_py(py, &items)
    }

    #[pyo3(signature = (dataset_id=None))]
    async fn streams_async(&self, dataset_id: Option<String>) -> PyResult<Py<PyList>> {
        let client = self.inner.clone();
        let items = spawn(async move { client.streams(dataset_id.as_deref()).await }).await?;
        list_to_owned(&items)
    }
}

#[pymethods]
impl PyStream {
    /// Deletes the stream (public API); its dataset stays.
    fn delete(&self, py: Python<'_>) -> PyResult<()> {
        let stream = self.inner.clone();
        block_on(py, async move { stream.delete().await })
    }

    async fn delete_async(&self) -> PyResult<()> {
        let stream = self.inner.clone();
        spawn(async move { stream.delete().await }).await
    }
}
