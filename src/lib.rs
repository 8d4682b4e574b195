//! Python bindings of domo-core: each file converts one area's arguments and results and
//! delegates; no HTTP or codec logic lives here.

// `stub_doc!`: docstrings from the stubs (see build.rs), for every module below.
include!(concat!(env!("OUT_DIR"), "/stub_docs.rs"));

mod client;
mod convert;
mod dataset;
mod display;
mod emulator;
mod errors;
mod public;
mod results;
mod runtime;
mod stream;

use std::sync::OnceLock;

use pyo3::prelude::*;

static LOG_HANDLE: OnceLock<pyo3_log::ResetHandle> = OnceLock::new();

#[doc = stub_doc!(module, refresh_log_levels)]
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
