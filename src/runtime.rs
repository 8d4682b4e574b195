//! Running domo-core's futures from Python: one tokio runtime per process, blocking calls
//! that release the GIL and still answer Ctrl-C, and awaitables that cancel their task.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use crate::errors::to_py;

/// How often a blocking call wakes up to check for Ctrl-C.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

pub fn runtime() -> &'static Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Aborts the task when dropped, so that a cancelled caller does not leave work running.
pub struct AbortOnDrop<T>(pub JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long an interrupted blocking call waits for its work to stop (files it was writing
/// removed) before raising.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// A future and where its result goes. Fields drop in order: when the task is aborted, the
/// future (and whatever it cleans up when dropped) is gone before the sender, so a closed
/// channel means the work has stopped.
struct Job<F, T> {
    future: std::pin::Pin<Box<F>>,
    tx: mpsc::SyncSender<T>,
}

/// Runs `future` on the shared runtime and waits for it without holding the GIL. A
/// KeyboardInterrupt (or any pending signal exception) cancels the future, waits (briefly)
/// for it to stop, and is raised.
pub fn block_on<F, T>(py: Python<'_>, future: F) -> PyResult<T>
where
    F: Future<Output = domo_core::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    let job = Job {
        future: Box::pin(future),
        tx,
    };
    let task = AbortOnDrop(runtime().spawn(async move {
        let mut job = job;
        let result = job.future.as_mut().await;
        let _ = job.tx.send(result);
    }));
    let mut rx = rx;
    loop {
        // The receiver is moved in and out: it may be used from one thread at a time only.
        let (received, back) = py.detach(move || (rx.recv_timeout(SIGNAL_CHECK), rx));
        rx = back;
        match received {
            Ok(result) => return result.map_err(to_py),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(signal) = py.check_signals() {
                    task.0.abort();
                    py.detach(move || {
                        let _ = rx.recv_timeout(STOP_WAIT);
                    });
                    return Err(signal);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                drop(task);
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "the operation stopped without a result (the runtime is shutting down?)",
                ));
            }
        }
    }
}

/// Runs `future` on the shared runtime from an `async fn` method. If the Python task is
/// cancelled, the coroutine is dropped and so is the Rust task.
pub async fn spawn<F, T>(future: F) -> PyResult<T>
where
    F: Future<Output = domo_core::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let mut task = AbortOnDrop(runtime().spawn(future));
    match (&mut task.0).await {
        Ok(result) => result.map_err(to_py),
        Err(e) => Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "the operation stopped without a result: {e}"
        ))),
    }
}
