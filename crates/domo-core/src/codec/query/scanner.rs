//! Where a query answer's rows are, found as its bytes arrive: the scanner cuts the
//! `rows` array into pieces of whole rows for the decoding threads (`parallel`), stepping
//! over string contents and nothing more.

use std::ops::Range;

use crate::codec::bytescan;

/// A run of whole rows: its bytes in the answer.
pub(super) type Piece = Range<usize>;

/// Where the scanner is in the answer.
pub(super) enum Scan {
    /// Before the `rows` member (rescanned from the start as bytes come: it is short).
    Head,
    /// Inside the rows array, which opened at `open`.
    Rows {
        open: usize,
        /// Where the piece being gathered starts: at a row, or just inside the array.
        start: usize,
        /// The bytes before this have been followed; `strings` says where that left off.
        at: usize,
        strings: Strings,
    },
    /// The rows array is `array`; the rest of the answer is not scanned.
    Done { array: Range<usize> },
    /// Not an answer the scanner can follow.
    Lost,
}

/// Whether the scanner is inside a string, and just past a backslash there.
#[derive(Clone, Copy, Default)]
pub(super) struct Strings {
    open: bool,
    escaped: bool,
}

/// Finds pieces of whole rows in an answer as its bytes arrive.
///
/// Only where a piece has grown long enough is the next row's start looked for; up to
/// there only quotes are counted, eight bytes at a time, so the scanner knows whether it
/// is inside a string (walking every row cost a sixth of a live query's client CPU). The
/// rows of the last piece are walked one by one, to find where the array ends.
///
/// Nothing here is trusted: a piece is decoded as a whole array of rows, which fails
/// unless it starts and ends where rows do (that is where the piece before it ended, so
/// by induction every piece is checked), and any failure decodes the whole answer again
/// on one thread. So while bytes still come, the scanner may run past the end of the
/// rows into the rest of the answer: a piece cut there would not decode.
pub(super) struct RowScanner {
    piece_bytes: usize,
    pub(super) scan: Scan,
}

impl RowScanner {
    pub(super) fn new(piece_bytes: usize) -> Self {
        RowScanner {
            piece_bytes,
            scan: Scan::Head,
        }
    }

    /// Scans `body` (all bytes so far) further; returns the pieces it completed.
    /// `complete`: no more bytes will come.
    pub(super) fn scan(&mut self, body: &[u8], complete: bool) -> Vec<Piece> {
        let mut pieces = Vec::new();
        if matches!(self.scan, Scan::Head) {
            match find_rows(body) {
                Some(open) => {
                    self.scan = Scan::Rows {
                        open,
                        start: open + 1,
                        at: open + 1,
                        strings: Strings::default(),
                    }
                }
                None if complete => self.scan = Scan::Lost,
                None => return pieces,
            }
        }
        let Scan::Rows {
            open,
            start,
            at,
            strings,
        } = &mut self.scan
        else {
            return pieces;
        };
        // Once every byte has come, what is left (followed already, but too short for a
        // piece) is followed again and cut smaller, so that the threads share it rather
        // than one decoding it while the other waits. (A piece starts outside strings.)
        let piece_bytes = if complete {
            (*at, *strings) = (*start, Strings::default());
            self.piece_bytes.div_ceil(4)
        } else {
            self.piece_bytes
        };
        loop {
            let long_enough = *start + piece_bytes;
            if *at < long_enough {
                *at = follow_strings(body, *at, long_enough, strings);
                if *at < long_enough {
                    break;
                }
            }
            let Some((end, next)) = next_row_start(body, at, strings, complete) else {
                break;
            };
            pieces.push(*start..end);
            (*start, *at, *strings) = (next, next, Strings::default());
        }
        if complete {
            self.scan = match last_rows(body, *open, *start) {
                Some((last, array_end)) => {
                    pieces.extend(last);
                    Scan::Done {
                        array: *open..array_end,
                    }
                }
                None => Scan::Lost,
            };
        }
        pieces
    }
}

/// Follows `body` from `from` to at least `to` (or as far as whole words have arrived),
/// keeping `strings` up to date; returns where it stopped.
fn follow_strings(body: &[u8], from: usize, to: usize, strings: &mut Strings) -> usize {
    let words = to.saturating_sub(from).div_ceil(8);
    let end = body.len().min(from + words * 8);
    let Some(span) = body.get(from..end) else {
        return from;
    };
    let mut chunks = span.chunks_exact(8);
    // Without a backslash each quote opens or closes a string: only the parity of their
    // count matters, gathered over a run of such words.
    let mut quotes = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        // (Any mark means a backslash: `equal` is exact enough for that.)
        if !strings.escaped && bytescan::equal(word, b'\\') == 0 {
            quotes ^= bytescan::every_equal(word, b'"');
            continue;
        }
        strings.open ^= quotes.count_ones() % 2 == 1;
        quotes = 0;
        for &b in chunk {
            if strings.escaped {
                strings.escaped = false;
            } else if b == b'\\' {
                // (Outside a string a backslash is wrong, which the decoder reports.)
                strings.escaped = strings.open;
            } else if b == b'"' {
                strings.open = !strings.open;
            }
        }
    }
    strings.open ^= quotes.count_ones() % 2 == 1;
    end - chunks.remainder().len()
}

/// Finds the next place, from `*at` on, where one row ends and another starts (`]`, `,`
/// and `[`, outside strings): the index just past the row and that of the next one.
/// `None` if there is none in `body` yet, with `*at` and `strings` where to go on from
/// once more bytes have come.
fn next_row_start(
    body: &[u8],
    at: &mut usize,
    strings: &mut Strings,
    complete: bool,
) -> Option<(usize, usize)> {
    loop {
        if strings.escaped {
            body.get(*at)?;
            *at += 1;
            strings.escaped = false;
        }
        if strings.open {
            let j = bytescan::find(
                body,
                *at,
                |x| bytescan::equal(x, b'"') | bytescan::equal(x, b'\\'),
                |b| b == b'"' || b == b'\\',
            );
            *at = j;
            match *body.get(j)? {
                b'"' => strings.open = false,
                _ => strings.escaped = true,
            }
            *at += 1;
            continue;
        }
        let j = bytescan::find(
            body,
            *at,
            |x| bytescan::equal(x, b'"') | bytescan::equal(x, b']'),
            |b| b == b'"' || b == b']',
        );
        *at = j;
        if *body.get(j)? == b'"' {
            strings.open = true;
        } else {
            // Rows hold no arrays, so outside strings `]` ends a row (or the array).
            let comma = skip_ws(body, j + 1);
            let next = skip_ws(body, comma + 1);
            match (body.get(comma), body.get(next)) {
                (Some(b','), Some(b'[')) => return Some((j + 1, next)),
                // What follows has not arrived: look again once it has.
                (None, _) | (Some(b','), None) if !complete => return None,
                _ => {}
            }
        }
        *at += 1;
    }
}

/// Walks the rows from `start` (a row, or just inside the array opened at `open`) to
/// the end of the array: the range of those rows (if any) and the index just past the
/// array, or `None` if they are not rows and an array end.
fn last_rows(body: &[u8], open: usize, start: usize) -> Option<(Option<Piece>, usize)> {
    let mut i = start;
    let mut rows: Option<Piece> = None;
    let mut after_row = false;
    loop {
        i = skip_ws(body, i);
        match (*body.get(i)?, after_row) {
            (b',', true) => {
                i += 1;
                after_row = false;
            }
            // An empty array, or its last row.
            (b']', true) => return Some((rows, i + 1)),
            (b']', false) if start == open + 1 && rows.is_none() => return Some((None, i + 1)),
            (b'[', false) => {
                let end = row_end(body, i)?;
                rows.get_or_insert(i..end).end = end;
                after_row = true;
                i = end;
            }
            _ => return None,
        }
    }
}

/// The index of the `[` opening the `rows` member of the answer object, or `None` if it
/// is not (yet) there.
pub(crate) fn find_rows(body: &[u8]) -> Option<usize> {
    let mut i = skip_ws(body, 0);
    if body.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(body, i);
        if body.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(body, i + 1)?;
        let is_rows = &body[i + 1..key_end] == b"rows";
        i = skip_ws(body, key_end + 1);
        if body.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(body, i + 1);
        if is_rows {
            return (body.get(i) == Some(&b'[')).then_some(i);
        }
        i = skip_ws(body, skip_value(body, i)?);
        if body.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

pub(super) fn skip_ws(body: &[u8], mut i: usize) -> usize {
    while body
        .get(i)
        .is_some_and(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        i += 1;
    }
    i
}

/// The index of the quote closing a string whose contents start at `i`.
fn string_end(body: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = bytescan::find(
            body,
            i,
            |x| bytescan::equal(x, b'"') | bytescan::equal(x, b'\\'),
            |b| b == b'"' || b == b'\\',
        );
        if *body.get(i)? == b'"' {
            return Some(i);
        }
        i += 2;
    }
}

/// The index just past the row (an array) opening at `i`, or `None` if it does not end
/// in `body`. Jumps from quote to quote and bracket to bracket, so numbers cost nothing.
fn row_end(body: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        j = bytescan::find(
            body,
            j,
            |x| bytescan::equal(x, b'"') | bytescan::equal(x, b']') | bytescan::equal(x, b'['),
            |b| matches!(b, b'"' | b']' | b'['),
        );
        match *body.get(j)? {
            b'"' => j = string_end(body, j + 1)? + 1,
            b']' => return Some(j + 1),
            // A nested array (no valid row has one): the general walk.
            _ => return skip_value(body, i),
        }
    }
}

/// The index just past the JSON value starting at `i`, or `None` if it does not end in
/// `body`. Not validated: the decoder reads it later.
fn skip_value(body: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        match *body.get(i)? {
            b'"' => i = string_end(body, i + 1)?,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
        // A scalar ends where the next member or element starts; at the end of what has
        // arrived it may not have, so it does not count as ended.
        if depth == 0
            && matches!(
                body.get(i),
                Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            )
        {
            return Some(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_end_where_their_bracket_closes() {
        let body = br#"[1,"a]\"]"],[2,{"b":"]"},[3]],x"#;
        assert_eq!(row_end(body, 0), Some(11));
        assert_eq!(row_end(body, 12), Some(body.len() - 2));
        assert_eq!(row_end(&body[..8], 0), None);
    }

    #[test]
    fn scanner_steps_over_strings() {
        let body = br#"{"a":"rows","b":[{"rows":[]}],"rows":[["x],["],["\\\"],[", "\\"],["y"]]}"#;
        for piece_bytes in [1, 3, 8, 100] {
            let mut scanner = RowScanner::new(piece_bytes);
            let pieces = scanner.scan(body, true);
            let rows: Vec<&[u8]> = pieces.iter().map(|r| &body[r.clone()]).collect();
            let joined = rows.join(&b","[..]);
            assert_eq!(joined, &body[38..body.len() - 2], "{piece_bytes}");
            if piece_bytes < 8 {
                assert!(rows.len() > 1, "{rows:?}");
            }
        }
    }

    #[test]
    fn quotes_are_counted_outside_escapes() {
        let body = br#"ab"c\"d\\"ef\"gh"ij"kl"#;
        for end in 0..=body.len() / 8 {
            let mut strings = Strings::default();
            let at = follow_strings(body, 0, end * 8, &mut strings);
            assert_eq!(at, end * 8);
            let mut slow = Strings::default();
            let mut escaped = false;
            for &b in &body[..at] {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = slow.open;
                } else if b == b'"' {
                    slow.open = !slow.open;
                }
            }
            assert_eq!(
                (strings.open, strings.escaped),
                (slow.open, escaped),
                "{end}"
            );
        }
    }
}
