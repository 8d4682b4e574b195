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

mod admin;
mod auth;
mod csv;
mod errors;
mod manage;
mod public;
mod routes;
mod search;
mod server;
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
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};

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
    /// `None` keeps everything in memory; `Some(dir)` keeps it in `dir/domo.sqlite`,
    /// surviving restarts.
    pub data_dir: Option<PathBuf>,
    /// The developer token accepted in `X-DOMO-Developer-Token`.
    pub token: String,
    /// The one user who can log in with a password.
    pub email: String,
    pub password: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 0,
            data_dir: None,
            token: "local-domo-token".into(),
            email: "admin@local.domo".into(),
            password: "local-domo-password".into(),
        }
    }
}

/// The HTTP application over `state`: the instance API under `/api`, the public API
/// under `/oauth` and `/v1`, and the admin routes under `/_emulator`. `Emulator::start` serves this; dropped-connection faults need
/// that server and answer 502 under any other.
pub fn router(state: AppState) -> Router {
    const DS3: &str = "/api/data/v3/datasources/{id}";
    const DS2: &str = "/api/data/v2/datasources/{id}";
    Router::new()
        .route("/api/content/v2/authentication", post(routes::login))
        .route("/api/data/v2/datasources", post(routes::create_dataset))
        .route("/api/search/v1/query", post(search::query))
        .route(DS3, get(routes::get_dataset).delete(routes::delete_dataset))
        .route(
            "/api/query/v1/datasources/{id}/schema/indexed",
            get(routes::schema),
        )
        .route("/api/query/v1/execute/{id}", post(routes::query))
        .route(&format!("{DS3}/uploads"), post(routes::start_upload))
        .route(&format!("{DS3}/uploads/"), post(routes::start_upload))
        .route(
            &format!("{DS3}/uploads/{{upload}}/parts/{{part}}"),
            put(routes::put_part),
        )
        .route(
            &format!("{DS3}/uploads/{{upload}}/commit"),
            put(routes::commit),
        )
        .route(
            &format!("{DS3}/permissions"),
            get(manage::get_permissions).put(manage::put_permissions),
        )
        .route(
            &format!("{DS3}/permissions/{{kind}}/{{entity}}"),
            delete(manage::revoke),
        )
        .route(&format!("{DS3}/share"), post(manage::share))
        .route(
            &format!("{DS3}/USERS/{{user}}"),
            delete(manage::remove_user),
        )
        .route(&format!("{DS3}/users"), delete(manage::remove_users))
        .route(
            &format!("{DS3}/owner"),
            get(manage::get_owner).put(manage::put_owner),
        )
        .route(&format!("{DS3}/properties"), put(manage::set_properties))
        .route(DS2, get(manage::details))
        .route(&format!("{DS2}/copy/status"), get(manage::copy_status))
        .route(&format!("{DS2}/copy/log"), get(manage::copy_log))
        .route(&format!("{DS2}/history"), get(manage::history))
        .route(&format!("{DS2}/schemas"), post(manage::alter_schema))
        .route(
            &format!("{DS2}/data"),
            get(manage::get_data).put(manage::put_data),
        )
        .route(
            &format!("{DS2}/query"),
            get(manage::get_query).put(manage::put_query),
        )
        .route(
            &format!("{DS2}/sql"),
            get(manage::get_sql).put(manage::put_sql),
        )
        .route(&format!("{DS2}/dataflow"), get(manage::dataflow))
        .route(
            "/api/data/ui/v3/datasources/{id}/tags",
            get(manage::get_tags)
                .post(manage::add_tags)
                .delete(manage::remove_tags),
        )
        .route("/api/content/v1/datasources/{id}/cards", get(manage::cards))
        .route(
            "/api/data/v2/datasources/{id}/dataversions/latest",
            get(routes::export),
        )
        .route("/oauth/token", get(public::token).post(public::token))
        .route(
            "/v1/datasets",
            get(public::list_datasets).post(public::create_dataset),
        )
        .route(
            "/v1/datasets/{id}",
            get(public::get_dataset)
                .put(public::update_dataset)
                .delete(public::delete_dataset),
        )
        .route(
            "/v1/datasets/{id}/data",
            get(public::export).put(public::import),
        )
        // Same handler as the instance route: same SQL, same answer.
        .route("/v1/datasets/query/execute/{id}", post(routes::query))
        // pydomo creates and lists streams at "/v1/streams/", with the slash.
        .route(
            "/v1/streams",
            get(public::list_streams).post(public::create_stream),
        )
        .route(
            "/v1/streams/",
            get(public::list_streams).post(public::create_stream),
        )
        .route("/v1/streams/search", get(public::search_streams))
        .route(
            "/v1/streams/{id}",
            get(public::get_stream)
                .patch(public::update_stream)
                .delete(public::delete_stream),
        )
        .route(
            "/v1/streams/{id}/executions",
            get(public::list_executions).post(public::create_execution),
        )
        .route(
            "/v1/streams/{id}/executions/abort",
            put(public::abort_current_execution),
        )
        .route(
            "/v1/streams/{id}/executions/{eid}",
            get(public::get_execution),
        )
        .route(
            "/v1/streams/{id}/executions/{eid}/part/{part}",
            put(public::put_part),
        )
        .route(
            "/v1/streams/{id}/executions/{eid}/commit",
            put(public::commit_execution),
        )
        .route(
            "/v1/streams/{id}/executions/{eid}/abort",
            put(public::abort_execution),
        )
        .merge(versions::routes())
        .route("/_emulator/reset", post(admin::reset))
        .route("/_emulator/state", get(admin::state))
        .route("/_emulator/users", post(manage::add_user))
        .route("/_emulator/cards", post(manage::add_card))
        .route("/_emulator/dataflows", post(manage::set_dataflow))
        .route(
            "/_emulator/faults",
            post(admin::add_fault)
                .get(admin::list_faults)
                .delete(admin::clear_faults),
        )
        .route(
            "/_emulator/requests",
            get(admin::requests).delete(admin::clear_requests),
        )
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin::layer,
        ))
        .layer(DefaultBodyLimit::max(admin::BODY_LIMIT))
        .with_state(state)
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
