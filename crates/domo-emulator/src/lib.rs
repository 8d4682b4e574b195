//! A local, faithful Domo for offline tests: the Datasets API over real HTTP, with real
//! state (SQLite), real SQL, real upload semantics, and fault injection.
//!
//! Written from the API spec independently of the client (`domo-core`), so a
//! misreading on one side is not mirrored on the other.
//!
//! Two APIs over one store, so a dataset made through either is seen by both:
//!
//! - The instance API under `/api/...`, authenticated by the developer token
//!   (`X-DOMO-Developer-Token: <Config::token>`) or a session token from password login
//!   (`Config::email` / `Config::password`).
//! - The public API (`api.domo.com`: `/oauth/token`, `/v1/datasets...`, `/v1/streams...`),
//!   what pydomo uses. Its OAuth client credentials are the same user's: **client id =
//!   `Config::email`, client secret = `Config::password`** (by default
//!   `admin@local.domo` / `local-domo-password`), sent as HTTP Basic to `GET` or
//!   `POST /oauth/token?grant_type=client_credentials[&scope=data ...]`. The answer's
//!   `access_token` is JWT-shaped with an `exp` claim (one hour) and is accepted as
//!   `Authorization: Bearer <token>` on `/v1`; `/v1/datasets` and `/v1/streams` need the
//!   `data` scope (403 otherwise), an unknown or expired token gets 401. Point pydomo at an
//!   emulator with
//!   `Domo(email, password, api_host="127.0.0.1:PORT", use_https=False)`.
//!
//! Every dataset has a stream (id `1000 + n`, the `streamId` the instance API reports),
//! whose executions are uploads with the same staging and commit semantics.

mod access;
mod admin;
mod auth;
mod csv;
mod digest;
mod encoding;
mod errors;
mod manage;
mod middleware;
mod policies;
mod public;
mod routes;
mod search;
mod server;
mod snapshot;
mod sql;
mod state;
mod store;
mod text;
mod types;
mod versions;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use serde_json::{Value as Json, json};

pub use errors::EmulatorError;
pub use state::AppState;

/// How long `stop` waits for the server thread before leaving it behind.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Interface to bind; default `127.0.0.1`.
    pub host: String,
    /// Port to bind; default 0 picks a free one.
    pub port: u16,
    /// `None` keeps everything for this process only (in a private temporary folder,
    /// removed when the emulator stops); `Some(dir)` keeps it in `dir/domo.sqlite`,
    /// surviving restarts.
    pub data_dir: Option<PathBuf>,
    /// The developer token accepted in `X-DOMO-Developer-Token`.
    pub token: String,
    /// The one user who can log in with a password.
    pub email: String,
    pub password: String,
}

/// The developer token a default `Config` accepts.
pub const DEFAULT_TOKEN: &str = "local-domo-token";
/// The email of the user who logs in with a password, by default.
pub const DEFAULT_EMAIL: &str = "admin@local.domo";
/// That user's password (also the OAuth client secret), by default.
pub const DEFAULT_PASSWORD: &str = "local-domo-password";

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 0,
            data_dir: None,
            token: DEFAULT_TOKEN.into(),
            email: DEFAULT_EMAIL.into(),
            password: DEFAULT_PASSWORD.into(),
        }
    }
}

/// The HTTP application over `state`: the instance API under `/api`, the public API
/// under `/oauth` and `/v1`, and the admin routes under `/_emulator`. `Emulator::start`
/// serves this; dropped-connection faults need that server and answer 502 under any other.
///
/// Every route is registered with the access it needs (see `access`): which path
/// parameter or body field names its dataset or stream, and at which level.
pub fn router(state: AppState) -> Router {
    let (routes, entries) = route_table(state.clone()).finish();
    let listing = Json::Array(
        entries
            .iter()
            .map(|e| json!({"method": e.method, "path": e.path, "access": e.access.to_json()}))
            .collect(),
    );
    let routes = routes
        // What the emulator serves and the access each route needs, so a test can walk
        // every route without keeping its own copy of the list.
        .route(
            "/_emulator/routes",
            get(move || {
                let listing = listing.clone();
                async move { errors::json_response(axum::http::StatusCode::OK, &listing) }
            }),
        )
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed);
    middleware::wrap(routes, &state).with_state(state)
}

/// Every route with the access it needs.
fn route_table(state: AppState) -> access::Table {
    use access::Access::{Admin, BodyDataset, Dataset, Open, Stream};
    use access::Level::{Edit, Own, View};
    const DS3: &str = "/api/data/v3/datasources/{id}";
    const DS2: &str = "/api/data/v2/datasources/{id}";
    const QDS: &str = "/api/query/v1/datasources/{id}";
    const STREAMS: &str = "/api/data/v1/streams";
    const PUB: &str = "/v1/streams/{id}";
    let ds = |l| Dataset("id", l);
    let p3 = |rest: &str| format!("{DS3}{rest}");
    let p2 = |rest: &str| format!("{DS2}{rest}");
    access::Table::new(state)
        .post("/api/content/v2/authentication", Open, routes::login)
        .post("/api/data/v2/datasources", Open, routes::create_dataset)
        // Each caller is answered only the datasets they may view.
        .post("/api/search/v1/query", Open, search::query)
        .get(DS3, ds(View), routes::get_dataset)
        .delete(DS3, ds(Own), routes::delete_dataset)
        .get(&format!("{QDS}/schema/indexed"), ds(View), routes::schema)
        .post("/api/query/v1/execute/{id}", ds(View), routes::query)
        .post(&p3("/uploads"), ds(Edit), routes::start_upload)
        .post(&p3("/uploads/"), ds(Edit), routes::start_upload)
        .put(
            &p3("/uploads/{upload}/parts/{part}"),
            ds(Edit),
            routes::put_part,
        )
        .put(&p3("/uploads/{upload}/commit"), ds(Edit), routes::commit)
        .get(&p3("/permissions"), ds(View), manage::get_permissions)
        .put(&p3("/permissions"), ds(Edit), manage::put_permissions)
        .delete(
            &p3("/permissions/{kind}/{entity}"),
            ds(Edit),
            manage::revoke,
        )
        .post(&p3("/share"), ds(Edit), manage::share)
        .delete(&p3("/USERS/{user}"), ds(Edit), manage::remove_user)
        .delete(&p3("/users"), ds(Edit), manage::remove_users)
        .get(&p3("/owner"), ds(View), manage::get_owner)
        .put(&p3("/owner"), ds(Own), manage::put_owner)
        .put(&p3("/properties"), ds(Edit), manage::set_properties)
        .get(DS2, ds(View), manage::details)
        .get(&p2("/copy/status"), ds(View), manage::copy_status)
        .get(&p2("/copy/log"), ds(View), manage::copy_log)
        .get(&p2("/history"), ds(View), manage::history)
        .post(&p2("/schemas"), ds(Edit), manage::alter_schema)
        .get(&p2("/data"), ds(View), manage::get_data)
        .put(&p2("/data"), ds(Edit), manage::put_data)
        .get(&p2("/query"), ds(View), manage::get_query)
        .put(&p2("/query"), ds(Edit), manage::put_query)
        .get(&p2("/sql"), ds(View), manage::get_sql)
        .put(&p2("/sql"), ds(Edit), manage::put_sql)
        .get(&p2("/dataflow"), ds(View), manage::dataflow)
        .get(
            "/api/data/ui/v3/datasources/{id}/tags",
            ds(View),
            manage::get_tags,
        )
        .post(
            "/api/data/ui/v3/datasources/{id}/tags",
            ds(Edit),
            manage::set_tags,
        )
        .delete(
            "/api/data/ui/v3/datasources/{id}/tags",
            ds(Edit),
            manage::remove_tags,
        )
        .get(
            "/api/content/v1/datasources/{id}/cards",
            ds(View),
            manage::cards,
        )
        .get(&p2("/dataversions/latest"), ds(View), routes::export)
        .get(
            &p3("/dataversions/details"),
            ds(View),
            versions::data_versions,
        )
        .get(&format!("{QDS}/partition"), ds(View), versions::partitions)
        .post(
            &format!("{QDS}/partition/list"),
            ds(View),
            versions::search_partitions,
        )
        .delete(
            &format!("{QDS}/partition/{{tag}}"),
            ds(Edit),
            versions::delete_partition,
        )
        .delete(
            &format!("{QDS}/tag/{{tag}}/data"),
            ds(Edit),
            versions::delete_data_version,
        )
        .post(
            "/api/dataprocessing/v2/dataflows/data-version-hydrate",
            BodyDataset("dataSourceId", View),
            versions::magic_versions,
        )
        .post(&p3("/indexes"), ds(Edit), versions::index)
        .put(&p3("/indexes/{index}"), ds(Edit), versions::reindex)
        .get(
            &p3("/indexes/{index}/statuses"),
            ds(View),
            versions::index_status,
        )
        .post(STREAMS, Open, versions::create_stream)
        .get(
            &format!("{STREAMS}/{{sid}}"),
            Stream("sid", View),
            versions::get_stream,
        )
        .put(
            &format!("{STREAMS}/{{sid}}"),
            Stream("sid", Edit),
            versions::update_stream,
        )
        .get(
            &format!("{STREAMS}/{{sid}}/history/aggregate"),
            Stream("sid", View),
            versions::history,
        )
        .post(
            &format!("{STREAMS}/{{sid}}/executions"),
            Stream("sid", Edit),
            versions::execute,
        )
        .get("/oauth/token", Open, public::token)
        .post("/oauth/token", Open, public::token)
        .get("/v1/datasets", Open, public::list_datasets)
        .post("/v1/datasets", Open, public::create_dataset)
        .get("/v1/datasets/{id}", ds(View), public::get_dataset)
        .put("/v1/datasets/{id}", ds(Edit), public::update_dataset)
        .delete("/v1/datasets/{id}", ds(Own), public::delete_dataset)
        .get("/v1/datasets/{id}/data", ds(View), public::export)
        .get("/v1/datasets/{id}/policies", ds(View), policies::list)
        .post("/v1/datasets/{id}/policies", ds(Own), policies::create)
        .get("/v1/datasets/{id}/policies/{pid}", ds(View), policies::get)
        .put(
            "/v1/datasets/{id}/policies/{pid}",
            ds(Own),
            policies::update,
        )
        .delete(
            "/v1/datasets/{id}/policies/{pid}",
            ds(Own),
            policies::delete,
        )
        .put("/v1/datasets/{id}/data", ds(Edit), public::import)
        // Same handler as the instance route: same SQL, same answer.
        .post("/v1/datasets/query/execute/{id}", ds(View), routes::query)
        // pydomo creates and lists streams at "/v1/streams/", with the slash.
        .get("/v1/streams", Open, public::list_streams)
        .post("/v1/streams", Open, public::create_stream)
        .get("/v1/streams/", Open, public::list_streams)
        .post("/v1/streams/", Open, public::create_stream)
        .get("/v1/streams/search", Open, public::search_streams)
        .get(PUB, Stream("id", View), public::get_stream)
        .patch(PUB, Stream("id", Edit), public::update_stream)
        .delete(PUB, Stream("id", Own), public::delete_stream)
        .get(
            &format!("{PUB}/executions"),
            Stream("id", View),
            public::list_executions,
        )
        .post(
            &format!("{PUB}/executions"),
            Stream("id", Edit),
            public::create_execution,
        )
        .put(
            &format!("{PUB}/executions/abort"),
            Stream("id", Edit),
            public::abort_current_execution,
        )
        .get(
            &format!("{PUB}/executions/{{eid}}"),
            Stream("id", View),
            public::get_execution,
        )
        .put(
            &format!("{PUB}/executions/{{eid}}/part/{{part}}"),
            Stream("id", Edit),
            public::put_part,
        )
        .put(
            &format!("{PUB}/executions/{{eid}}/commit"),
            Stream("id", Edit),
            public::commit_execution,
        )
        .put(
            &format!("{PUB}/executions/{{eid}}/abort"),
            Stream("id", Edit),
            public::abort_execution,
        )
        .post("/_emulator/reset", Admin, admin::reset)
        .post("/_emulator/snapshots", Admin, snapshot::save)
        .post("/_emulator/snapshots/restore", Admin, snapshot::restore)
        .get("/_emulator/state", Admin, admin::state)
        .post("/_emulator/users", Admin, manage::add_user)
        .post("/_emulator/cards", Admin, manage::add_card)
        .post("/_emulator/dataflows", Admin, manage::set_dataflow)
        .post("/_emulator/settings", Admin, versions::settings)
        .post("/_emulator/faults", Admin, admin::add_fault)
        .get("/_emulator/faults", Admin, admin::list_faults)
        .delete("/_emulator/faults", Admin, admin::clear_faults)
        .get("/_emulator/requests", Admin, admin::requests)
        .delete("/_emulator/requests", Admin, admin::clear_requests)
}

/// A running emulator. Stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    token: String,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    done: Option<mpsc::Receiver<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds the socket synchronously (so the port is known and connectable when this
    /// returns), then serves on a dedicated OS thread that owns its own tokio runtime.
    /// Works both inside and outside a tokio runtime.
    pub fn start(config: Config) -> Result<Emulator, EmulatorError> {
        let state = AppState::new(&config)?;
        let bind_addr = format!("{}:{}", config.host, config.port);
        let bind_err = |source| EmulatorError::Bind {
            addr: bind_addr.clone(),
            source,
        };
        // Hosts are given as in URLs: a bare IPv6 address needs its brackets.
        let listener = if config.host.contains(':') && !config.host.starts_with('[') {
            std::net::TcpListener::bind((config.host.as_str(), config.port))
        } else {
            std::net::TcpListener::bind(bind_addr.as_str())
        }
        .map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;

        let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), EmulatorError>>();
        let (done_tx, done_rx) = mpsc::channel();
        let app = router(state);
        // The runtime is built and dropped on the server thread only: dropping a runtime
        // on a thread that is itself inside an async context would panic.
        let thread = std::thread::Builder::new()
            .name("domo-emulator".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("domo-emulator-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(EmulatorError::Runtime(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => {
                            let _ = ready_tx.send(Ok(()));
                            server::serve(l, app, shutdown_rx).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(EmulatorError::Runtime(e)));
                        }
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
                let _ = done_tx.send(());
            })
            .map_err(EmulatorError::Runtime)?;
        match ready_rx.recv_timeout(STOP_TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = shutdown_tx.send(true);
                return Err(EmulatorError::Runtime(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the server thread did not start",
                )));
            }
        }
        tracing::info!(%addr, "domo emulator listening");
        Ok(Emulator {
            addr,
            token: config.token,
            shutdown: Some(shutdown_tx),
            done: Some(done_rx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, e.g. `http://127.0.0.1:8123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The developer token this emulator accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Graceful shutdown: stops accepting, lets in-flight requests finish (bounded), and
    /// joins the server thread. Idempotent.
    pub fn stop(&mut self) {
        let Some(shutdown) = self.shutdown.take() else {
            return;
        };
        let _ = shutdown.send(true);
        drop(shutdown);
        let finished = self
            .done
            .take()
            .is_some_and(|done| done.recv_timeout(STOP_TIMEOUT).is_ok());
        if let Some(thread) = self.thread.take() {
            if finished {
                let _ = thread.join();
            } else {
                tracing::warn!(
                    "emulator thread did not stop within {STOP_TIMEOUT:?}; detaching it"
                );
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layers tell API requests from admin ones by namespace; every route must be in
    /// the namespace its declared access implies, or it would escape authentication.
    #[test]
    fn every_route_is_in_its_namespace() {
        let state = AppState::new(&Config::default()).unwrap();
        let (_, entries) = route_table(state).finish();
        assert!(entries.len() > 50);
        for e in entries {
            if e.access == access::Access::Admin {
                assert!(middleware::is_admin(&e.path), "{} {}", e.method, e.path);
            } else {
                assert!(
                    middleware::api_of(&e.path).is_some(),
                    "{} {}",
                    e.method,
                    e.path
                );
            }
        }
    }
}
