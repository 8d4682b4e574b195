//! Export segments (CSV as Domo writes it) into Arrow.

pub(crate) mod hand_reader;
