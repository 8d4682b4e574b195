//! domo-core errors as the exceptions of `domo_datasets.exceptions`.
//!
//! Methods return [`PyDomoResult`]: `?` takes a domo-core error or a Python one alike, and
//! the conversion to a Python exception happens once, when the result reaches Python. Each
//! exception class is imported the first time it is raised and kept.

use arrow_schema::ArrowError;
use domo_core::{ApiErrorKind, Error};
use pyo3::PyTypeInfo;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

/// The classes of `domo_datasets.exceptions`, imported once each.
mod classes {
    pyo3::import_exception!(domo_datasets.exceptions, DomoError);
    pyo3::import_exception!(domo_datasets.exceptions, BadRequestError);
    pyo3::import_exception!(domo_datasets.exceptions, AuthError);
    pyo3::import_exception!(domo_datasets.exceptions, ForbiddenError);
    pyo3::import_exception!(domo_datasets.exceptions, NotFoundError);
    pyo3::import_exception!(domo_datasets.exceptions, ConflictError);
    pyo3::import_exception!(domo_datasets.exceptions, RateLimitError);
    pyo3::import_exception!(domo_datasets.exceptions, ServerError);
    pyo3::import_exception!(domo_datasets.exceptions, UnexpectedResponseError);
    pyo3::import_exception!(domo_datasets.exceptions, AnswerTooLargeError);
    pyo3::import_exception!(domo_datasets.exceptions, CommitOutcomeUnknownError);
    pyo3::import_exception!(domo_datasets.exceptions, TransportError);
    pyo3::import_exception!(domo_datasets.exceptions, TimeoutError);
}

/// A failure on its way to Python: from domo-core, or already a Python exception.
#[derive(Debug)]
pub enum PyDomoError {
    Domo(Error),
    Python(PyErr),
}

pub type PyDomoResult<T> = Result<T, PyDomoError>;

impl From<Error> for PyDomoError {
    fn from(err: Error) -> Self {
        PyDomoError::Domo(err)
    }
}

impl From<PyErr> for PyDomoError {
    fn from(err: PyErr) -> Self {
        PyDomoError::Python(err)
    }
}

impl From<PyDomoError> for PyErr {
    fn from(err: PyDomoError) -> Self {
        match err {
            PyDomoError::Python(err) => err,
            PyDomoError::Domo(err) => {
                Python::attach(|py| exception(py, &err, None).unwrap_or_else(|e| e))
            }
        }
    }
}

/// What an exception of `domo_datasets.exceptions` carries beside its message.
#[derive(Default)]
struct Fields {
    status: Option<u16>,
    status_reason: Option<String>,
    toe: Option<String>,
    body: Option<String>,
}

/// The exception for `err`, its class chosen by what the error means; `prefix` says
/// which step of a larger operation failed.
fn exception(py: Python<'_>, err: &Error, prefix: Option<String>) -> PyResult<PyErr> {
    let message = |m: String| match &prefix {
        Some(p) => format!("{p}: {m}"),
        None => m,
    };
    let (class, fields) = match err {
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
        // A progress callback's exception stops the work and is raised as it was, with a
        // note saying what it stopped.
        Error::Callback { stopped, source } if source.is::<PyErr>() => {
            let raised = source
                .downcast_ref::<PyErr>()
                .map(|raised| raised.clone_ref(py))
                .unwrap_or_else(|| PyRuntimeError::new_err(err.to_string()));
            raised.value(py).call_method1("add_note", (*stopped,))?;
            return Ok(raised);
        }
        Error::Callback { .. } => return Ok(PyRuntimeError::new_err(message(err.to_string()))),
        Error::Cancelled => return Ok(PyRuntimeError::new_err(message("cancelled".into()))),
        Error::WorkerFailed(_) => return Ok(PyRuntimeError::new_err(message(err.to_string()))),
        Error::UploadPart { part, source } => {
            return exception(
                py,
                source,
                Some(message(format!(
                    "upload part {part} failed; nothing was committed"
                ))),
            );
        }
        Error::Api(api) => {
            let class = match api.kind() {
                ApiErrorKind::BadRequest => classes::BadRequestError::type_object(py),
                ApiErrorKind::Auth => classes::AuthError::type_object(py),
                ApiErrorKind::Forbidden => classes::ForbiddenError::type_object(py),
                ApiErrorKind::NotFound => classes::NotFoundError::type_object(py),
                ApiErrorKind::Conflict => classes::ConflictError::type_object(py),
                ApiErrorKind::RateLimited => classes::RateLimitError::type_object(py),
                ApiErrorKind::Server => classes::ServerError::type_object(py),
                ApiErrorKind::Other => classes::DomoError::type_object(py),
            };
            let fields = Fields {
                status: Some(api.status),
                status_reason: api.status_reason.clone(),
                toe: api.toe.clone(),
                body: api.body.clone(),
            };
            (class, fields)
        }
        Error::LoginRefused { .. } => (classes::AuthError::type_object(py), Fields::default()),
        Error::NotFound(_) => (classes::NotFoundError::type_object(py), Fields::default()),
        Error::UnexpectedResponse { status, body, .. } => (
            classes::UnexpectedResponseError::type_object(py),
            Fields {
                status: Some(*status),
                body: body.clone(),
                ..Fields::default()
            },
        ),
        Error::AnswerTooLarge { status, .. } => (
            classes::AnswerTooLargeError::type_object(py),
            Fields {
                status: Some(*status),
                ..Fields::default()
            },
        ),
        Error::CommitOutcomeUnknown { .. } => (
            classes::CommitOutcomeUnknownError::type_object(py),
            Fields::default(),
        ),
        Error::Transport { timeout: true, .. } => {
            (classes::TimeoutError::type_object(py), Fields::default())
        }
        Error::Transport { .. } => (classes::TransportError::type_object(py), Fields::default()),
    };
    instance(py, &class, message(text_of(err)), fields, err)
}

/// The error's own text, each fact said once: an exception shows its method, URL, status
/// and trace id from its fields, so the text leaves them out. An API error's text is
/// Domo's message (its reason is `status_reason`).
fn text_of(err: &Error) -> String {
    if let Error::Api(api) = err {
        if !api.message.is_empty() {
            return api.message.clone();
        }
        return api
            .status_reason
            .clone()
            .unwrap_or_else(|| format!("HTTP {}", api.status));
    }
    let text = err.to_string();
    match err.request() {
        Some(request) => text.replacen(&format!("{request}: "), "", 1),
        None => text,
    }
}

fn instance(
    py: Python<'_>,
    class: &Bound<'_, PyType>,
    message: String,
    fields: Fields,
    err: &Error,
) -> PyResult<PyErr> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("status", fields.status)?;
    kwargs.set_item("status_reason", fields.status_reason)?;
    kwargs.set_item("toe", fields.toe)?;
    if let Some(request) = err.request() {
        kwargs.set_item("method", &request.method)?;
        kwargs.set_item("url", &request.url)?;
    }
    kwargs.set_item("body", fields.body)?;
    Ok(PyErr::from_value(class.call((message,), Some(&kwargs))?))
}
