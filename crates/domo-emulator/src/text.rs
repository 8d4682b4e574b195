//! Stored text written into query answers and exports.
//!
//! Most stored strings (every date and datetime, most names) need no escaping or quoting;
//! one pass eight bytes at a time tells, and they are copied as they are. Text with bytes
//! above ASCII is checked to be UTF-8 (invalid bytes become U+FFFD); only text
//! that needs it is escaped (JSON) or quoted (CSV).

use std::borrow::Cow;

use crate::csv;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Marks the bytes of `x` below `n` (`n` <= 128) in their high bit; none is marked if no
/// byte is below `n`.
fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS
}

/// What one pass over `t` found.
struct Scan {
    /// A byte that must be escaped or quoted.
    special: bool,
    /// A byte above ASCII (so `t` must be checked to be UTF-8).
    wide: bool,
}

/// Scans `t` eight bytes at a time for `specials` (ASCII bytes that need escaping or
/// quoting), for control characters if `controls` says they need it too, and for bytes
/// above ASCII.
fn scan<const N: usize>(t: &[u8], specials: [u8; N], controls: bool) -> Scan {
    let (mut hits, mut highs) = (0, 0);
    let mut check = |x: u64| {
        if controls {
            hits |= below(x, 0x20);
        }
        for s in specials {
            hits |= below(x ^ (ONES * u64::from(s)), 1);
        }
        highs |= x;
    };
    let mut chunks = t.chunks_exact(8);
    for chunk in &mut chunks {
        check(word(chunk));
    }
    // The last bytes are read in place, overlapping bytes already checked (checking a
    // byte twice changes nothing): copying them into a padded word first cost a call and
    // a stalled load per string.
    if !chunks.remainder().is_empty() {
        check(match t.len() {
            8.. => word(&t[t.len() - 8..]),
            4..8 => half(&t[..4]) | half(&t[t.len() - 4..]) << 32,
            // One to three bytes; the rest of the word is spaces, which need nothing.
            _ => u64::from_le_bytes([
                t[0],
                t[t.len() / 2],
                t[t.len() - 1],
                b' ',
                b' ',
                b' ',
                b' ',
                b' ',
            ]),
        });
    }
    Scan {
        special: hits != 0,
        wide: highs & HIGHS != 0,
    }
}

fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().unwrap_or_default())
}

fn half(b: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes(b[..4].try_into().unwrap_or_default()))
}

/// Stored text as a `str`, invalid UTF-8 replaced. (`from_utf8_lossy` alone is several
/// times slower on the valid text every value is.)
pub fn text_of(t: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(t) {
        Ok(s) => s.into(),
        Err(_) => String::from_utf8_lossy(t),
    }
}

/// Writes `t` as a JSON string, escaped as serde_json escapes.
pub fn write_json_text(out: &mut Vec<u8>, t: &[u8]) {
    let scan = scan(t, [b'"', b'\\'], true);
    let valid;
    let t = if scan.wide {
        valid = text_of(t);
        valid.as_bytes()
    } else {
        t
    };
    out.push(b'"');
    if scan.special {
        escape_json(out, t);
    } else {
        out.extend_from_slice(t);
    }
    out.push(b'"');
}

fn escape_json(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut run = 0;
    for (i, &c) in s.iter().enumerate() {
        let short: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 15)],
            ],
            _ => continue,
        };
        out.extend_from_slice(&s[run..i]);
        out.extend_from_slice(short);
        run = i + 1;
    }
    out.extend_from_slice(&s[run..]);
}

/// Writes `t` as a CSV field, as `csv::write_text` writes it.
pub fn write_csv_text(out: &mut Vec<u8>, t: &[u8]) {
    let scan = scan(t, [b',', b'"', b'\r', b'\n'], false);
    let valid;
    let t = if scan.wide {
        valid = text_of(t);
        valid.as_bytes()
    } else {
        t
    };
    if scan.special || t.is_empty() || t == b"\\N" {
        csv::write_quoted(out, t);
    } else {
        out.extend_from_slice(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Vec<u8>> {
        let mut samples: Vec<Vec<u8>> = [
            "",
            "2024-01-02",
            "2019-03-19T18:49:02",
            "plain ascii text",
            "comma, separated",
            "say \"hello\"",
            "back\\slash",
            "two\nlines",
            "crlf\r\n",
            "tab\t",
            "\\N",
            "Café",
            "東京都",
            "emoji 🎉",
            "\u{7f}del",
            "/slash",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        samples
            .extend((0u8..0x20).map(|c| vec![b'a', c, b'b', b'c', b'd', b'e', b'f', b'g', b'h']));
        samples.push(vec![b'o', b'k', 0xff, 0xfe, b'!']);
        // Every position of a special byte in strings of every length up to two 8-byte
        // blocks and a few bytes more.
        for len in 1..20 {
            for at in 0..len {
                for special in [b'"', b'\\', b',', b'\n', b'\r', b'\t', 0x01, 0xc3, 0xff] {
                    let mut s = vec![b'x'; len];
                    s[at] = special;
                    samples.push(s);
                }
            }
        }
        samples
    }

    #[test]
    fn json_text_is_what_serde_writes() {
        for t in samples() {
            let mut ours = Vec::new();
            write_json_text(&mut ours, &t);
            let serde = serde_json::to_vec(&String::from_utf8_lossy(&t)).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&serde),
                "{t:?}"
            );
        }
    }

    #[test]
    fn csv_text_is_what_the_careful_path_writes() {
        for t in samples() {
            let (mut ours, mut careful) = (Vec::new(), Vec::new());
            write_csv_text(&mut ours, &t);
            csv::write_text(&mut careful, &String::from_utf8_lossy(&t));
            assert_eq!(ours, careful, "{t:?}");
        }
    }
}
