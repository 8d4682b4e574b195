//! Seeded randomized tests of the decoders. Whatever bytes a server sends, a decoder
//! answers without panicking, and the same bytes give the same answer however they are
//! cut as they arrive and whichever reader takes them.
//!
//! `DOMO_FUZZ_CASES` sets the cases per test (a few hundred by default) and
//! `DOMO_FUZZ_SEED` the seed; a failure names both.

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::export::hand_reader::{header_fields, read_segment};
use super::query::answer::{DecodeError, DecodedRows, decode_serial};
use super::query::parallel::AnswerDecoder;
use super::record_ends::RecordEnds;
use crate::types::{Column, DomoType, arrow_schema};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cases() -> u64 {
    setting("DOMO_FUZZ_CASES", 300)
}

fn rng(test: u64) -> (StdRng, u64) {
    let seed = setting("DOMO_FUZZ_SEED", 20_261_203);
    (StdRng::seed_from_u64(seed ^ test), seed)
}

/// Bytes that mean something to a JSON or CSV reader, or to UTF-8.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"\\",
    b"\\\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b"-",
    b"1e999",
    b"-0",
    b"99999999999999999999999",
    b"\\N",
    b"\\u0000",
    b"\\ud800",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\"rows\"",
    b"\"metadata\"",
    b"\"columns\"",
];

/// `data` with up to a few random edits: flips, cuts, repeats and inserted tokens.
fn mutate(rng: &mut StdRng, data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let edits = *[0, 1, 1, 2, 3, 5].choose(rng).unwrap_or(&1);
    for _ in 0..edits {
        let at = rng.random_range(0..=out.len());
        match rng.random_range(0..6) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] = rng.random();
            }
            1 => {
                let end = (at + rng.random_range(1..20)).min(out.len());
                out.drain(at..end);
            }
            2 => {
                let token = TOKENS.choose(rng).copied().unwrap_or(b"\"");
                out.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + rng.random_range(1..200)).min(out.len());
                let piece = out[at..end].repeat(rng.random_range(1..20));
                out.splice(at..at, piece);
            }
            4 => out.truncate(at),
            _ => {
                let noise: Vec<u8> = (0..rng.random_range(1..8)).map(|_| rng.random()).collect();
                out.splice(at..at, noise);
            }
        }
    }
    out
}

const JSON_TYPES: &[&str] = &[
    "STRING", "LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME", "BOOLEAN", "TIME", "ODD",
];

fn json_value(rng: &mut StdRng, kind: &str) -> serde_json::Value {
    use serde_json::json;
    if rng.random_bool(0.1) {
        return serde_json::Value::Null;
    }
    let kind = if rng.random_bool(0.05) {
        JSON_TYPES.choose(rng).copied().unwrap_or(kind)
    } else {
        kind
    };
    let pick = |rng: &mut StdRng, values: Vec<serde_json::Value>| {
        values
            .choose(rng)
            .cloned()
            .unwrap_or(serde_json::Value::Null)
    };
    match kind {
        "LONG" => pick(
            rng,
            vec![
                json!(0),
                json!(-1),
                json!(i64::MIN),
                json!(i64::MAX),
                json!(9_007_199_254_740_993_i64),
            ],
        ),
        "DOUBLE" | "DECIMAL" => pick(
            rng,
            vec![
                json!(0.5),
                json!(-1e300),
                json!(1e-300),
                json!("1.25"),
                json!(12345.6789),
            ],
        ),
        "DATE" => pick(
            rng,
            vec![
                json!("2024-02-29"),
                json!("1969-12-31"),
                json!("2024-13-01"),
            ],
        ),
        "DATETIME" => pick(
            rng,
            vec![json!("2019-03-19T18:49:02"), json!("2019-03-19 18:49:02")],
        ),
        "BOOLEAN" => pick(rng, vec![json!(true), json!(false), json!("true")]),
        _ => pick(
            rng,
            vec![
                json!("plain"),
                json!(""),
                json!("quo\"te"),
                json!("new\nline"),
                json!("é 日本 🎉"),
                json!("],[\\"),
            ],
        ),
    }
}

fn json_answer(rng: &mut StdRng) -> Vec<u8> {
    let types: Vec<&str> = (0..rng.random_range(0..5))
        .map(|_| JSON_TYPES.choose(rng).copied().unwrap_or("STRING"))
        .collect();
    let rows: Vec<Vec<serde_json::Value>> = (0..rng.random_range(0..60))
        .map(|_| types.iter().map(|t| json_value(rng, t)).collect())
        .collect();
    let answer = serde_json::json!({
        "datasource": "x",
        "columns": (0..types.len()).map(|i| format!("c{i}")).collect::<Vec<_>>(),
        "metadata": types.iter().map(|t| serde_json::json!({"type": t, "dataSourceId": "x"})).collect::<Vec<_>>(),
        "rows": rows,
        "numRows": rows.len(),
    });
    answer.to_string().into_bytes()
}

/// The batches of a decoded answer as one, to compare answers cut differently.
fn joined(decoded: &DecodedRows) -> Result<(SchemaRef, RecordBatch), ArrowError> {
    let batch = arrow_select::concat::concat_batches(&decoded.schema, &decoded.batches)?;
    Ok((decoded.schema.clone(), batch))
}

#[test]
fn query_answers_decode_alike_whole_or_in_pieces() {
    let (mut rng, seed) = rng(1);
    for case in 0..cases() {
        let answer = json_answer(&mut rng);
        let body = mutate(&mut rng, &answer);
        let threads = rng.random_range(2..4);
        let piece = rng.random_range(1..400);
        let mut decoder = AnswerDecoder::with_sizes(threads, 0, rng.random_range(1..200), piece);
        let mut at = 0;
        while at < body.len() {
            let end = (at + rng.random_range(1..300)).min(body.len());
            decoder.extend(&body[at..end]);
            at = end;
        }
        let split = decoder.finish();
        let whole = decode_serial(&body);
        let text = String::from_utf8_lossy(&body);
        match (&whole, &split) {
            (Ok(a), Ok(b)) => assert_eq!(
                joined(a).ok(),
                joined(b).ok(),
                "seed {seed} case {case}: {text}"
            ),
            (Err(DecodeError(a)), Err(DecodeError(b))) => {
                assert_eq!(a, b, "seed {seed} case {case}: {text}")
            }
            _ => panic!(
                "seed {seed} case {case}: one thread says {:?}, pieces say {:?}: {text}",
                whole.as_ref().map(DecodedRows::num_rows),
                split.as_ref().map(DecodedRows::num_rows)
            ),
        }
    }
}

fn csv_field(rng: &mut StdRng, kind: DomoType) -> &'static str {
    let values: &[&str] = match kind {
        DomoType::Long => &["0", "-1", "9223372036854775807", "1.0", "x"],
        DomoType::Double | DomoType::Decimal => &["0.5", "-1e300", "1e-3", "1e400", "NaN"],
        DomoType::Date => &["2024-02-29", "1969-12-31", "2024-13-01"],
        DomoType::Datetime => &["2019-03-19T18:49:02", "2019-03-19 18:49:02.5", "2019-03-19"],
        DomoType::Boolean => &["true", "false", "True"],
        _ => &[
            "plain",
            "\"\"",
            "\"quo\"\"te\"",
            "\"new\nline\"",
            "é 日本",
            "\"a,b\"",
        ],
    };
    if rng.random_bool(0.1) {
        return "\\N";
    }
    values.choose(rng).copied().unwrap_or("")
}

/// Column types and a CSV of them (a header row first when `header`).
fn csv(rng: &mut StdRng, header: bool) -> (Vec<DomoType>, Vec<u8>) {
    let types: Vec<DomoType> = (0..rng.random_range(1..5))
        .map(|_| {
            DomoType::ALL
                .choose(rng)
                .copied()
                .unwrap_or(DomoType::String)
        })
        .collect();
    let end = if rng.random_bool(0.5) { "\n" } else { "\r\n" };
    let mut lines = Vec::new();
    if header {
        lines.push(
            (0..types.len())
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    for _ in 0..rng.random_range(0..40) {
        let fields: Vec<&str> = types.iter().map(|t| csv_field(rng, *t)).collect();
        lines.push(fields.join(","));
    }
    (types, (lines.join(end) + end).into_bytes())
}

fn arrow_csv(
    csv: &[u8],
    schema: &SchemaRef,
    header: bool,
    batch_size: usize,
) -> Result<Vec<RecordBatch>, ArrowError> {
    let null = regex::Regex::new(r"^\\N$").map_err(|e| ArrowError::ParseError(e.to_string()))?;
    let mut decoder = arrow_csv::ReaderBuilder::new(schema.clone())
        .with_header(header)
        .with_batch_size(batch_size)
        .with_null_regex(null)
        .build_decoder();
    let mut rest = csv;
    let mut batches = Vec::new();
    while !rest.is_empty() {
        let used = decoder.decode(rest)?;
        rest = &rest[used..];
        if decoder.capacity() == 0 {
            batches.extend(decoder.flush()?);
        }
    }
    decoder.decode(&[])?;
    batches.extend(decoder.flush()?);
    Ok(batches)
}

#[test]
fn export_segments_read_as_arrow_csv_reads_them() {
    let (mut rng, seed) = rng(2);
    for case in 0..cases() {
        let header = rng.random_bool(0.5);
        let (types, clean) = csv(&mut rng, header);
        let body = mutate(&mut rng, &clean);
        let columns: Vec<Column> = types
            .iter()
            .enumerate()
            .map(|(i, t)| Column::new(format!("c{i}"), *t))
            .collect();
        let schema = arrow_schema(&columns);
        let batch_size = rng.random_range(1..50);
        let text = String::from_utf8_lossy(&body);
        // The hand reader reads only what arrow-csv reads, and reads it the same.
        if let Some(ours) = read_segment(&body, &types, &schema, header, batch_size) {
            let theirs = arrow_csv(&body, &schema, header, batch_size);
            assert_eq!(
                Some(&ours),
                theirs.as_ref().ok(),
                "seed {seed} case {case}: {text}"
            );
        }
        let _ = header_fields(&body);
    }
}

#[test]
fn record_ends_are_found_alike_in_any_pieces() {
    let (mut rng, seed) = rng(3);
    for case in 0..cases() {
        let (_, clean) = csv(&mut rng, true);
        let body = mutate(&mut rng, &clean);
        let ends = |cuts: &[usize]| {
            let mut finder = RecordEnds::default();
            let mut found = Vec::new();
            let mut start = 0;
            for &cut in cuts.iter().chain([body.len()].iter()) {
                let piece = &body[start..cut.max(start)];
                let mut pos = 0;
                while let Some(len) = finder.next_end(&piece[pos..]) {
                    pos += len;
                    found.push(start + pos);
                }
                start = cut.max(start);
            }
            (found, finder.in_quotes())
        };
        let mut cuts: Vec<usize> = (0..rng.random_range(0..20))
            .map(|_| rng.random_range(0..=body.len()))
            .collect();
        cuts.sort_unstable();
        let text = String::from_utf8_lossy(&body);
        assert_eq!(ends(&[]), ends(&cuts), "seed {seed} case {case}: {text}");
        let (found, _) = ends(&[]);
        assert!(
            found.windows(2).all(|w| w[0] < w[1]) && found.iter().all(|&e| body[e - 1] == b'\n'),
            "seed {seed} case {case}: {text}"
        );
    }
}
