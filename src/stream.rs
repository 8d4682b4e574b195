//! `Stream`: a handle on a Domo stream (its endpoints arrive in a later change).

use pyo3::prelude::*;

/// A Domo stream (connector), addressed by id.
#[pyclass(module = "domo_datasets._domo", name = "Stream", frozen)]
pub struct PyStream {
    pub inner: domo_core::Stream,
}

#[pymethods]
impl PyStream {
    #[getter]
    fn id(&self) -> u64 {
        self.inner.id()
    }

    fn __repr__(&self) -> String {
        format!("Stream({})", self.inner.id())
    }
}
