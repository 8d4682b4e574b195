//! The Domo Datasets API client in plain Rust: transport (auth, retries, errors), one
//! module per API area, and the Arrow codecs. Knows nothing of Python.

pub mod access;
pub mod alter;
pub mod answers;
pub mod batches;
pub mod client;
pub mod codec;
pub mod datasets;
pub mod error;
pub mod export;
pub mod indexes;
pub mod oauth;
pub mod policies;
pub mod progress;
pub mod properties;
pub mod public;
pub mod query_pages;
pub mod retry;
pub mod routes;
pub mod schema_check;
pub mod search;
pub mod streams;
pub mod tags;
pub mod transport;
pub mod types;
pub mod upload;
pub mod value_rules;
pub mod versions;

pub use access::Permission;
pub use alter::ColumnChange;
pub use batches::BatchStream;
pub use client::Client;
pub use datasets::{Dataset, QueryAnswer};
pub use error::{ApiError, ApiErrorKind, Error, RequestInfo, Result};
pub use oauth::{DEFAULT_API_HOST, OAuth};
pub use progress::{CallbackError, ReadProgress, ReadProgressFn};
pub use retry::RetryPolicy;
pub use streams::Stream;
pub use transport::{
    ClientOptions, Credentials, DEFAULT_MAX_ANSWER_BYTES, DEFAULT_MAX_RECORD_BYTES, MAX_REDIRECTS,
    Secret, VERSION,
};
pub use types::{Column, DomoType};
pub use upload::{
    PartitionParam, ProgressFn, UploadMode, UploadOptions, UploadProgress, UploadSource,
    UploadSummary,
};
