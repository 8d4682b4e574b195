//! domo-core errors as the exceptions of `domo_datasets.exceptions`.

use arrow_schema::ArrowError;
use domo_core::{ApiErrorKind, Error};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Converts an error, choosing the exception class by what the error means.
pub fn to_py(err: Error) -> PyErr {
    Python::attach(|py| convert(py, &err, None).unwrap_or_else(|e| e))
}

fn convert(py: Python<'_>, err: &Error, prefix: Option<String>) -> PyResult<PyErr> {
    let message = |m: String| match &prefix {
        Some(p) => format!("{p}: {m}"),
        None => m,
    };
    let (class, text, status, status_reason, toe, body) = match err {
        Error::InvalidInput(m) => return Ok(PyValueError::new_err(message(m.clone()))),
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(PyFileNotFoundError::new_err(message(err.to_string())));
        }
        Error::Io { .. } => return Ok(PyOSError::new_err(message(err.to_string()))),
        // An error raised by Python code that produced the data (an upload's iterator or
        // stream) comes back as it was raised.
        Error::Arrow(ArrowError::ExternalError(inner)) if inner.is::<PyErr>() => {
            return Ok(inner.downcast_ref::<PyErr>().map_or_else(
                || PyValueError::new_err(err.to_string()),
                |raised| raised.clone_ref(py),
            ));
        }
        Error::Arrow(e) => return Ok(PyValueError::new_err(message(format!("Arrow data: {e}")))),
        Error::Cancelled => return Ok(PyRuntimeError::new_err(message("cancelled".into()))),
        Error::WorkerFailed(_) => return Ok(PyRuntimeError::new_err(message(err.to_string()))),
        Error::UploadPart { part, source } => {
            return convert(
                py,
                source,
                Some(message(format!(
                    "upload part {part} failed; nothing was committed"
                ))),
            );
        }
        Error::Api(api) => {
            let class = match api.kind() {
                ApiErrorKind::BadRequest => "BadRequestError",
                ApiErrorKind::Auth => "AuthError",
                ApiErrorKind::Forbidden => "ForbiddenError",
                ApiErrorKind::NotFound => "NotFoundError",
                ApiErrorKind::Conflict => "ConflictError",
                ApiErrorKind::RateLimited => "RateLimitError",
                ApiErrorKind::Server => "ServerError",
                ApiErrorKind::Other => "DomoError",
            };
            (
                class,
                err.to_string(),
                Some(api.status),
                api.status_reason.clone(),
                api.toe.clone(),
                api.body.clone(),
            )
        }
        Error::LoginRefused { .. } => ("AuthError", err.to_string(), None, None, None, None),
        Error::NotFound(_) => ("NotFoundError", err.to_string(), None, None, None, None),
        Error::UnexpectedResponse { status, body, .. } => (
            "UnexpectedResponseError",
            err.to_string(),
            Some(*status),
            None,
            None,
            body.clone(),
        ),
        Error::AnswerTooLarge { status, .. } => (
            "AnswerTooLargeError",
            err.to_string(),
            Some(*status),
            None,
            None,
            None,
        ),
        Error::CommitOutcomeUnknown { .. } => (
            "CommitOutcomeUnknownError",
            err.to_string(),
            None,
            None,
            None,
            None,
        ),
        Error::Transport { timeout, .. } => (
            if *timeout {
                "TimeoutError"
            } else {
                "TransportError"
            },
            err.to_string(),
            None,
            None,
            None,
            None,
        ),
    };
    let exceptions = py.import("domo_datasets.exceptions")?;
    let cls = exceptions.getattr(class)?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("status", status)?;
    kwargs.set_item("status_reason", status_reason)?;
    kwargs.set_item("toe", toe)?;
    if let Some(request) = err.request() {
        kwargs.set_item("method", &request.method)?;
        kwargs.set_item("url", &request.url)?;
    }
    kwargs.set_item("body", body)?;
    let instance = cls.call((message(text),), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}
