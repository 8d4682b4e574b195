//! `Client.oauth`: a client of Domo's public API that authenticates with an OAuth client
//! id and secret.

use pyo3::prelude::*;

use crate::client::{PyClient, Settings, options};
use crate::errors::to_py;
use crate::runtime::{block_on, spawn};

fn oauth_client(
    client_id: &str,
    client_secret: &str,
    scopes: &[String],
    api_host: &str,
    settings: Settings,
) -> PyResult<domo_core::Client> {
    let options = options(settings)?;
    domo_core::Client::oauth(client_id, client_secret, scopes, api_host, &options).map_err(to_py)
}

#[pymethods]
impl PyClient {
    /// A client of Domo's public API (`api_host`: a host name, `api.domo.com` by default,
    /// or a base URL such as `http://127.0.0.1:8080`) with OAuth client credentials. An
    /// access token is obtained here (wrong credentials fail here), kept, and renewed
    /// before it expires or when Domo refuses it. Neither the secret nor the token is
    /// shown in a repr, a log or an error.
    #[staticmethod]
    #[pyo3(signature = (client_id, client_secret, *, scopes=vec!["data".to_string()], api_host=domo_core::DEFAULT_API_HOST.to_string(), connect_timeout=10.0, read_timeout=300.0, deadline=None, max_answer_bytes=2147483648, max_record_bytes=67108864, max_retries=5, retry_max_elapsed=120.0, verify_tls=true, user_agent=None))]
    #[allow(clippy::too_many_arguments)]
    fn oauth(
        py: Python<'_>,
        client_id: String,
        client_secret: String,
        scopes: Vec<String>,
        api_host: String,
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
        let inner = oauth_client(
            &client_id,
            &client_secret,
            &scopes,
            &api_host,
            Settings {
                connect_timeout,
                read_timeout,
                deadline,
                max_answer_bytes,
                max_record_bytes,
                max_retries,
                retry_max_elapsed,
                verify_tls,
                user_agent,
            },
        )?;
        let client = inner.clone();
        block_on(py, async move { client.authenticate().await })?;
        Ok(PyClient { inner })
    }

    /// `Client.oauth`, awaited.
    #[staticmethod]
    #[pyo3(signature = (client_id, client_secret, *, scopes=vec!["data".to_string()], api_host=domo_core::DEFAULT_API_HOST.to_string(), connect_timeout=10.0, read_timeout=300.0, deadline=None, max_answer_bytes=2147483648, max_record_bytes=67108864, max_retries=5, retry_max_elapsed=120.0, verify_tls=true, user_agent=None))]
    #[allow(clippy::too_many_arguments)]
    async fn oauth_async(
        client_id: String,
        client_secret: String,
        scopes: Vec<String>,
        api_host: String,
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
        let inner = oauth_client(
            &client_id,
            &client_secret,
            &scopes,
            &api_host,
            Settings {
                connect_timeout,
                read_timeout,
                deadline,
                max_answer_bytes,
                max_record_bytes,
                max_retries,
                retry_max_elapsed,
                verify_tls,
                user_agent,
            },
        )?;
        let client = inner.clone();
        spawn(async move { client.authenticate().await }).await?;
        Ok(PyClient { inner })
    }
}
