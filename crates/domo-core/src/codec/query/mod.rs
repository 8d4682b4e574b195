//! Query answers (`{"columns", "metadata", "rows": [[...]]}`) into Arrow.
//!
//! - `answer`: the entry points, and the columns and batches every reader shares.
//! - `scanner`: finds whole rows in an answer as its bytes arrive.
//! - `parallel`: hands the scanner's pieces to decoding threads, batches kept in order.
//! - `hand_reader`: reads rows byte by byte into the builders; gives up on anything odd.
//! - `serde_reader`: reads what the hand reader gives up on, and says what is wrong.

pub(crate) mod answer;
pub(super) mod hand_reader;
pub(crate) mod parallel;
pub(super) mod scanner;
pub(super) mod serde_reader;

pub use answer::{DecodeError, DecodedRows, decode_query_answer, decode_query_answer_on};
