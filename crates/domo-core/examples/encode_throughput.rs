//! Upload encoding throughput: Arrow batches -> Domo CSV -> gzip level 1, as uploads do it.
//!
//! Reads an Arrow IPC file and runs the upload encoder's loop on one thread, best of N:
//! slices of 4096 rows through `codec::upload_csv::write_batch` into a part buffer, and each
//! full part (32 MiB of CSV by default, like `Dataset.upload`) through
//! `flate2::write::GzEncoder` with `Compression::fast()`. Encoding and compression are
//! timed separately as well as together.
//!
//! ```text
//! cargo run --release -p domo-core --example encode_throughput -- DATA.arrow [RUNS] [PART_BYTES]
//! ```
//!
//! Prints a human summary and, last, one `JSON {...}` line for `bench/run.py`.

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_ipc::reader::FileReader;
use domo_core::codec::upload_csv::write_batch;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Rows per `write_batch` call, as in the upload pipeline.
const ROWS_PER_SLICE: usize = 4096;
const DEFAULT_PART_BYTES: usize = 32 * 1024 * 1024;

/// What one pass over the data produced, and where its time went.
#[derive(Default)]
struct Pass {
    csv_bytes: usize,
    gzip_bytes: usize,
    encode: Duration,
    gzip: Duration,
}

impl Pass {
    fn total(&self) -> Duration {
        self.encode + self.gzip
    }

    /// Compresses one full part buffer and empties it.
    fn ship(&mut self, part: &mut Vec<u8>) -> Result<(), String> {
        let start = Instant::now();
        let mut gz = GzEncoder::new(Vec::with_capacity(part.len() / 4), Compression::fast());
        gz.write_all(part)
            .map_err(|e| format!("gzip failed: {e}"))?;
        let packed = gz.finish().map_err(|e| format!("gzip failed: {e}"))?;
        self.gzip += start.elapsed();
        self.csv_bytes += part.len();
        self.gzip_bytes += black_box(packed).len();
        part.clear();
        Ok(())
    }
}

fn encode_all(batches: &[RecordBatch], part_bytes: usize) -> Result<Pass, String> {
    let mut pass = Pass::default();
    let mut part = Vec::with_capacity(part_bytes + part_bytes / 8);
    for batch in batches {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let len = ROWS_PER_SLICE.min(batch.num_rows() - offset);
            let start = Instant::now();
            write_batch(&batch.slice(offset, len), &mut part)
                .map_err(|e| format!("write_batch failed: {e}"))?;
            pass.encode += start.elapsed();
            offset += len;
            if part.len() >= part_bytes {
                pass.ship(&mut part)?;
            }
        }
    }
    if !part.is_empty() {
        pass.ship(&mut part)?;
    }
    Ok(pass)
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

fn run(path: &str, runs: usize, part_bytes: usize) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let reader = FileReader::try_new(file, None).map_err(|e| format!("not Arrow IPC: {e}"))?;
    let batches: Vec<RecordBatch> = reader
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut best: Option<Pass> = None;
    for _ in 0..runs {
        let pass = encode_all(&batches, part_bytes)?;
        if best.as_ref().is_none_or(|b| pass.total() < b.total()) {
            best = Some(pass);
        }
    }
    let best = best.ok_or("no run")?;
    let total = mb_per_s(best.csv_bytes, best.total());
    println!(
        "input: {path} ({rows} rows), {:.1} MB of CSV -> {:.1} MB gzip, best of {runs}",
        best.csv_bytes as f64 / 1e6,
        best.gzip_bytes as f64 / 1e6
    );
    println!(
        "write_batch (CSV)       {:8.1} MB/s  ({:.3} s)",
        mb_per_s(best.csv_bytes, best.encode),
        best.encode.as_secs_f64()
    );
    println!(
        "gzip level 1 (zlib-rs)  {:8.1} MB/s  ({:.3} s)",
        mb_per_s(best.csv_bytes, best.gzip),
        best.gzip.as_secs_f64()
    );
    println!(
        "CSV + gzip              {total:8.1} MB/s  ({:.3} s)",
        best.total().as_secs_f64()
    );
    println!(
        "JSON {}",
        serde_json::json!({
            "rows": rows,
            "runs": runs,
            "part_bytes": part_bytes,
            "csv_bytes": best.csv_bytes,
            "gzip_bytes": best.gzip_bytes,
            "encode_s": best.encode.as_secs_f64(),
            "gzip_s": best.gzip.as_secs_f64(),
            "total_s": best.total().as_secs_f64(),
            "csv_mb_s": total,
        })
    );
    Ok(())
}

/// The positional argument at `i` as a positive integer, or `default` when absent.
fn positive(args: &[String], i: usize, default: usize) -> Result<usize, String> {
    match args.get(i).map(|s| s.parse::<usize>()) {
        None => Ok(default),
        Some(Ok(n)) if n > 0 => Ok(n),
        Some(_) => Err(format!("argument {} must be a positive integer", i + 1)),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: encode_throughput DATA.arrow [RUNS] [PART_BYTES]");
        return ExitCode::from(2);
    };
    let outcome = positive(&args, 1, 3)
        .and_then(|runs| Ok((runs, positive(&args, 2, DEFAULT_PART_BYTES)?)))
        .and_then(|(runs, part_bytes)| run(path, runs, part_bytes));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("encode_throughput: {e}");
            ExitCode::FAILURE
        }
    }
}
