//! `Client`: settings from Python, login, and handles on datasets and streams.

use std::time::Duration;

use domo_core::search::DATASET_COLUMNS;
use domo_core::{ClientOptions, Credentials, RetryPolicy, Secret};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::dataset::{PyDataset, columns_from_py};
use crate::errors::to_py;
use crate::results::PyDomoTable;
use crate::runtime::{block_on, spawn};
use crate::stream::{PyStream, stream_spec};
use crate::versions::{list_to_owned, list_to_py};

/// A connection to one Domo instance.
///
/// Settings beside the timeouts: `deadline` (seconds one request may take in all, retries
/// and reading the answer included; None for no limit), `max_answer_bytes` (the most an
/// answer read whole may decompress to, default 2 GiB) and `max_record_bytes` (the longest
/// export record, default 64 MiB); past either limit, AnswerTooLargeError. Redirects are
/// followed only within the instance's origin (at most 5 hops): the token and request
/// bodies never go to another server. A token echoed by a server is masked in errors.
#[pyclass(module = "domo_datasets._domo", name = "Client", frozen)]
#[derive(Clone)]
pub struct PyClient {
    pub inner: domo_core::Client,
}

fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    if !value.is_finite() || value <= 0.0 {
        return Err(PyValueError::new_err(format!(
            "{name} must be a positive number of seconds, not {value}"
        )));
    }
    Duration::try_from_secs_f64(value).map_err(|e| PyValueError::new_err(format!("{name}: {e}")))
}

/// The settings every way of making a client takes.
pub(crate) struct Settings {
    pub connect_timeout: f64,
    pub read_timeout: f64,
    pub deadline: Option<f64>,
    pub max_answer_bytes: u64,
    pub max_record_bytes: u64,
    pub max_retries: u32,
    pub retry_max_elapsed: f64,
    pub verify_tls: bool,
    pub user_agent: Option<String>,
}

pub(crate) fn options(settings: Settings) -> PyResult<ClientOptions> {
    let Settings {
        connect_timeout,
        read_timeout,
        deadline,
        max_answer_bytes,
        max_record_bytes,
        max_retries,
        retry_max_elapsed,
        verify_tls,
        user_agent,
    } = settings;
    Ok(ClientOptions {
        connect_timeout: seconds("connect_timeout", connect_timeout)?,
        read_timeout: seconds("read_timeout", read_timeout)?,
        deadline: deadline.map(|d| seconds("deadline", d)).transpose()?,
        max_answer_bytes,
        max_record_bytes,
        retry: RetryPolicy {
            max_retries,
            max_elapsed: seconds("retry_max_elapsed", retry_max_elapsed)?,
            ..RetryPolicy::default()
        },
        verify_tls,
        user_agent,
    })
}

/// A variable of the environment, if set to something other than blanks.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Credentials the environment names.
enum EnvCredentials {
    Token(String, String),
    /// Client id, secret, API host.
    OAuth(String, String, String),
}

/// The credentials the environment names (a developer token first, then an OAuth
/// client), or why it names none.
fn env_credentials() -> PyResult<EnvCredentials> {
    let instance = env_var("DOMO_INSTANCE");
    let token = env_var("DOMO_TOKEN");
    let client_id = env_var("DOMO_CLIENT_ID");
    let secret = env_var("DOMO_CLIENT_SECRET");
    if instance.is_none() && token.is_none() {
        let host = env_var("DOMO_API_HOST").unwrap_or_else(|| domo_core::DEFAULT_API_HOST.into());
        match (client_id, secret) {
            (Some(id), Some(secret)) => return Ok(EnvCredentials::OAuth(id, secret, host)),
            (Some(_), None) => {
                return Err(PyValueError::new_err(
                    "DOMO_CLIENT_ID is set but DOMO_CLIENT_SECRET is not; set both for an \
                     OAuth client",
                ));
            }
            (None, Some(_)) => {
                return Err(PyValueError::new_err(
                    "DOMO_CLIENT_SECRET is set but DOMO_CLIENT_ID is not; set both for an \
                     OAuth client",
                ));
            }
            (None, None) => {}
        }
    }
    match (instance, token) {
        (Some(instance), Some(token)) => Ok(EnvCredentials::Token(instance, token)),
        (Some(_), None) => Err(PyValueError::new_err(
            "DOMO_INSTANCE is set but DOMO_TOKEN is not; set DOMO_TOKEN to a developer token",
        )),
        (None, Some(_)) => Err(PyValueError::new_err(
            "DOMO_TOKEN is set but DOMO_INSTANCE is not; set DOMO_INSTANCE to an instance \
             name (acme) or a base URL",
        )),
        (None, None) => Err(PyValueError::new_err(
            "no Domo credentials in the environment: set DOMO_INSTANCE (an instance name or \
             a base URL) and DOMO_TOKEN (a developer token), or DOMO_CLIENT_ID and \
             DOMO_CLIENT_SECRET (an OAuth client of the public API; DOMO_API_HOST optional, \
             api.domo.com by default)",
        )),
    }
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (instance, *, token=None, session_token=None, connect_timeout=10.0, read_timeout=300.0, deadline=None, max_answer_bytes=2147483648, max_record_bytes=67108864, max_retries=5, retry_max_elapsed=120.0, verify_tls=true, user_agent=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        instance: &str,
        token: Option<String>,
        session_token: Option<String>,
        connect_timeout: f64,
        read_timeout: f64,
        deadline: Option<f64>,
        max_answer_bytes: u64,
        max_record_bytes: u64,
        max_retries: u32,
        retry_max_elapsed: f64,
        verify_tls: bool,
        user_agent: Option<String>,
    ) -> PyResult<Self> {
        let credentials = match (token, session_token) {
            (Some(t), None) => Credentials::DeveloperToken(Secret::new(t).map_err(to_py)?),
            (None, Some(t)) => Credentials::SessionToken(Secret::new(t).map_err(to_py)?),
            (None, None) => {
                return Err(PyValueError::new_err(
                    "give token= (a developer token) or session_token=, or use Client.login()",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(PyValueError::new_err(
                    "give token= or session_token=, not both",
                ));
            }
        };
        let options = options(Settings {
            connect_timeout,
            read_timeout,
            deadline,
            max_answer_bytes,
            max_record_bytes,
            max_retries,
            retry_max_elapsed,
            verify_tls,
            user_agent,
        })?;
        let inner = domo_core::Client::new(instance, credentials, &options).map_err(to_py)?;
        Ok(PyClient { inner })
    }

    #[staticmethod]
    #[pyo3(signature = (instance, email, password, *, connect_timeout=10.0, read_timeout=300.0, deadline=None, max_answer_bytes=2147483648, max_record_bytes=67108864, max_retries=5, retry_max_elapsed=120.0, verify_tls=true, user_agent=None))]
    #[allow(clippy::too_many_arguments)]
    fn login(
        py: Python<'_>,
        instance: String,
        email: String,
        password: String,
        connect_timeout: f64,
        read_timeout: f64,
        deadline: Option<f64>,
        max_answer_bytes: u64,
        max_record_bytes: u64,
        max_retries: u32,
        retry_max_elapsed: f64,
        verify_tls: bool,
        user_agent: Option<String>,
    ) -> PyResult<Self> {
        let options = options(Settings {
            connect_timeout,
            read_timeout,
            deadline,
            max_answer_bytes,
            max_record_bytes,
            max_retries,
            retry_max_elapsed,
            verify_tls,
            user_agent,
        })?;
        let inner = block_on(py, async move {
            domo_core::Client::login(&instance, &email, &password, &options).await
        })?;
        Ok(PyClient { inner })
    }

    #[staticmethod]
    #[pyo3(signature = (instance, email, password, *, connect_timeout=10.0, read_timeout=300.0, deadline=None, max_answer_bytes=2147483648, max_record_bytes=67108864, max_retries=5, retry_max_elapsed=120.0, verify_tls=true, user_agent=None))]
    #[allow(clippy::too_many_arguments)]
    async fn login_async(
        instance: String,
        email: String,
        password: String,
        connect_timeout: f64,
        read_timeout: f64,
        deadline: Option<f64>,
        max_answer_bytes: u64,
        max_record_bytes: u64,
        max_retries: u32,
        retry_max_elapsed: f64,
        verify_tls: bool,
        user_agent: Option<String>,
    ) -> PyResult<Self> {
        let options = options(Settings {
            connect_timeout,
            read_timeout,
            deadline,
            max_answer_bytes,
            max_record_bytes,
            max_retries,
            retry_max_elapsed,
            verify_tls,
            user_agent,
        })?;
        let inner = spawn(async move {
            domo_core::Client::login(&instance, &email, &password, &options).await
        })
        .await?;
        Ok(PyClient { inner })
    }

    #[staticmethod]
    #[pyo3(signature = (*, connect_timeout=10.0, read_timeout=300.0, deadline=None, max_answer_bytes=2147483648, max_record_bytes=67108864, max_retries=5, retry_max_elapsed=120.0, verify_tls=true, user_agent=None))]
    #[allow(clippy::too_many_arguments)]
    fn from_env(
        connect_timeout: f64,
        read_timeout: f64,
        deadline: Option<f64>,
        max_answer_bytes: u64,
        max_record_bytes: u64,
        max_retries: u32,
        retry_max_elapsed: f64,
        verify_tls: bool,
        user_agent: Option<String>,
    ) -> PyResult<Self> {
        let (instance, token) = match env_credentials()? {
            EnvCredentials::Token(instance, token) => (instance, token),
            EnvCredentials::OAuth(id, secret, host) => {
                let options = options(Settings {
                    connect_timeout,
                    read_timeout,
                    deadline,
                    max_answer_bytes,
                    max_record_bytes,
                    max_retries,
                    retry_max_elapsed,
                    verify_tls,
                    user_agent,
                })?;
                let scopes = vec!["data".to_owned()];
                let inner = domo_core::Client::oauth(&id, &secret, &scopes, &host, &options)
                    .map_err(to_py)?;
                return Ok(PyClient { inner });
            }
        };
        Self::new(
            &instance,
            Some(token),
            None,
            connect_timeout,
            read_timeout,
            deadline,
            max_answer_bytes,
            max_record_bytes,
            max_retries,
            retry_max_elapsed,
            verify_tls,
            user_agent,
        )
    }

    #[getter]
    fn base_url(&self) -> &str {
        self.inner.base_url()
    }

    fn __repr__(&self) -> String {
        let auth = match self.inner.credentials() {
            Credentials::DeveloperToken(_) => "developer token",
            Credentials::SessionToken(_) => "session token",
            Credentials::OAuth(_) => "OAuth client",
            Credentials::None => "no credentials",
        };
        format!("Client({:?}, {auth})", self.inner.base_url())
    }

    fn dataset(&self, dataset_id: &str) -> PyResult<PyDataset> {
        Ok(PyDataset::new(
            self.inner.dataset(dataset_id).map_err(to_py)?,
        ))
    }

    fn stream(&self, stream_id: u64) -> PyStream {
        PyStream {
            inner: self.inner.stream(stream_id),
        }
    }

    #[pyo3(
        signature = (name, *, provider, configuration=None, account=None, update_method="REPLACE".to_string(), transport=None, schedule=None, schema=None, description=None),
        text_signature = "(self, name, *, provider, configuration=None, account=None, update_method='REPLACE', transport=None, schedule=None, schema=None, description=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn create_stream<'py>(
        &self,
        py: Python<'py>,
        name: String,
        provider: String,
        configuration: Option<&Bound<'py, PyAny>>,
        account: Option<&Bound<'py, PyAny>>,
        update_method: String,
        transport: Option<&Bound<'py, PyAny>>,
        schedule: Option<&Bound<'py, PyAny>>,
        schema: Option<&Bound<'py, PyAny>>,
        description: Option<String>,
    ) -> PyResult<PyStream> {
        let spec = stream_spec(
            name,
            provider,
            configuration,
            account,
            update_method,
            transport,
            schedule,
            schema,
            description,
        )?;
        let client = self.inner.clone();
        let (inner, _) = block_on(py, async move { client.create_stream(&spec).await })?;
        Ok(PyStream { inner })
    }

    #[pyo3(
        signature = (name, *, provider, configuration=None, account=None, update_method="REPLACE".to_string(), transport=None, schedule=None, schema=None, description=None),
        text_signature = "(self, name, *, provider, configuration=None, account=None, update_method='REPLACE', transport=None, schedule=None, schema=None, description=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn create_stream_async(
        &self,
        name: String,
        provider: String,
        configuration: Option<Py<PyAny>>,
        account: Option<Py<PyAny>>,
        update_method: String,
        transport: Option<Py<PyAny>>,
        schedule: Option<Py<PyAny>>,
        schema: Option<Py<PyAny>>,
        description: Option<String>,
    ) -> PyResult<PyStream> {
        let spec = Python::attach(|py| {
            let b = |v: &Option<Py<PyAny>>| v.as_ref().map(|v| v.bind(py).clone());
            stream_spec(
                name,
                provider,
                b(&configuration).as_ref(),
                b(&account).as_ref(),
                update_method,
                b(&transport).as_ref(),
                b(&schedule).as_ref(),
                b(&schema).as_ref(),
                description,
            )
        })?;
        let client = self.inner.clone();
        let (inner, _) = spawn(async move { client.create_stream(&spec).await }).await?;
        Ok(PyStream { inner })
    }

    #[pyo3(signature = (name, schema, *, description=None))]
    fn create_dataset(
        &self,
        py: Python<'_>,
        name: String,
        schema: &Bound<'_, PyAny>,
        description: Option<String>,
    ) -> PyResult<PyDataset> {
        let columns = columns_from_py(schema)?;
        let client = self.inner.clone();
        let ds = block_on(py, async move {
            client
                .create_dataset(&name, &columns, description.as_deref())
                .await
        })?;
        Ok(PyDataset::new(ds))
    }

    #[pyo3(signature = (name, schema, *, description=None))]
    async fn create_dataset_async(
        &self,
        name: String,
        schema: Py<PyAny>,
        description: Option<String>,
    ) -> PyResult<PyDataset> {
        let columns = Python::attach(|py| columns_from_py(schema.bind(py)))?;
        let client = self.inner.clone();
        let ds = spawn(async move {
            client
                .create_dataset(&name, &columns, description.as_deref())
                .await
        })
        .await?;
        Ok(PyDataset::new(ds))
    }

    #[pyo3(signature = (*, name_like=None, sort=None, limit=None))]
    fn datasets<'py>(
        &self,
        py: Python<'py>,
        name_like: Option<String>,
        sort: Option<String>,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let client = self.inner.clone();
        let items = block_on(py, async move {
            client
                .datasets(name_like.as_deref(), sort.as_deref(), limit)
                .await
        })?;
        list_to_py(py, &items)
    }

    #[pyo3(signature = (*, name_like=None, sort=None, limit=None))]
    async fn datasets_async(
        &self,
        name_like: Option<String>,
        sort: Option<String>,
        limit: Option<usize>,
    ) -> PyResult<Py<PyList>> {
        let client = self.inner.clone();
        let items = spawn(async move {
            client
                .datasets(name_like.as_deref(), sort.as_deref(), limit)
                .await
        })
        .await?;
        list_to_owned(&items)
    }

    #[pyo3(signature = (*, name_like=None, sort=None, limit=None))]
    fn datasets_table(
        &self,
        py: Python<'_>,
        name_like: Option<String>,
        sort: Option<String>,
        limit: Option<usize>,
    ) -> PyResult<PyDomoTable> {
        let client = self.inner.clone();
        let items = block_on(py, async move {
            client
                .datasets(name_like.as_deref(), sort.as_deref(), limit)
                .await
        })?;
        PyDomoTable::from_records(&items, DATASET_COLUMNS)
    }

    #[pyo3(signature = (*, name_like=None, sort=None, limit=None))]
    async fn datasets_table_async(
        &self,
        name_like: Option<String>,
        sort: Option<String>,
        limit: Option<usize>,
    ) -> PyResult<PyDomoTable> {
        let client = self.inner.clone();
        let items = spawn(async move {
            client
                .datasets(name_like.as_deref(), sort.as_deref(), limit)
                .await
        })
        .await?;
        PyDomoTable::from_records(&items, DATASET_COLUMNS)
    }

    fn dataset_by_name(&self, py: Python<'_>, name: String) -> PyResult<PyDataset> {
        let client = self.inner.clone();
        let ds = block_on(py, async move { client.dataset_by_name(&name).await })?;
        Ok(PyDataset::new(ds))
    }

    async fn dataset_by_name_async(&self, name: String) -> PyResult<PyDataset> {
        let client = self.inner.clone();
        let ds = spawn(async move { client.dataset_by_name(&name).await }).await?;
        Ok(PyDataset::new(ds))
    }
}
