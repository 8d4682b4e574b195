//! `Stream`: a Domo connector stream (its configuration, updates, runs and history) and
//! the checking of `Client.create_stream`'s arguments.

use domo_core::streams::{StreamSpec, StreamUpdate};
use domo_core::versions::EXECUTION_COLUMNS;
use pyo3::prelude::*;
use serde_json::Value;

use crate::client::PyClient;
use crate::convert::from_py::{Columns, Json};
use crate::convert::to_py;
use crate::dataset::identity_hash;
use crate::errors::PyDomoResult;
use crate::results::PyDomoTable;
use crate::runtime::twins;

#[doc = stub_doc!(Stream)]
#[pyclass(module = "domo_datasets._domo", name = "Stream", frozen)]
pub struct PyStream {
    pub inner: domo_core::Stream,
}

impl From<domo_core::Stream> for PyStream {
    fn from(inner: domo_core::Stream) -> Self {
        PyStream { inner }
    }
}

/// `Client.create_stream`'s arguments.
pub struct StreamArgs {
    pub name: String,
    pub provider: String,
    pub configuration: Option<Json>,
    pub account: Option<Json>,
    pub update_method: String,
    pub transport: Option<Json>,
    pub schedule: Option<Json>,
    pub schema: Option<Columns>,
    pub description: Option<String>,
}

impl StreamArgs {
    /// The stream to create, checked: nothing is sent if it is not valid.
    pub fn into_spec(self) -> PyDomoResult<StreamSpec> {
        let spec = StreamSpec {
            name: self.name,
            description: self.description,
            provider: self.provider,
            transport: self.transport.map(|j| j.0),
            configuration: self.configuration.map_or(Value::Null, |j| j.0),
            account: self.account.map_or(Value::Null, |j| j.0),
            update_method: self.update_method,
            schedule: self.schedule.map(|j| j.0),
            schema: self.schema.map(|c| c.0),
        };
        spec.body()?;
        Ok(spec)
    }
}

impl PyStream {
    /// What a stream handle is: the instance's base URL and the stream's id.
    fn key(&self) -> (&str, u64) {
        (self.inner.client().base_url(), self.inner.id())
    }
}

#[pymethods]
impl PyStream {
    #[doc = stub_doc!(Stream, id)]
    #[getter]
    fn id(&self) -> u64 {
        self.inner.id()
    }

    #[doc = stub_doc!(Stream, client)]
    #[getter]
    fn client(&self) -> PyClient {
        self.inner.client().clone().into()
    }

    fn __repr__(&self) -> String {
        format!(
            "Stream({}, base_url={:?})",
            self.inner.id(),
            self.inner.client().base_url()
        )
    }

    #[doc = stub_doc!(Stream, __eq__)]
    fn __eq__(&self, other: &Self) -> bool {
        self.key() == other.key()
    }

    #[doc = stub_doc!(Stream, __hash__)]
    fn __hash__(&self) -> u64 {
        identity_hash(&self.key())
    }
}

twins! {
    impl PyStream as Stream {
        fn get / get_async(&self) -> to_py::Json {
            let s = self.inner.clone();
            async move { s.get().await }
        }

        #[pyo3(signature = (*, name=None, description=None, provider=None, transport=None, configuration=None, account=None, update_method=None, schedule=None))]
        fn update / update_async(
            &self,
            name: Option<String>,
            description: Option<String>,
            provider: Option<String>,
            transport: Option<Json>,
            configuration: Option<Json>,
            account: Option<Json>,
            update_method: Option<String>,
            schedule: Option<Json>,
        ) -> to_py::Json {
            let changes = StreamUpdate {
                name,
                description,
                provider,
                transport: transport.map(|j| j.0),
                configuration: configuration.map(|j| j.0),
                account: account.map(|j| j.0),
                update_method,
                schedule: schedule.map(|j| j.0),
            };
            changes.validate()?;
            let s = self.inner.clone();
            async move { s.update(&changes).await }
        }

        fn executions / executions_async(&self) -> to_py::Json {
            let s = self.inner.clone();
            async move { s.executions().await }
        }

        fn executions_table / executions_table_async(&self) -> PyDomoTable {
            let s = self.inner.clone();
            async move { PyDomoTable::from_records(&s.executions().await?, EXECUTION_COLUMNS) }
        }

        fn execute / execute_async(&self) -> to_py::Json {
            let s = self.inner.clone();
            async move { s.execute().await }
        }
    }
}
