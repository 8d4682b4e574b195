//! `Stream`: a Domo connector stream — its configuration, updates, runs and history —
//! and the conversion of `Client.create_stream`'s arguments.

use domo_core::streams::{StreamSpec, StreamUpdate};
use domo_core::versions::EXECUTION_COLUMNS;
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::Value;

use crate::client::PyClient;
use crate::convert::json_to_py;
use crate::dataset::columns_from_py;
use crate::errors::to_py;
use crate::results::PyDomoTable;
use crate::runtime::{block_on, spawn};
use crate::versions::{self, list_to_owned, list_to_py, opt_json};

/// A Domo stream (connector), addressed by id.
#[pyclass(module = "domo_datasets._domo", name = "Stream", frozen)]
pub struct PyStream {
    pub inner: domo_core::Stream,
}

/// `Client.create_stream`'s arguments, checked (nothing is sent if they are not valid).
#[allow(clippy::too_many_arguments)]
pub fn stream_spec(
    name: String,
    provider: String,
    configuration: Option<&Bound<'_, PyAny>>,
    account: Option<&Bound<'_, PyAny>>,
    update_method: String,
    transport: Option<&Bound<'_, PyAny>>,
    schedule: Option<&Bound<'_, PyAny>>,
    schema: Option<&Bound<'_, PyAny>>,
    description: Option<String>,
) -> PyResult<StreamSpec> {
    let spec = StreamSpec {
        name,
        description,
        provider,
        transport: opt_json(transport)?,
        configuration: opt_json(configuration)?.unwrap_or(Value::Null),
        account: opt_json(account)?.unwrap_or(Value::Null),
        update_method,
        schedule: opt_json(schedule)?,
        schema: schema
            .filter(|s| !s.is_none())
            .map(columns_from_py)
            .transpose()?,
    };
    spec.body().map_err(to_py)?;
    Ok(spec)
}

#[allow(clippy::too_many_arguments)]
fn stream_update(
    name: Option<String>,
    description: Option<String>,
    provider: Option<String>,
    transport: Option<&Bound<'_, PyAny>>,
    configuration: Option<&Bound<'_, PyAny>>,
    account: Option<&Bound<'_, PyAny>>,
    update_method: Option<String>,
    schedule: Option<&Bound<'_, PyAny>>,
) -> PyResult<StreamUpdate> {
    let update = StreamUpdate {
        name,
        description,
        provider,
        transport: opt_json(transport)?,
        configuration: opt_json(configuration)?,
        account: opt_json(account)?,
        update_method,
        schedule: opt_json(schedule)?,
    };
    update.validate().map_err(to_py)?;
    Ok(update)
}

#[pymethods]
impl PyStream {
    #[getter]
    fn id(&self) -> u64 {
        self.inner.id()
    }

    #[getter]
    fn client(&self) -> PyClient {
        PyClient {
            inner: self.inner.client().clone(),
        }
    }

    fn __repr__(&self) -> String {
        format!("Stream({})", self.inner.id())
    }

    fn get<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        let answer = block_on(py, async move { s.get().await })?;
        json_to_py(py, &answer)
    }

    async fn get_async(&self) -> PyResult<Py<PyAny>> {
        let s = self.inner.clone();
        let answer = spawn(async move { s.get().await }).await?;
        versions::value_to_owned(&answer)
    }

    #[pyo3(signature = (*, name=None, description=None, provider=None, transport=None, configuration=None, account=None, update_method=None, schedule=None))]
    #[allow(clippy::too_many_arguments)]
    fn update<'py>(
        &self,
        py: Python<'py>,
        name: Option<String>,
        description: Option<String>,
        provider: Option<String>,
        transport: Option<&Bound<'py, PyAny>>,
        configuration: Option<&Bound<'py, PyAny>>,
        account: Option<&Bound<'py, PyAny>>,
        update_method: Option<String>,
        schedule: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let changes = stream_update(
            name,
            description,
            provider,
            transport,
            configuration,
            account,
            update_method,
            schedule,
        )?;
        let s = self.inner.clone();
        let answer = block_on(py, async move { s.update(&changes).await })?;
        json_to_py(py, &answer)
    }

    #[pyo3(signature = (*, name=None, description=None, provider=None, transport=None, configuration=None, account=None, update_method=None, schedule=None))]
    #[allow(clippy::too_many_arguments)]
    async fn update_async(
        &self,
        name: Option<String>,
        description: Option<String>,
        provider: Option<String>,
        transport: Option<Py<PyAny>>,
        configuration: Option<Py<PyAny>>,
        account: Option<Py<PyAny>>,
        update_method: Option<String>,
        schedule: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let changes = Python::attach(|py| {
            let b = |v: &Option<Py<PyAny>>| v.as_ref().map(|v| v.bind(py).clone());
            stream_update(
                name,
                description,
                provider,
                b(&transport).as_ref(),
                b(&configuration).as_ref(),
                b(&account).as_ref(),
                update_method,
                b(&schedule).as_ref(),
            )
        })?;
        let s = self.inner.clone();
        let answer = spawn(async move { s.update(&changes).await }).await?;
        versions::value_to_owned(&answer)
    }

    fn executions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let s = self.inner.clone();
        let items = block_on(py, async move { s.executions().await })?;
        list_to_py(py, &items)
    }

    async fn executions_async(&self) -> PyResult<Py<PyList>> {
        let s = self.inner.clone();
        let items = spawn(async move { s.executions().await }).await?;
        list_to_owned(&items)
    }

    fn executions_table(&self, py: Python<'_>) -> PyResult<PyDomoTable> {
        let s = self.inner.clone();
        let items = block_on(py, async move { s.executions().await })?;
        PyDomoTable::from_records(&items, EXECUTION_COLUMNS)
    }

    async fn executions_table_async(&self) -> PyResult<PyDomoTable> {
        let s = self.inner.clone();
        let items = spawn(async move { s.executions().await }).await?;
        PyDomoTable::from_records(&items, EXECUTION_COLUMNS)
    }

    fn execute<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        let answer = block_on(py, async move { s.execute().await })?;
        json_to_py(py, &answer)
    }

    async fn execute_async(&self) -> PyResult<Py<PyAny>> {
        let s = self.inner.clone();
        let answer = spawn(async move { s.execute().await }).await?;
        versions::value_to_owned(&answer)
    }
}
