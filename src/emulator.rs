//! `Emulator`: the local Domo from crates/domo-emulator, started in this process.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;

#[doc = stub_doc!(Emulator)]
#[pyclass(module = "domo_datasets._domo", name = "Emulator", frozen)]
pub struct PyEmulator {
    inner: Mutex<Option<domo_emulator::Emulator>>,
    url: String,
    port: u16,
    token: String,
    email: String,
    password: String,
}

#[pymethods]
impl PyEmulator {
    /// The credentials an emulator accepts unless given others.
    #[classattr]
    const DEFAULT_TOKEN: &'static str = domo_emulator::DEFAULT_TOKEN;
    #[classattr]
    const DEFAULT_EMAIL: &'static str = domo_emulator::DEFAULT_EMAIL;
    #[classattr]
    const DEFAULT_PASSWORD: &'static str = domo_emulator::DEFAULT_PASSWORD;

    #[new]
    #[pyo3(signature = (*, host="127.0.0.1", port=0, data_dir=None, token=None, email=None, password=None))]
    fn new(
        py: Python<'_>,
        host: &str,
        port: u16,
        data_dir: Option<PathBuf>,
        token: Option<String>,
        email: Option<String>,
        password: Option<String>,
    ) -> PyResult<Self> {
        let defaults = domo_emulator::Config::default();
        let token = token.unwrap_or(defaults.token);
        let email = email.unwrap_or(defaults.email);
        let password = password.unwrap_or(defaults.password);
        let config = domo_emulator::Config {
            host: host.to_string(),
            port,
            data_dir,
            token: token.clone(),
            email: email.clone(),
            password: password.clone(),
        };
        let emulator = py
            .detach(|| domo_emulator::Emulator::start(config))
            .map_err(|e| PyOSError::new_err(format!("cannot start the emulator: {e}")))?;
        Ok(PyEmulator {
            url: emulator.url(),
            port: emulator.addr().port(),
            inner: Mutex::new(Some(emulator)),
            token,
            email,
            password,
        })
    }

    #[doc = stub_doc!(Emulator, url)]
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    #[doc = stub_doc!(Emulator, port)]
    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    #[doc = stub_doc!(Emulator, token)]
    #[getter]
    fn token(&self) -> &str {
        &self.token
    }

    #[doc = stub_doc!(Emulator, email)]
    #[getter]
    fn email(&self) -> &str {
        &self.email
    }

    #[doc = stub_doc!(Emulator, password)]
    #[getter]
    fn password(&self) -> &str {
        &self.password
    }

    #[doc = stub_doc!(Emulator, stop)]
    fn stop(&self, py: Python<'_>) {
        let emulator = self.inner.lock().ok().and_then(|mut guard| guard.take());
        if let Some(mut emulator) = emulator {
            py.detach(move || emulator.stop());
        }
    }

    fn __repr__(&self) -> String {
        format!("Emulator({:?})", self.url)
    }
}
