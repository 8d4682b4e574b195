//! Conversions between Python objects and domo-core values, named by direction:
//! `from_py` for arguments (read once, when a method is called), `to_py` for results.

pub mod from_py;
pub mod progress;
pub mod to_py;
pub mod upload_from_py;
