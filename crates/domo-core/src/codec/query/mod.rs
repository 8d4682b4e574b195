//! Query answers (`{"columns", "metadata", "rows": [[...]]}`) into Arrow.
//!
//! `parallel` scans an answer as it arrives and hands pieces of whole rows to decoding
//! threads; each piece, or a small answer whole, is read by `hand_reader`, which gives up
//! on anything unusual; `answer` then reads it through serde, which says what is wrong.

pub(crate) mod answer;
pub(super) mod hand_reader;
pub(crate) mod parallel;

pub use answer::{DecodeError, DecodedRows, decode_query_answer, decode_query_answer_on};
