//! `Dataset`: one Python class over several files, one `#[pymethods]` block per API area,
//! mirroring domo-core's modules. This file holds the class and what needs no request.

mod access;
mod alter;
mod datasets;
mod export;
mod indexes;
mod policies;
mod properties;
mod query_pages;
mod streams;
mod tags;
mod upload;
mod versions;

use std::hash::{DefaultHasher, Hash, Hasher};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::client::PyClient;
use crate::runtime::twins;

#[doc = stub_doc!(Dataset)]
#[pyclass(module = "domo_datasets._domo", name = "Dataset", frozen)]
pub struct PyDataset {
    pub(crate) inner: domo_core::Dataset,
}

impl From<domo_core::Dataset> for PyDataset {
    fn from(inner: domo_core::Dataset) -> Self {
        PyDataset { inner }
    }
}

impl PyDataset {
    /// What a dataset handle is: the instance's base URL and the dataset's id.
    fn key(&self) -> (&str, &str) {
        (self.inner.client().base_url(), self.inner.id())
    }
}

/// The hash of a handle's identity, equal for equal handles.
pub fn identity_hash(key: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

#[pymethods]
impl PyDataset {
    #[doc = stub_doc!(Dataset, id)]
    #[getter]
    fn id(&self) -> &str {
        self.inner.id()
    }

    #[doc = stub_doc!(Dataset, client)]
    #[getter]
    fn client(&self) -> PyClient {
        self.inner.client().clone().into()
    }

    fn __repr__(&self) -> String {
        format!(
            "Dataset({:?}, base_url={:?})",
            self.inner.id(),
            self.inner.client().base_url()
        )
    }

    #[doc = stub_doc!(Dataset, __eq__)]
    fn __eq__(&self, other: &Self) -> bool {
        self.key() == other.key()
    }

    #[doc = stub_doc!(Dataset, __hash__)]
    fn __hash__(&self) -> u64 {
        identity_hash(&self.key())
    }

    #[doc = stub_doc!(Dataset, scan)]
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

    #[doc = stub_doc!(Dataset, reader)]
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
}

twins! {
    impl PyDataset as Dataset {
        fn delete / delete_async(&self) -> () {
            let ds = self.inner.clone();
            async move { ds.delete().await }
        }
    }
}
