//! Domo SQL on SQLite: the parsed, typed translation and the registered MySQL functions.

pub mod calendar;
pub mod decimal;
pub mod functions;
pub mod numbers;
pub mod translate;
pub mod typing;

pub use functions::register as register_functions;
pub use translate::{Options, translate};
pub use typing::Ty;
