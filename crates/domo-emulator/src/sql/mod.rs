//! Domo SQL on SQLite: the token-level rewrite and the registered MySQL functions.

pub mod functions;
pub mod rewrite;

pub use functions::register as register_functions;
pub use rewrite::rewrite_sql;
