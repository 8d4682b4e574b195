//! Our own accept loop over hyper. axum::serve would do, except that a fault rule must be
//! able to close a connection without answering, which needs a handle on each connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower_service::Service;

/// How long in-flight connections get to finish after a stop.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Per-connection handle, attached to every request as an extension.
pub(crate) struct ConnCtl {
    pub peer: SocketAddr,
    /// The address the connection came in on: its port is the one a `Host` must name.
    pub local: SocketAddr,
    kill: Notify,
}

impl ConnCtl {
    /// Closes the connection at once, without a response.
    pub fn kill(&self) {
        self.kill.notify_one();
    }
}

pub(crate) async fn serve(listener: TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            res = listener.accept() => match res {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve_conn(stream, peer, app.clone(), shutdown.clone()));
                }
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; aborting them");
        conns.abort_all();
    }
}

async fn serve_conn(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let ctl = Arc::new(ConnCtl {
        peer,
        local,
        kill: Notify::new(),
    });
    let req_ctl = ctl.clone();
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(req_ctl.clone());
        let mut app = app.clone();
        async move { app.call(req.map(Body::new)).await }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            // Dropping the connection future closes the socket with nothing written.
            _ = ctl.kill.notified() => return,
            changed = shutdown.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                } else {
                    // The server handle is gone: stop now.
                    return;
                }
            }
        }
    }
}
