//! Progress reporters from Python: `True` for a tqdm bar, a callable for events (a dict
//! per report), for uploads and for reads (export, export_to, query_pages).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use domo_core::{CallbackError, ProgressFn, ReadProgress, ReadProgressFn, UploadProgress};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBool, PyDict};

use crate::errors::PyDomoError;

/// How a long call reports its progress: `True` for a tqdm bar, a callable for events.
pub enum Progress {
    Off,
    Bar(Py<PyAny>),
    Callback(Py<PyAny>),
}
impl<'a, 'py> FromPyObject<'a, 'py> for Progress {
    type Error = PyDomoError;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> Result<Self, Self::Error> {
        Ok(progress_from_py(&obj)?)
    }
}

fn progress_from_py(progress: &Bound<'_, PyAny>) -> PyResult<Progress> {
    let py = progress.py();
    if progress.is_none() {
        return Ok(Progress::Off);
    }
    if let Ok(flag) = progress.cast::<PyBool>() {
        if !flag.is_true() {
            return Ok(Progress::Off);
        }
        let Ok(tqdm) = py.import("tqdm.auto") else {
            py.import("warnings")?.call_method1(
                "warn",
                ("progress=True needs tqdm (pip install tqdm); going on without a progress bar",),
            )?;
            return Ok(Progress::Off);
        };
        return Ok(Progress::Bar(tqdm.getattr("tqdm")?.unbind()));
    }
    if !progress.is_callable() {
        return Err(PyTypeError::new_err(
            "progress must be True, False, None or a callable",
        ));
    }
    Ok(Progress::Callback(progress.clone().unbind()))
}

/// What a failed report hands back to domo-core: the Python exception, to be raised as
/// it was once the work has stopped.
fn stop_with(err: PyErr) -> CallbackError {
    Box::new(err)
}

impl Progress {
    /// The reporter for an upload of `rows_total` rows (None: not known in advance).
    /// An exception from the callable (or the bar) stops the upload before its commit and
    /// is raised; after the commit (the `done` report) it is only reported as unraisable,
    /// since the data is in.
    pub fn reporter(self, rows_total: Option<u64>) -> PyResult<Option<ProgressFn>> {
        match self {
            Progress::Off => Ok(None),
            Progress::Bar(tqdm) => Python::attach(|py| {
                let kwargs = [("unit", "row"), ("desc", "upload")].into_py_dict(py)?;
                kwargs.set_item("unit_scale", true)?;
                kwargs.set_item("total", rows_total)?;
                let bar = tqdm.bind(py).call((), Some(&kwargs))?.unbind();
                let reported = AtomicU64::new(0);
                let report = move |p: UploadProgress| -> Result<(), CallbackError> {
                    Python::attach(|py| -> PyResult<()> {
                        let bar = bar.bind(py);
                        let before = reported.swap(p.rows_sent, Ordering::Relaxed);
                        bar.call_method1("update", (p.rows_sent - before,))?;
                        if p.done {
                            bar.call_method0("close")?;
                        }
                        Ok(())
                    })
                    .or_else(|e: PyErr| after_commit(p, e, &bar))
                };
                Ok(Some(Arc::new(report) as ProgressFn))
            }),
            Progress::Callback(callback) => {
                let report = move |p: UploadProgress| -> Result<(), CallbackError> {
                    Python::attach(|py| -> PyResult<()> {
                        let event = PyDict::new(py);
                        event.set_item("parts_sent", p.parts_sent)?;
                        event.set_item("rows_sent", p.rows_sent)?;
                        event.set_item("rows_total", rows_total)?;
                        event.set_item("bytes_sent", p.bytes_sent)?;
                        event.set_item("done", p.done)?;
                        callback.call1(py, (event,))?;
                        Ok(())
                    })
                    .or_else(|e: PyErr| after_commit(p, e, &callback))
                };
                Ok(Some(Arc::new(report)))
            }
        }
    }
}

/// A report's exception: before the commit it stops the upload; after, it is reported as
/// unraisable (the upload is committed and its result is returned).
fn after_commit(p: UploadProgress, err: PyErr, source: &Py<PyAny>) -> Result<(), CallbackError> {
    if !p.done {
        return Err(stop_with(err));
    }
    Python::attach(|py| err.write_unraisable(py, Some(source.bind(py))));
    Ok(())
}

impl Progress {
    /// The reporter for a read labelled `desc` ("export", "query"). A bar appears at the
    /// first report, which carries the total when one is known, and ends at the last. An
    /// exception from the callable (or the bar) stops the read and is raised.
    pub fn read_reporter(self, desc: &'static str) -> Option<ReadProgressFn> {
        match self {
            Progress::Off => None,
            Progress::Bar(tqdm) => {
                let bar = ReadBar {
                    bar: Mutex::new(None),
                    tqdm,
                    desc,
                    reported: AtomicU64::new(0),
                };
                let report = move |p: ReadProgress| -> Result<(), CallbackError> {
                    Python::attach(|py| bar.show(py, p)).map_err(stop_with)
                };
                Some(Arc::new(report))
            }
            Progress::Callback(callback) => {
                let report = move |p: ReadProgress| -> Result<(), CallbackError> {
                    Python::attach(|py| -> PyResult<()> {
                        let event = PyDict::new(py);
                        event.set_item("rows_read", p.rows_read)?;
                        event.set_item("rows_total", p.rows_total)?;
                        event.set_item("bytes_read", p.bytes_read)?;
                        event.set_item("done", p.done)?;
                        callback.call1(py, (event,))?;
                        Ok(())
                    })
                    .map_err(stop_with)
                };
                Some(Arc::new(report))
            }
        }
    }
}

/// A read's tqdm bar: made at the first report (which knows the total, if any), closed at
/// the last, or when the read is dropped without one (failed, closed, interrupted).
struct ReadBar {
    bar: Mutex<Option<Py<PyAny>>>,
    tqdm: Py<PyAny>,
    desc: &'static str,
    reported: AtomicU64,
}

impl ReadBar {
    fn show(&self, py: Python<'_>, p: ReadProgress) -> PyResult<()> {
        // The lock is let go before tqdm runs: tqdm may release the GIL.
        let made = self.lock().as_ref().map(|bar| bar.clone_ref(py));
        let bar = match made {
            Some(bar) => bar.into_bound(py),
            None => {
                let kwargs = [("unit", "row"), ("desc", self.desc)].into_py_dict(py)?;
                kwargs.set_item("unit_scale", true)?;
                kwargs.set_item("total", p.rows_total)?;
                let bar = self.tqdm.bind(py).call((), Some(&kwargs))?;
                *self.lock() = Some(bar.clone().unbind());
                bar
            }
        };
        let before = self.reported.swap(p.rows_read, Ordering::Relaxed);
        bar.call_method1("update", (p.rows_read.saturating_sub(before),))?;
        if p.done {
            // Row-level policies can make a read less than the row count.
            bar.setattr("total", p.rows_read)?;
            bar.call_method0("refresh")?;
            *self.lock() = None;
            bar.call_method0("close")?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Py<PyAny>>> {
        self.bar
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for ReadBar {
    fn drop(&mut self) {
        if let Some(bar) = self.lock().take() {
            Python::attach(|py| {
                if let Err(err) = bar.bind(py).call_method0("close") {
                    err.write_unraisable(py, Some(bar.bind(py)));
                }
            });
        }
    }
}
