//! The rows of a query answer read by hand: the hot path of query decoding.
//!
//! Through serde, every cell is a visitor call behind a generic deserializer; that cost
//! about four times what tokenising the same bytes costs. This reader walks the rows
//! array byte by byte and hands each cell straight to its column's builder.
//!
//! It accepts strict JSON only and decides no error: on anything it does not expect, and
//! on a value its column refuses, it gives up (`None`) and the caller decodes the same
//! bytes through serde, whose message says what is wrong and where. Whatever it accepts,
//! serde accepts too, with the same values (one exception, on purpose: a DECIMAL sent as a
//! number is read from its digits, not through an `f64`).

use super::scanner::skip_ws;
use crate::codec::builders::ColumnBuilder;
use crate::codec::bytescan;
use crate::codec::numbers::{Number, number_at};
use crate::codec::temporal::{parse_date, parse_datetime};

/// Reads the JSON array of rows (of `builders.len()` cells) that opens `text` into
/// `builders`: the number of rows and the index just past the array, or `None` if serde
/// has to read it.
pub(super) fn read_rows(text: &str, builders: &mut [ColumnBuilder]) -> Option<(usize, usize)> {
    let mut r = Reader {
        text,
        i: 0,
        scratch: String::new(),
    };
    r.skip_ws();
    r.eat(b'[')?;
    r.skip_ws();
    let mut rows = 0;
    if r.peek() == Some(b']') {
        r.i += 1;
        return Some((0, r.i));
    }
    loop {
        r.row(builders)?;
        rows += 1;
        r.skip_ws();
        match r.next()? {
            b',' => r.skip_ws(),
            b']' => return Some((rows, r.i)),
            _ => return None,
        }
    }
}

/// Whether `text` from `at` on is only JSON whitespace.
pub(super) fn only_ws_after(text: &str, at: usize) -> bool {
    skip_ws(text.as_bytes(), at) == text.len()
}

/// The index of the first byte at or after `j` that ends a run of plain string contents
/// (a quote, a backslash, or a control character JSON does not allow unescaped), or
/// `bytes.len()`.
fn plain_run_end(bytes: &[u8], j: usize) -> usize {
    bytescan::find(
        bytes,
        j,
        |x| bytescan::equal(x, b'"') | bytescan::equal(x, b'\\') | bytescan::below(x, 0x20),
        |b| b == b'"' || b == b'\\' || b < 0x20,
    )
}

struct Reader<'a> {
    text: &'a str,
    i: usize,
    /// A string with escapes, unescaped.
    scratch: String,
}

impl<'a> Reader<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, expected: u8) -> Option<()> {
        (self.next()? == expected).then_some(())
    }

    fn skip_ws(&mut self) {
        self.i = skip_ws(self.bytes(), self.i);
    }

    fn row(&mut self, builders: &mut [ColumnBuilder]) -> Option<()> {
        self.eat(b'[')?;
        for (col, builder) in builders.iter_mut().enumerate() {
            self.skip_ws();
            if col > 0 {
                self.eat(b',')?;
                self.skip_ws();
            }
            self.cell(builder)?;
        }
        self.skip_ws();
        self.eat(b']')
    }

    fn cell(&mut self, builder: &mut ColumnBuilder) -> Option<()> {
        match self.peek()? {
            b'"' => {
                if self.plain_temporal(builder) {
                    return Some(());
                }
                let text = self.text;
                match self.string()? {
                    Some(plain) => builder.push_str(&text[plain]),
                    None => builder.push_str(&self.scratch),
                }
                .ok()
            }
            b'n' => {
                self.word(b"null")?;
                builder.push_null();
                Some(())
            }
            b't' => {
                self.word(b"true")?;
                builder.push_bool(true).ok()
            }
            b'f' => {
                self.word(b"false")?;
                builder.push_bool(false).ok()
            }
            b'-' | b'0'..=b'9' => {
                let number = self.number()?;
                builder.push_number(&number).ok()
            }
            _ => None,
        }
    }

    /// Reads a DATE or DATETIME string written as Domo writes it (`"YYYY-MM-DD"`,
    /// `"YYYY-MM-DDTHH:MM:SS"`) without looking for its end first: contents that parse so
    /// hold no quote, backslash or control character. Whether it did.
    fn plain_temporal(&mut self, builder: &mut ColumnBuilder) -> bool {
        let at = self.i + 1;
        let ends_at = |len: usize| self.bytes().get(at + len) == Some(&b'"');
        let read = match builder {
            ColumnBuilder::Date(b) if ends_at(10) => self
                .text
                .get(at..at + 10)
                .and_then(parse_date)
                .map(|days| (b.append_value(days), 10)),
            ColumnBuilder::Datetime(b) if ends_at(19) => self
                .text
                .get(at..at + 19)
                .and_then(parse_datetime)
                .map(|micros| (b.append_value(micros), 19)),
            _ => None,
        };
        read.map(|((), len)| self.i = at + len + 1).is_some()
    }

    fn word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.bytes().get(self.i..end)? == word).then(|| self.i = end)
    }

    /// Reads the string opening at the cursor: the range of its contents when they hold
    /// no escape, else `None` with the unescaped contents in `scratch`.
    fn string(&mut self) -> Option<Option<std::ops::Range<usize>>> {
        let bytes = self.bytes();
        let start = self.i + 1;
        let mut j = plain_run_end(bytes, start);
        if *bytes.get(j)? == b'"' {
            self.i = j + 1;
            return Some(Some(start..j));
        }
        self.scratch.clear();
        let mut run = start;
        loop {
            j = plain_run_end(bytes, j);
            self.scratch.push_str(&self.text[run..j]);
            match *bytes.get(j)? {
                b'"' => {
                    self.i = j + 1;
                    return Some(None);
                }
                b'\\' => {
                    let (c, after) = unescape(bytes, j + 1)?;
                    self.scratch.push(c);
                    j = after;
                    run = j;
                }
                _ => return None,
            }
        }
    }

    /// Reads the number at the cursor.
    fn number(&mut self) -> Option<Number<'a>> {
        let (number, end) = number_at(self.text, self.i)?;
        self.i = end;
        Some(number)
    }
}

/// The character an escape stands for (`at`: just past its backslash) and the index just
/// past the escape.
fn unescape(bytes: &[u8], at: usize) -> Option<(char, usize)> {
    let c = match *bytes.get(at)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let unit = hex4(bytes, at + 1)?;
            return match unit {
                0xD800..=0xDBFF => {
                    // A high surrogate must be followed by an escaped low one.
                    if bytes.get(at + 5..at + 7)? != b"\\u" {
                        return None;
                    }
                    let low = hex4(bytes, at + 7)?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return None;
                    }
                    let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    Some((char::from_u32(code)?, at + 11))
                }
                _ => Some((char::from_u32(unit)?, at + 5)),
            };
        }
        _ => return None,
    };
    Some((c, at + 1))
}

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 4)?
        .iter()
        .try_fold(0u32, |acc, &b| Some(acc * 16 + char::from(b).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DomoType;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};
    use arrow_array::{Array, ArrayRef};

    fn read(text: &str, types: &[DomoType]) -> Option<(usize, Vec<ArrayRef>)> {
        let mut builders: Vec<ColumnBuilder> =
            types.iter().map(|t| ColumnBuilder::new(*t)).collect();
        let (rows, end) = read_rows(text, &mut builders)?;
        only_ws_after(text, end).then_some(())?;
        Some((
            rows,
            builders.iter_mut().map(ColumnBuilder::finish).collect(),
        ))
    }

    #[test]
    fn reads_strings_with_every_escape() {
        let text = r#" [ ["plain", "a\"b\\c\/d\b\f\n\r\t" ] ,
                        ["\u00e9\u2713 \ud83c\udf89", "é ✓ 🎉"] ] "#;
        let (rows, cols) = read(text, &[DomoType::String, DomoType::String]).unwrap();
        assert_eq!(rows, 2);
        let (a, b) = (cols[0].as_string_view(), cols[1].as_string_view());
        assert_eq!(a.value(0), "plain");
        assert_eq!(b.value(0), "a\"b\\c/d\u{8}\u{c}\n\r\t");
        assert_eq!(a.value(1), "é✓ 🎉");
        assert_eq!(b.value(1), "é ✓ 🎉");
    }

    #[test]
    fn reads_numbers_in_every_form() {
        let text = "[[0,-0.5],[-12,1e3],[9223372036854775807,2.5E-1],[-9223372036854775808,-1E+2]]";
        let (rows, cols) = read(text, &[DomoType::Long, DomoType::Double]).unwrap();
        assert_eq!(rows, 4);
        let (l, d) = (
            cols[0].as_primitive::<Int64Type>(),
            cols[1].as_primitive::<Float64Type>(),
        );
        assert_eq!(l.values().to_vec(), vec![0, -12, i64::MAX, i64::MIN]);
        assert_eq!(d.values().to_vec(), vec![-0.5, 1000.0, 0.25, -100.0]);
    }

    #[test]
    fn finds_every_string_stop() {
        let text = "abcdefghij\"klmnopqrstuvwxyz\\0123456789\u{1}é✓\u{7f}x";
        let stops: Vec<usize> = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'"' || *b == b'\\' || *b < 0x20)
            .map(|(i, _)| i)
            .collect();
        for start in 0..text.len() {
            let expected = stops
                .iter()
                .copied()
                .find(|&i| i >= start)
                .unwrap_or(text.len());
            assert_eq!(plain_run_end(text.as_bytes(), start), expected, "{start}");
        }
    }

    #[test]
    fn numbers_beyond_f64_are_left_to_serde() {
        let huge = format!("1{}", "0".repeat(400));
        for t in [DomoType::Double, DomoType::String, DomoType::Decimal] {
            for n in ["1e400", "-1e309", huge.as_str()] {
                assert!(read(&format!("[[{n}]]"), &[t]).is_none(), "{n} {t:?}");
            }
        }
    }

    #[test]
    fn reads_nulls_booleans_and_empty_arrays() {
        let (rows, cols) = read(
            "[[null,true],[false,null]]",
            &[DomoType::Boolean, DomoType::Boolean],
        )
        .unwrap();
        assert_eq!(rows, 2);
        assert!(cols[0].is_null(0) && cols[1].is_null(1));
        assert_eq!(read(" [ ] ", &[DomoType::Long]).unwrap().0, 0);
    }

    #[test]
    fn leaves_anything_unusual_to_serde() {
        for text in [
            "[[1,2]",            // cut short
            "[[1,2],]",          // trailing comma
            "[[1,2]] x",         // trailing text
            "[[1]]",             // too few cells
            "[[1,2,3]]",         // too many
            "[[01,2]]",          // leading zero
            "[[1.,2]]",          // no fraction digits
            "[[-,2]]",           // no digits
            "[[1e,2]]",          // no exponent digits
            "[[\"a\tb\",2]]",    // raw control character
            "[[\"\\x\",2]]",     // unknown escape
            "[[\"\\ud83c\",2]]", // lone high surrogate
            "[[\"\\udf89\",2]]", // lone low surrogate
            "[[nul,2]]",
            "[[[1],2]]",   // nested array
            "[[\"x\",2]]", // a LONG column refuses text
            "[[1,1e400]]", // beyond f64 (serde refuses it)
            "[[1,-1e309]]",
        ] {
            assert!(
                read(text, &[DomoType::Long, DomoType::Long]).is_none(),
                "{text}"
            );
        }
    }
}
