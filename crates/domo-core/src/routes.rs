//! Every route of Domo's APIs that the client calls, named once with the API that serves
//! it. Modules build URLs from these names (plus an id and a suffix), never from path
//! segments of their own.

/// Which of Domo's APIs serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `https://{instance}.domo.com/api/...`, for developer and session tokens.
    Instance,
    /// `https://api.domo.com/v1/...`, for OAuth access tokens.
    Public,
}

/// A route's path up to where an id (or the rest of the path) follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub api: Api,
    pub path: &'static [&'static str],
}

const fn instance(path: &'static [&'static str]) -> Route {
    Route {
        api: Api::Instance,
        path,
    }
}

const fn public(path: &'static [&'static str]) -> Route {
    Route {
        api: Api::Public,
        path,
    }
}

/// Datasets: metadata, properties, access, indexes, uploads, data versions, deletion.
pub const DATASOURCES: Route = instance(&["api", "data", "v3", "datasources"]);
/// Datasets, older routes: creation, export, schema changes, copies.
pub const DATASOURCES_V2: Route = instance(&["api", "data", "v2", "datasources"]);
/// A dataset's tags.
pub const UI_DATASOURCES: Route = instance(&["api", "data", "ui", "v3", "datasources"]);
/// The query service's view of a dataset: schema, partitions, tagged data.
pub const QUERY_DATASOURCES: Route = instance(&["api", "query", "v1", "datasources"]);
/// SQL against a dataset.
pub const QUERY_EXECUTE: Route = instance(&["api", "query", "v1", "execute"]);
/// The cards built on a dataset.
pub const CONTENT_DATASOURCES: Route = instance(&["api", "content", "v1", "datasources"]);
/// Logging in with an email and password.
pub const AUTHENTICATION: Route = instance(&["api", "content", "v2", "authentication"]);
/// Connector streams and their executions.
pub const STREAMS: Route = instance(&["api", "data", "v1", "streams"]);
/// Data versions of a dataset chosen by an expression (Magic ETL's version window).
pub const VERSION_HYDRATE: Route = instance(&[
    "api",
    "dataprocessing",
    "v2",
    "dataflows",
    "data-version-hydrate",
]);
/// The datacenter's search, for listing datasets.
pub const SEARCH: Route = instance(&["api", "search", "v1", "query"]);

/// An OAuth client's access token (client credentials, HTTP Basic).
pub const OAUTH_TOKEN: Route = public(&["oauth", "token"]);
/// Datasets through the public API: metadata, query, export, policies, deletion.
pub const PUBLIC_DATASETS: Route = public(&["v1", "datasets"]);
/// Streams and their executions through the public API (uploads of an OAuth client).
pub const PUBLIC_STREAMS: Route = public(&["v1", "streams"]);
