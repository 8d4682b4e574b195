//! `Client`: settings from Python, login, and handles on datasets and streams.

mod oauth;

use domo_core::search::DATASET_COLUMNS;
use domo_core::{ClientOptions, Credentials, RetryPolicy, Secret};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::from_py::{Columns, Json, seconds};
use crate::convert::to_py;
use crate::dataset::PyDataset;
use crate::errors::PyDomoResult;
use crate::results::PyDomoTable;
use crate::runtime::twins;
use crate::stream::{PyStream, StreamArgs};

#[doc = stub_doc!(Client)]
#[pyclass(module = "domo_datasets._domo", name = "Client", frozen, weakref)]
#[derive(Clone)]
pub struct PyClient {
    pub inner: domo_core::Client,
}

impl From<domo_core::Client> for PyClient {
    fn from(inner: domo_core::Client) -> Self {
        PyClient { inner }
    }
}

/// The settings every way of making a client takes, as Python gives them.
pub(crate) struct Settings {
    connect_timeout: f64,
    read_timeout: f64,
    deadline: Option<f64>,
    max_answer_bytes: u64,
    max_record_bytes: u64,
    max_retries: u32,
    retry_max_elapsed: f64,
    verify_tls: bool,
    user_agent: Option<String>,
}

impl Settings {
    pub(crate) fn into_options(self) -> PyResult<ClientOptions> {
        Ok(ClientOptions {
            connect_timeout: seconds("connect_timeout", self.connect_timeout)?,
            read_timeout: seconds("read_timeout", self.read_timeout)?,
            deadline: self.deadline.map(|d| seconds("deadline", d)).transpose()?,
            max_answer_bytes: self.max_answer_bytes,
            max_record_bytes: self.max_record_bytes,
            retry: RetryPolicy {
                max_retries: self.max_retries,
                max_elapsed: seconds("retry_max_elapsed", self.retry_max_elapsed)?,
                ..RetryPolicy::default()
            },
            verify_tls: self.verify_tls,
            user_agent: self.user_agent,
        })
    }
}

/// A variable of the environment, if set to something other than blanks.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Credentials the environment names.
enum EnvCredentials {
    /// Instance, developer token.
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

fn credentials(token: Option<String>, session_token: Option<String>) -> PyDomoResult<Credentials> {
    match (token, session_token) {
        (Some(t), None) => Ok(Credentials::DeveloperToken(Secret::new(t)?)),
        (None, Some(t)) => Ok(Credentials::SessionToken(Secret::new(t)?)),
        (None, None) => Err(PyValueError::new_err(
            "give token= (a developer token) or session_token=, or use Client.login()",
        )
        .into()),
        (Some(_), Some(_)) => {
            Err(PyValueError::new_err("give token= or session_token=, not both").into())
        }
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
    ) -> PyDomoResult<Self> {
        let credentials = credentials(token, session_token)?;
        let options = Settings {
            connect_timeout,
            read_timeout,
            deadline,
            max_answer_bytes,
            max_record_bytes,
            max_retries,
            retry_max_elapsed,
            verify_tls,
            user_agent,
        }
        .into_options()?;
        Ok(domo_core::Client::new(instance, credentials, &options)?.into())
    }

    #[doc = stub_doc!(Client, from_env)]
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
    ) -> PyDomoResult<Self> {
        let settings = Settings {
            connect_timeout,
            read_timeout,
            deadline,
            max_answer_bytes,
            max_record_bytes,
            max_retries,
            retry_max_elapsed,
            verify_tls,
            user_agent: user_agent.clone(),
        };
        let (instance, token) = match env_credentials()? {
            EnvCredentials::Token(instance, token) => (instance, token),
            EnvCredentials::OAuth(id, secret, host) => {
                let scopes = vec!["data".to_owned()];
                return Ok(oauth::oauth_client(&id, &secret, &scopes, &host, settings)?.into());
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

    #[doc = stub_doc!(Client, base_url)]
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

    #[doc = stub_doc!(Client, dataset)]
    fn dataset(&self, dataset_id: &str) -> PyDomoResult<PyDataset> {
        Ok(self.inner.dataset(dataset_id)?.into())
    }

    #[doc = stub_doc!(Client, stream)]
    fn stream(&self, stream_id: u64) -> PyStream {
        self.inner.stream(stream_id).into()
    }
}

twins! {
    impl PyClient as Client {
        #[pyo3(signature = (instance, email, password, *, connect_timeout=10.0, read_timeout=300.0, deadline=None, max_answer_bytes=2147483648, max_record_bytes=67108864, max_retries=5, retry_max_elapsed=120.0, verify_tls=true, user_agent=None))]
        static fn login / login_async(
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
        ) -> PyClient {
            let options = Settings {
                connect_timeout,
                read_timeout,
                deadline,
                max_answer_bytes,
                max_record_bytes,
                max_retries,
                retry_max_elapsed,
                verify_tls,
                user_agent,
            }
            .into_options()?;
            async move { domo_core::Client::login(&instance, &email, &password, &options).await }
        }
    }
}

twins! {
    impl PyClient as Client {
        #[pyo3(
            signature = (name, *, provider, configuration=None, account=None, update_method="REPLACE".to_string(), transport=None, schedule=None, schema=None, description=None),
            text_signature = "(self, name, *, provider, configuration=None, account=None, update_method='REPLACE', transport=None, schedule=None, schema=None, description=None)"
        )]
        fn create_stream / create_stream_async(
            &self,
            name: String,
            provider: String,
            configuration: Option<Json>,
            account: Option<Json>,
            update_method: String,
            transport: Option<Json>,
            schedule: Option<Json>,
            schema: Option<Columns>,
            description: Option<String>,
        ) -> PyStream {
            let spec = StreamArgs {
                name,
                provider,
                configuration,
                account,
                update_method,
                transport,
                schedule,
                schema,
                description,
            }
            .into_spec()?;
            let client = self.inner.clone();
            async move { client.create_stream(&spec).await.map(|(stream, _)| stream) }
        }

        #[pyo3(signature = (name, schema, *, description=None))]
        fn create_dataset / create_dataset_async(
            &self,
            name: String,
            schema: Columns,
            description: Option<String>,
        ) -> PyDataset {
            let client = self.inner.clone();
            async move {
                client
                    .create_dataset(&name, &schema.0, description.as_deref())
                    .await
            }
        }

        #[pyo3(signature = (*, name_like=None, sort=None, limit=None))]
        fn datasets / datasets_async(
            &self,
            name_like: Option<String>,
            sort: Option<String>,
            limit: Option<usize>,
        ) -> to_py::Json {
            let client = self.inner.clone();
            async move {
                client
                    .datasets(name_like.as_deref(), sort.as_deref(), limit)
                    .await
            }
        }

        #[pyo3(signature = (*, name_like=None, sort=None, limit=None))]
        fn datasets_table / datasets_table_async(
            &self,
            name_like: Option<String>,
            sort: Option<String>,
            limit: Option<usize>,
        ) -> PyDomoTable {
            let client = self.inner.clone();
            async move {
                let items = client
                    .datasets(name_like.as_deref(), sort.as_deref(), limit)
                    .await?;
                PyDomoTable::from_records(&items, DATASET_COLUMNS)
            }
        }

        fn dataset_by_name / dataset_by_name_async(&self, name: String) -> PyDataset {
            let client = self.inner.clone();
            async move { client.dataset_by_name(&name).await }
        }

        #[pyo3(signature = (dataset_id=None))]
        fn streams / streams_async(&self, dataset_id: Option<String>) -> to_py::Json {
            let client = self.inner.clone();
            async move { client.streams(dataset_id.as_deref()).await }
        }
    }
}
