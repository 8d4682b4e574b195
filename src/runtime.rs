//! Running domo-core's futures from Python: one tokio runtime per process, blocking calls
//! that release the GIL and still answer Ctrl-C, and awaitables that cancel their task.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use crate::errors::{PyDomoError, PyDomoResult};

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

/// Runs `future` on the shared runtime and waits for it without holding the GIL: the
/// body of every blocking method. A KeyboardInterrupt (or any pending signal exception)
/// cancels the future, waits (briefly) for it to stop, and is raised.
pub fn run<F, T, E>(py: Python<'_>, future: F) -> PyDomoResult<T>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
    PyDomoError: From<E>,
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
            Ok(result) => return result.map_err(PyDomoError::from),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(signal) = py.check_signals() {
                    task.0.abort();
                    py.detach(move || {
                        let _ = rx.recv_timeout(STOP_WAIT);
                    });
                    return Err(signal.into());
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                drop(task);
                return Err(stopped_without_result("the runtime is shutting down?").into());
            }
        }
    }
}

/// Runs `future` on the shared runtime from an `async fn` method: the body of every
/// `_async` twin. If the Python task is cancelled, the coroutine is dropped and so is the
/// Rust task.
pub async fn run_async<F, T, E>(future: F) -> PyDomoResult<T>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
    PyDomoError: From<E>,
{
    let mut task = AbortOnDrop(runtime().spawn(future));
    match (&mut task.0).await {
        Ok(result) => result.map_err(PyDomoError::from),
        Err(e) => Err(stopped_without_result(&e.to_string()).into()),
    }
}

fn stopped_without_result(why: &str) -> PyErr {
    pyo3::exceptions::PyRuntimeError::new_err(format!(
        "the operation stopped without a result ({why})"
    ))
}

/// Writes a blocking method and its `_async` twin from one body, in a `#[pymethods]`
/// block of their own. The body turns the (already converted) arguments into a future of
/// `Result<T, E>`; the blocking method runs it with [`run`], the twin with [`run_async`],
/// and both hand `T` to Python as the declared result type (`T: Into<Result>`). Arguments
/// arrive as `FromPyObject` types, so neither twin reads a Python object after the call.
/// `impl PyDataset as Dataset` names the stub class whose docstrings the methods take
/// (`stub_doc!`); each method may have one `#[pyo3(...)]` (signature, text_signature).
macro_rules! twins {
    (
        impl $class:ty as $py:ident {
            $(
                $(#[pyo3($($option:tt)*)])?
                fn $name:ident / $name_async:ident (&$this:ident $(, $arg:ident : $arg_ty:ty)* $(,)?) -> $out:ty $body:block
            )*
        }
    ) => {
        #[pyo3::pymethods]
        impl $class {
            $(
                #[doc = stub_doc!($py, $name)]
                $(#[pyo3($($option)*)])?
                #[allow(clippy::too_many_arguments)]
                fn $name(&$this, py: pyo3::Python<'_> $(, $arg: $arg_ty)*) -> $crate::errors::PyDomoResult<$out> {
                    $crate::runtime::run(py, $body).map(::core::convert::Into::into)
                }

                #[doc = stub_doc!($py, $name_async)]
                $(#[pyo3($($option)*)])?
                #[allow(clippy::too_many_arguments)]
                async fn $name_async(&$this $(, $arg: $arg_ty)*) -> $crate::errors::PyDomoResult<$out> {
                    $crate::runtime::run_async($body).await.map(::core::convert::Into::into)
                }
            )*
        }
    };
    (
        impl $class:ty as $py:ident {
            $(
                $(#[pyo3($($option:tt)*)])?
                static fn $name:ident / $name_async:ident ($($arg:ident : $arg_ty:ty),* $(,)?) -> $out:ty $body:block
            )*
        }
    ) => {
        #[pyo3::pymethods]
        impl $class {
            $(
                #[doc = stub_doc!($py, $name)]
                $(#[pyo3($($option)*)])?
                #[staticmethod]
                #[allow(clippy::too_many_arguments)]
                fn $name(py: pyo3::Python<'_> $(, $arg: $arg_ty)*) -> $crate::errors::PyDomoResult<$out> {
                    $crate::runtime::run(py, $body).map(::core::convert::Into::into)
                }

                #[doc = stub_doc!($py, $name_async)]
                $(#[pyo3($($option)*)])?
                #[staticmethod]
                #[allow(clippy::too_many_arguments)]
                async fn $name_async($($arg: $arg_ty),*) -> $crate::errors::PyDomoResult<$out> {
                    $crate::runtime::run_async($body).await.map(::core::convert::Into::into)
                }
            )*
        }
    };
}

pub(crate) use twins;
