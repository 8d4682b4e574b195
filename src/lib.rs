//! Python bindings of domo-core: each file converts one area's arguments and results and
//! delegates; no HTTP or codec logic lives here.

mod client;
mod convert;
mod dataset;
mod emulator;
mod errors;
mod lifecycle;
mod manage;
mod oauth;
mod policies;
mod results;
mod runtime;
mod stream;
mod versions;

use std::sync::OnceLock;

use pyo3::prelude::*;

static LOG_HANDLE: OnceLock<pyo3_log::ResetHandle> = OnceLock::new();

/// Re-reads Python logging levels for this package's loggers (they are cached).
#[pyfunction]
fn refresh_log_levels() {
    if let Some(handle) = LOG_HANDLE.get() {
        handle.reset();
    }
}

#[pymodule]
mod _domo {
    #[pymodule_export]
    use crate::client::PyClient;
    #[pymodule_export]
    use crate::dataset::PyDataset;
    #[pymodule_export]
    use crate::emulator::PyEmulator;
    #[pymodule_export]
    use crate::refresh_log_levels;
    #[pymodule_export]
    use crate::results::{PyBatchStream, PyDomoTable};
    #[pymodule_export]
    use crate::stream::PyStream;

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", domo_core::VERSION)?;
        if crate::LOG_HANDLE.get().is_none() {
            let handle = pyo3_log::try_init().ok();
            if let Some(handle) = handle {
                let _ = crate::LOG_HANDLE.set(handle);
            }
        }
        Ok(())
    }
}
