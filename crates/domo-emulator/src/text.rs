//! Stored text written into query answers and exports.
//!
//! Most stored strings (every date and datetime, most names) need no escaping or quoting;
//! one pass eight bytes at a time tells, and they are copied as they are. Only text that
//! needs it is escaped (JSON) or quoted (CSV).
//!
//! Stored text is almost always UTF-8, but SQL can make any bytes text
//! (`CAST(x'ff' AS TEXT)`). Rather than check each string (a twentieth of a large query
//! answer's time), writers check what they wrote once, with `make_utf8`. That is the same
//! as replacing each string's invalid bytes first: escaping and quoting only add ASCII,
//! and ASCII bytes around a string neither complete nor break its sequences.

use crate::csv;

// (The same word tricks as domo-core's `codec::bytescan`, which this crate cannot use.)
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Marks the bytes of `x` below `n` (`n` <= 128) in their high bit. No byte is marked
/// if none is below `n`, and a false mark can only sit above a true one, so the lowest
/// mark is exact.
fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS
}

/// Marks the bytes of `x` that are among `specials`, or control characters if `controls`
/// says so, as `below` marks.
fn marks<const N: usize>(x: u64, specials: [u8; N], controls: bool) -> u64 {
    let mut hits = if controls { below(x, 0x20) } else { 0 };
    for s in specials {
        hits |= below(x ^ (ONES * u64::from(s)), 1);
    }
    hits
}

fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().unwrap_or_default())
}

fn half(b: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes(b[..4].try_into().unwrap_or_default()))
}

/// Whether `t` holds one of `specials` (ASCII bytes that need escaping or quoting), or a
/// control character if `controls` says they need it too; eight bytes at a time.
fn needs<const N: usize>(t: &[u8], specials: [u8; N], controls: bool) -> bool {
    let mut hits = 0;
    let mut chunks = t.chunks_exact(8);
    for chunk in &mut chunks {
        hits |= marks(word(chunk), specials, controls);
    }
    // The last bytes are read in place, overlapping bytes already checked (checking a
    // byte twice changes nothing): copying them into a padded word first cost a call and
    // a stalled load per string.
    if !chunks.remainder().is_empty() {
        let last = match t.len() {
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
        };
        hits |= marks(last, specials, controls);
    }
    hits != 0
}

/// The index of the first of `specials` (or control character, if `controls`) in `t`
/// from `from` on, or `t.len()`.
fn find<const N: usize>(t: &[u8], mut from: usize, specials: [u8; N], controls: bool) -> usize {
    while let Some(chunk) = t.get(from..from + 8) {
        let hits = marks(word(chunk), specials, controls);
        if hits != 0 {
            return from + (hits.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    // The last few bytes one by one (a padded copy of them would cost a call and a
    // stalled load).
    let special = |b: &u8| (controls && *b < 0x20) || specials.contains(b);
    t[from..]
        .iter()
        .position(special)
        .map_or(t.len(), |i| from + i)
}

/// Makes what was written to `out` from `from` on UTF-8, each invalid sequence replaced
/// by U+FFFD as `String::from_utf8_lossy` replaces them (see the module's note).
pub fn make_utf8(out: &mut Vec<u8>, from: usize) {
    // (std's check took as long as writing the text, on answers with many accents.)
    if simdutf8::basic::from_utf8(&out[from..]).is_err() {
        let valid = String::from_utf8_lossy(&out[from..]).into_owned();
        out.truncate(from);
        out.extend_from_slice(valid.as_bytes());
    }
}

/// Writes `t` as a JSON string, escaped as serde_json escapes, leaving bytes that are
/// not UTF-8 to `make_utf8`.
pub fn write_json_text(out: &mut Vec<u8>, t: &[u8]) {
    const SPECIALS: [u8; 2] = [b'"', b'\\'];
    out.push(b'"');
    if needs(t, SPECIALS, true) {
        let mut run = 0;
        loop {
            let i = find(t, run, SPECIALS, true);
            out.extend_from_slice(&t[run..i]);
            let Some(&c) = t.get(i) else {
                break;
            };
            write_json_escape(out, c);
            run = i + 1;
        }
    } else {
        out.extend_from_slice(t);
    }
    out.push(b'"');
}

fn write_json_escape(out: &mut Vec<u8>, c: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match c {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(c >> 4)],
            HEX[usize::from(c & 15)],
        ]),
    }
}

/// Writes `t` as a CSV field, as `csv::write_text` writes it, leaving bytes that are not
/// UTF-8 to `make_utf8`.
pub fn write_csv_text(out: &mut Vec<u8>, t: &[u8]) {
    if needs(t, [b',', b'"', b'\r', b'\n'], false) || t.is_empty() || t == b"\\N" {
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
        // Broken sequences on either side of what is escaped or quoted, and continuation
        // bytes alone at either end.
        samples.extend([
            vec![0xc3, b'"', 0xa9],
            vec![0xc3, b',', 0xa9],
            vec![0xc3, b'\\', 0xa9],
            vec![0xe2, 0x82, b'\n', 0xac],
            vec![0xe2, 0x82, 0x01, 0xac],
            vec![0xa9, b'x'],
            vec![b'x', 0x80],
            vec![0xf0, 0x9f, 0x8e],
        ]);
        // Every position of a special byte in strings of every length up to two 8-byte
        // blocks and a few bytes more, alone and with another after it.
        for len in 1..20 {
            for at in 0..len {
                for special in [
                    b'"', b'\\', b',', b'\n', b'\r', b'\t', 0x01, 0xc3, 0xa9, 0xff,
                ] {
                    let mut s = vec![b'x'; len];
                    s[at] = special;
                    samples.push(s.clone());
                    for second in at + 1..len {
                        s[second] = b'"';
                        samples.push(s.clone());
                        s[second] = b'x';
                    }
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
            make_utf8(&mut ours, 0);
            let serde = serde_json::to_vec(&String::from_utf8_lossy(&t)).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(serde).unwrap(),
                "{t:?}"
            );
        }
    }

    #[test]
    fn text_written_together_is_made_utf8_as_each_would_be() {
        let all = samples();
        let mut ours = vec![b'['];
        for (i, t) in all.iter().enumerate() {
            if i > 0 {
                ours.push(b',');
            }
            write_json_text(&mut ours, t);
        }
        ours.push(b']');
        make_utf8(&mut ours, 1);
        let each: Vec<String> = all
            .iter()
            .map(|t| String::from_utf8_lossy(t).into())
            .collect();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(&each).unwrap()
        );
        let mut csv = b"x\n".to_vec();
        let mut careful = csv.clone();
        for t in &all {
            write_csv_text(&mut csv, t);
            csv.push(b'\n');
            csv::write_text(&mut careful, &String::from_utf8_lossy(t));
            careful.push(b'\n');
        }
        make_utf8(&mut csv, 2);
        assert_eq!(csv, careful);
    }

    #[test]
    fn csv_text_is_what_the_careful_path_writes() {
        for t in samples() {
            let (mut ours, mut careful) = (Vec::new(), Vec::new());
            write_csv_text(&mut ours, &t);
            make_utf8(&mut ours, 0);
            csv::write_text(&mut careful, &String::from_utf8_lossy(&t));
            assert_eq!(ours, careful, "{t:?}");
        }
    }
}
