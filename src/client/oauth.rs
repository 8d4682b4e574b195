//! `Client.oauth`: a client of Domo's public API that authenticates with an OAuth client
//! id and secret.

use crate::client::{PyClient, Settings};
use crate::errors::PyDomoResult;
use crate::runtime::twins;
use pyo3::prelude::*;

/// An OAuth client of the public API at `api_host`; nothing is sent yet.
pub(crate) fn oauth_client(
    client_id: &str,
    client_secret: &str,
    scopes: &[String],
    api_host: &str,
    settings: Settings,
) -> PyDomoResult<domo_core::Client> {
    let options = settings.into_options()?;
    Ok(domo_core::Client::oauth(
        client_id,
        client_secret,
        scopes,
        api_host,
        &options,
    )?)
}

twins! {
    impl PyClient as Client {
        #[pyo3(
            signature = (client_id, client_secret, *, scopes=vec!["data".to_string()], api_host=domo_core::DEFAULT_API_HOST.to_string(), connect_timeout=10.0, read_timeout=300.0, deadline=None, max_answer_bytes=2147483648, max_record_bytes=67108864, max_retries=5, retry_max_elapsed=120.0, verify_tls=true, user_agent=None),
            text_signature = "(client_id, client_secret, *, scopes=['data'], api_host='api.domo.com', connect_timeout=10.0, read_timeout=300.0, deadline=None, max_answer_bytes=2147483648, max_record_bytes=67108864, max_retries=5, retry_max_elapsed=120.0, verify_tls=True, user_agent=None)"
        )]
        static fn oauth / oauth_async(
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
        ) -> PyClient {
            let client = oauth_client(
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
            // The first token is asked for here, so that wrong credentials fail here.
            async move {
                client.authenticate().await?;
                Ok::<_, domo_core::Error>(client)
            }
        }
    }
}
