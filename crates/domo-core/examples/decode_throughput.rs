//! Decode throughput of a query answer, against its practical lower bound.
//!
//! Reads a saved answer of `POST /api/query/v1/execute/{id}` (the JSON object with
//! `columns`, `metadata` and `rows`) and times, best of N runs on the same bytes:
//!
//! * `decode_query_answer`: the client's decoder, JSON rows straight into Arrow arrays, on
//!   one thread (comparable with the bound below) and on all cores (what `query` does);
//! * the lower bound: serde_json splitting the same bytes into one borrowed `RawValue` per
//!   cell (`rows: Vec<Vec<&RawValue>>`, other fields skipped). Any decoder must at least
//!   tokenise every cell, so this is as fast as a serde_json-based decoder can be;
//! * for reference, serde_json skipping the whole document (`IgnoredAny`): tokenising with
//!   nothing kept at all.
//!
//! ```text
//! cargo run --release -p domo-core --example decode_throughput -- ANSWER.json [RUNS]
//! ```
//!
//! Prints a human summary and, last, one `JSON {...}` line for `bench/run.py`.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use domo_core::codec::query::{decode_query_answer, decode_query_answer_on};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

/// The answer as raw cells: the least work that still visits every value.
#[derive(Deserialize)]
struct RawAnswer<'a> {
    #[serde(borrow)]
    rows: Vec<Vec<&'a RawValue>>,
}

/// Times `f` once; returns the elapsed time and its result.
fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

fn run(path: &str, runs: usize) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let mut best_decode = Duration::MAX;
    let mut best_parallel = Duration::MAX;
    let mut best_raw = Duration::MAX;
    let mut best_skip = Duration::MAX;
    let mut rows = (0, 0);
    // Interleaved, so both see the same machine state.
    for _ in 0..runs {
        let (t, decoded) = timed(|| decode_query_answer_on(black_box(&bytes), 1));
        let decoded = decoded.map_err(|e| format!("decode_query_answer failed: {e}"))?;
        best_decode = best_decode.min(t);
        rows.0 = decoded.num_rows();
        drop(black_box(decoded));

        let (t, decoded) = timed(|| decode_query_answer(black_box(&bytes)));
        let decoded = decoded.map_err(|e| format!("decode_query_answer failed: {e}"))?;
        best_parallel = best_parallel.min(t);
        if decoded.num_rows() != rows.0 {
            return Err("the parallel decoder lost rows".into());
        }
        drop(black_box(decoded));

        let (t, raw) = timed(|| serde_json::from_slice::<RawAnswer<'_>>(black_box(&bytes)));
        let raw = raw.map_err(|e| format!("serde_json could not split the answer: {e}"))?;
        best_raw = best_raw.min(t);
        rows.1 = raw.rows.len();
        drop(black_box(raw));

        let (t, skipped) = timed(|| serde_json::from_slice::<IgnoredAny>(black_box(&bytes)));
        skipped.map_err(|e| format!("serde_json could not skip the answer: {e}"))?;
        best_skip = best_skip.min(t);
    }
    if rows.0 != rows.1 {
        return Err(format!(
            "row counts differ: decoder {} vs raw {}",
            rows.0, rows.1
        ));
    }
    let decode = mb_per_s(bytes.len(), best_decode);
    let parallel = mb_per_s(bytes.len(), best_parallel);
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let raw = mb_per_s(bytes.len(), best_raw);
    let skip = mb_per_s(bytes.len(), best_skip);
    println!(
        "answer: {path} ({:.1} MB, {} rows), best of {runs}",
        bytes.len() as f64 / 1e6,
        rows.0
    );
    println!(
        "decode_query_answer -> Arrow   {decode:8.1} MB/s  ({:.3} s)",
        best_decode.as_secs_f64()
    );
    println!(
        "same, {threads} threads            {parallel:8.1} MB/s  ({:.3} s)",
        best_parallel.as_secs_f64()
    );
    println!(
        "serde_json raw values (bound)  {raw:8.1} MB/s  ({:.3} s)",
        best_raw.as_secs_f64()
    );
    println!(
        "serde_json IgnoredAny (skip)   {skip:8.1} MB/s  ({:.3} s)",
        best_skip.as_secs_f64()
    );
    println!(
        "decode / raw values            {:8.1} %",
        100.0 * decode / raw
    );
    println!(
        "JSON {}",
        serde_json::json!({
            "bytes": bytes.len(),
            "rows": rows.0,
            "runs": runs,
            "decode_s": best_decode.as_secs_f64(),
            "raw_s": best_raw.as_secs_f64(),
            "decode_mb_s": decode,
            "parallel_s": best_parallel.as_secs_f64(),
            "parallel_mb_s": parallel,
            "threads": threads,
            "raw_mb_s": raw,
            "skip_s": best_skip.as_secs_f64(),
            "skip_mb_s": skip,
        })
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: decode_throughput ANSWER.json [RUNS]");
        return ExitCode::from(2);
    };
    let runs = match args.get(1).map(|s| s.parse::<usize>()) {
        None => 5,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("RUNS must be a positive integer");
            return ExitCode::from(2);
        }
    };
    match run(path, runs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("decode_throughput: {e}");
            ExitCode::FAILURE
        }
    }
}
