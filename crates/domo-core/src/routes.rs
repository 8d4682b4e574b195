//! Every route prefix domo-core sends requests to, named once, grouped by the API it
//! belongs to: the instance API (`https://{instance}.domo.com/api/...`, developer or
//! session tokens) and the public API (`https://api.domo.com/...`, OAuth clients).
//! Modules add what follows a prefix (a dataset id, `parts/3`); none spells a prefix.

/// The instance API's routes.
pub(crate) mod instance {
    /// `POST` a login for a session token.
    pub(crate) const AUTHENTICATION: &[&str] = &["api", "content", "v2", "authentication"];
    /// Cards built on a dataset.
    pub(crate) const CONTENT_DATASOURCES: &[&str] = &["api", "content", "v1", "datasources"];
    /// Metadata, uploads, permissions, properties, indexes, deletion.
    pub(crate) const DATASOURCES_V3: &[&str] = &["api", "data", "v3", "datasources"];
    /// Creation, schemas, exports, history.
    pub(crate) const DATASOURCES_V2: &[&str] = &["api", "data", "v2", "datasources"];
    /// Tags.
    pub(crate) const DATASOURCES_UI_V3: &[&str] = &["api", "data", "ui", "v3", "datasources"];
    /// Schemas as queries see them, partitions, data versions.
    pub(crate) const QUERY_DATASOURCES: &[&str] = &["api", "query", "v1", "datasources"];
    /// `POST` a SQL query.
    pub(crate) const QUERY_EXECUTE: &[&str] = &["api", "query", "v1", "execute"];
    /// The Data Center search.
    pub(crate) const SEARCH: &[&str] = &["api", "search", "v1", "query"];
    /// Connector streams.
    pub(crate) const STREAMS: &[&str] = &["api", "data", "v1", "streams"];
}

/// The public API's routes.
pub(crate) mod public {
    /// `/oauth/token`: an access token for client credentials.
    pub(crate) const OAUTH_TOKEN: &[&str] = &["oauth", "token"];
    /// Datasets, their data, queries and PDP policies.
    pub(crate) const DATASETS: &[&str] = &["v1", "datasets"];
    /// Streams, their executions and parts.
    pub(crate) const STREAMS: &[&str] = &["v1", "streams"];
}
