//! A small RFC 4180 reader and writer. Hand-written because Domo's CSV distinguishes an
//! unquoted empty field (null) from a quoted one (`""`, the empty string), which general
//! CSV libraries do not report.

use std::borrow::Cow;

/// One field of a record; `quoted` tells `""` (empty string) from an empty field (null).
#[derive(Debug, Clone, PartialEq)]
pub struct Field<'a> {
    pub text: Cow<'a, str>,
    pub quoted: bool,
}

impl Field<'_> {
    /// Null is an unquoted empty field or an unquoted `\N`.
    pub fn is_null(&self) -> bool {
        !self.quoted && (self.text.is_empty() || self.text == "\\N")
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

/// Reads records from a complete UTF-8 text; record terminators are LF, CRLF or CR.
pub struct Reader<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Reader {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// Fills `out` with the next record's fields and returns the line it started on, or
    /// `None` at the end. A final line terminator does not start an empty record.
    pub fn next_record(&mut self, out: &mut Vec<Field<'a>>) -> Result<Option<usize>, CsvError> {
        out.clear();
        let bytes = self.text.as_bytes();
        if self.pos >= bytes.len() {
            return Ok(None);
        }
        let start_line = self.line;
        loop {
            let field = if bytes.get(self.pos) == Some(&b'"') {
                self.quoted_field(start_line)?
            } else {
                let start = self.pos;
                while self.pos < bytes.len() && !matches!(bytes[self.pos], b',' | b'\n' | b'\r') {
                    self.pos += 1;
                }
                Field {
                    text: Cow::Borrowed(&self.text[start..self.pos]),
                    quoted: false,
                }
            };
            out.push(field);
            match bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'\r') => {
                    self.pos += 1;
                    if bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    self.line += 1;
                    return Ok(Some(start_line));
                }
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                    return Ok(Some(start_line));
                }
                _ => return Ok(Some(start_line)),
            }
        }
    }

    fn quoted_field(&mut self, start_line: usize) -> Result<Field<'a>, CsvError> {
        let bytes = self.text.as_bytes();
        self.pos += 1;
        let start = self.pos;
        let mut seg_start = start;
        let mut owned: Option<String> = None;
        loop {
            let rel = bytes[self.pos..].iter().position(|b| *b == b'"');
            let Some(rel) = rel else {
                return Err(CsvError {
                    line: start_line,
                    message: "unterminated quoted field".into(),
                });
            };
            let q = self.pos + rel;
            self.line += bytes[self.pos..q].iter().filter(|b| **b == b'\n').count();
            if bytes.get(q + 1) == Some(&b'"') {
                // An escaped quote: keep text up to and including one quote.
                owned
                    .get_or_insert_with(String::new)
                    .push_str(&self.text[seg_start..=q]);
                self.pos = q + 2;
                seg_start = self.pos;
                continue;
            }
            let text = match owned.take() {
                Some(mut s) => {
                    s.push_str(&self.text[seg_start..q]);
                    Cow::Owned(s)
                }
                None => Cow::Borrowed(&self.text[start..q]),
            };
            self.pos = q + 1;
            return match bytes.get(self.pos) {
                None | Some(b',' | b'\n' | b'\r') => Ok(Field { text, quoted: true }),
                Some(_) => Err(CsvError {
                    line: self.line,
                    message: "unexpected character after a closing quote".into(),
                }),
            };
        }
    }
}

/// Appends `s` as one CSV field, quoting only when needed. The empty string is written as
/// `""` and a literal `\N` is quoted, so neither reads back as null.
pub fn write_text(out: &mut Vec<u8>, s: &str) {
    let needs_quotes =
        s.is_empty() || s == "\\N" || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if needs_quotes {
        write_quoted(out, s.as_bytes());
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Appends `t` quoted, its quotes doubled.
pub fn write_quoted(out: &mut Vec<u8>, t: &[u8]) {
    out.push(b'"');
    for part in t.split_inclusive(|&b| b == b'"') {
        out.extend_from_slice(part);
        if part.ends_with(b"\"") {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

/// How the instance API's export writes null (api-facts: "Nulls are written as `\\N`").
pub const NULL: &[u8] = b"\\N";
/// How the public API's export writes null: an empty field. `write_text` quotes the empty
/// string, so the two stay distinct for a reader that cares, and pandas' `read_csv`
/// (which pydomo's `ds_get` uses) reads an empty field as missing without `na_values`.
pub const PUBLIC_NULL: &[u8] = b"";

#[cfg(test)]
mod tests {
    use super::*;

    /// (start line, [(text, quoted)]) per record.
    type Records = Vec<(usize, Vec<(String, bool)>)>;

    fn read_all(s: &str) -> Result<Records, CsvError> {
        let mut r = Reader::new(s);
        let mut fields = Vec::new();
        let mut out = Vec::new();
        while let Some(line) = r.next_record(&mut fields)? {
            out.push((
                line,
                fields
                    .iter()
                    .map(|f| (f.text.to_string(), f.quoted))
                    .collect(),
            ));
        }
        Ok(out)
    }

    #[test]
    fn quoting_nulls_and_line_numbers() {
        let recs =
            read_all("a,\"b,c\",\r\n\"x\"\"y\",\"\",\\N\n\"multi\nline\",2,3\nlast,,").unwrap();
        assert_eq!(recs.len(), 4);
        assert_eq!(
            recs[0].1,
            vec![
                ("a".into(), false),
                ("b,c".into(), true),
                (String::new(), false)
            ]
        );
        assert_eq!(recs[1].0, 2);
        assert_eq!(recs[1].1[0], ("x\"y".into(), true));
        assert_eq!(recs[1].1[1], (String::new(), true));
        assert_eq!(recs[2].0, 3);
        assert_eq!(recs[2].1[0], ("multi\nline".into(), true));
        assert_eq!(recs[3].0, 5);
        assert_eq!(recs[3].1.len(), 3);
    }

    #[test]
    fn errors_name_the_line() {
        let err = read_all("a,b\nc,\"d\nx").unwrap_err();
        assert_eq!(err.line, 2);
        let err = read_all("a,b\n\"c\"x,d\n").unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn writer_round_trips() {
        let mut out = Vec::new();
        for (i, s) in ["plain", "", "a,b", "say \"hi\"", "l1\nl2", "\\N"]
            .iter()
            .enumerate()
        {
            if i > 0 {
                out.push(b',');
            }
            write_text(&mut out, s);
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "plain,\"\",\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\",\"\\N\""
        );
        let recs = read_all(&text).unwrap();
        let fields: Vec<String> = recs[0].1.iter().map(|f| f.0.clone()).collect();
        assert_eq!(fields, ["plain", "", "a,b", "say \"hi\"", "l1\nl2", "\\N"]);
    }
}
