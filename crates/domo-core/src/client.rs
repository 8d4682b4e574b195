//! `Client` (one instance, one connection pool) and login.

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::oauth::OAuth;
use crate::routes;
use crate::streams::Stream;
use crate::transport::{Call, ClientOptions, Credentials, Secret, Transport};
use crate::types::{Column, validate_columns};

/// A connection to one Domo instance. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) transport: Arc<Transport>,
}

impl Client {
    /// A client for `instance` (a name such as `acme`, or a base URL).
    pub fn new(
        instance: &str,
        credentials: Credentials,
        options: &ClientOptions,
    ) -> Result<Client> {
        Ok(Client {
            transport: Arc::new(Transport::new(instance, credentials, options)?),
        })
    }

    /// Logs in with email and password and returns a client that uses the session token.
    pub async fn login(
        instance: &str,
        email: &str,
        password: &str,
        options: &ClientOptions,
    ) -> Result<Client> {
        if email.trim().is_empty() {
            return Err(Error::invalid("email is empty"));
        }
        if password.is_empty() {
            return Err(Error::invalid("password is empty"));
        }
        let anonymous = Transport::new(instance, Credentials::None, options)?;
        let url = anonymous.url(&routes::AUTHENTICATION, &[], &[]);
        // Logging in twice is harmless, so a lost answer may be retried.
        let call = Call::new(Method::POST, url)
            .json(&json!({
                "method": "password",
                "emailAddress": email,
                "password": password,
            }))?
            .idempotent();

        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct LoginAnswer {
            #[serde(default)]
            success: Option<bool>,
            session_token: Option<String>,
            reason: Option<String>,
        }
        // The password is the secret here: a server echoing it must not put it in an error.
        let answer: LoginAnswer = anonymous.json(&call).await.map_err(|e| e.scrub(password))?;
        match (answer.success, answer.session_token) {
            (Some(true) | None, Some(token)) if !token.is_empty() => Client::new(
                instance,
                Credentials::SessionToken(Secret::new(token)?),
                options,
            ),
            _ => Err(Error::LoginRefused {
                reason: answer
                    .reason
                    .unwrap_or_else(|| "no session token in the answer".into()),
                request: call.info(),
            }
            .scrub(password)),
        }
    }

    /// A client of Domo's public API (`api_host`: `api.domo.com`, or a base URL) that
    /// authenticates with an OAuth client id and secret. The access token is obtained on
    /// the first request, kept, and renewed before it expires or when Domo refuses it.
    pub fn oauth(
        client_id: &str,
        client_secret: &str,
        scopes: &[String],
        api_host: &str,
        options: &ClientOptions,
    ) -> Result<Client> {
        let oauth = OAuth::new(client_id, client_secret, scopes)?;
        Client::new(api_host, Credentials::OAuth(Arc::new(oauth)), options)
    }

    /// Obtains an access token now (an OAuth client), so that wrong credentials fail
    /// here; other clients have nothing to obtain.
    pub async fn authenticate(&self) -> Result<()> {
        self.transport.authenticate().await
    }

    /// Whether this client speaks to the public API (an OAuth client).
    pub fn is_public_api(&self) -> bool {
        self.transport.credentials().is_public_api()
    }

    pub fn base_url(&self) -> &str {
        self.transport.base_url()
    }

    pub fn credentials(&self) -> &Credentials {
        self.transport.credentials()
    }

    /// A handle on an existing dataset; sends nothing.
    pub fn dataset(&self, id: &str) -> Result<Dataset> {
        Dataset::new(self.clone(), id)
    }

    /// A handle on an existing stream; sends nothing.
    pub fn stream(&self, id: u64) -> Stream {
        Stream::new(self.clone(), id)
    }

    /// Creates an empty dataset with these columns.
    pub async fn create_dataset(
        &self,
        name: &str,
        columns: &[Column],
        description: Option<&str>,
    ) -> Result<Dataset> {
        if self.is_public_api() {
            return self.public_create_dataset(name, columns, description).await;
        }
        if name.trim().is_empty() {
            return Err(Error::invalid("the dataset name is empty"));
        }
        validate_columns(columns)?;
        let url = self.transport.url(&routes::DATASOURCES_V2, &[], &[]);
        let mut body = json!({
            "userDefinedType": "api",
            "dataSourceName": name,
            "schema": { "columns": columns },
        });
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        let call = Call::new(Method::POST, url).json(&body)?.once();

        // The live service nests the new dataset under `dataSource`; older answers and
        // other deployments give it flat. Either carries `dataSourceId` or `id`.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Ids {
            data_source_id: Option<String>,
            id: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            data_source: Option<Ids>,
            #[serde(flatten)]
            flat: Ids,
        }
        let created: Created = self.transport.json(&call).await?;
        let nested = created.data_source.and_then(|d| d.data_source_id.or(d.id));
        let id = nested
            .or(created.flat.data_source_id)
            .or(created.flat.id)
            .ok_or_else(|| Error::UnexpectedResponse {
                message: "Domo created the dataset but did not say its id".into(),
                status: 200,
                request: call.info(),
                body: None,
            })?;
        self.dataset(&id)
    }
}
