//! Rewrites Domo (MySQL-flavoured) SQL into SQLite on a token stream. Working on tokens
//! rather than a parse tree keeps every construct SQLite understands untouched, while
//! text inside '...' strings, "..."/`...` quoted identifiers and comments is never
//! changed.

use crate::types::{format_date, format_datetime, parse_time};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Space,
    Comment,
    Str,
    QuotedIdent,
    Word,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    kind: Kind,
    text: &'a str,
}

impl Tok<'_> {
    fn is_word(&self, w: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(w)
    }
    fn is(&self, s: &str) -> bool {
        self.kind == Kind::Other && self.text == s
    }
    fn significant(&self) -> bool {
        !matches!(self.kind, Kind::Space | Kind::Comment)
    }
}

fn tokenize(sql: &str) -> Result<Vec<Tok<'_>>, String> {
    let b = sql.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let c = b[i];
        let kind = if c.is_ascii_whitespace() {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            Kind::Space
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') || c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            Kind::Comment
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            match sql[i + 2..].find("*/") {
                Some(end) => i = i + 2 + end + 2,
                None => return Err("unterminated /* comment".into()),
            }
            Kind::Comment
        } else if matches!(c, b'\'' | b'"' | b'`') {
            // The closing quote doubled is an escaped quote, in all three forms.
            i += 1;
            loop {
                match b.get(i) {
                    None => {
                        return Err(format!(
                            "unterminated quoted text starting at offset {start}"
                        ));
                    }
                    Some(q) if *q == c => {
                        if b.get(i + 1) == Some(&c) {
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(_) => i += 1,
                }
            }
            if c == b'\'' {
                Kind::Str
            } else {
                Kind::QuotedIdent
            }
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            Kind::Word
        } else {
            // One character at a time: multi-character operators pass through unchanged
            // because tokens are re-emitted verbatim.
            i += sql[i..].chars().next().map_or(1, char::len_utf8);
            Kind::Other
        };
        toks.push(Tok {
            kind,
            text: &sql[start..i],
        });
    }
    Ok(toks)
}

const INTERVAL_UNITS: &[&str] = &[
    "MICROSECOND",
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "WEEK",
    "MONTH",
    "QUARTER",
    "YEAR",
];

struct Rewriter<'a> {
    toks: Vec<Tok<'a>>,
    table: &'a str,
}

impl Rewriter<'_> {
    fn next_sig(&self, from: usize, end: usize) -> Option<usize> {
        (from..end).find(|&j| self.toks[j].significant())
    }

    fn prev_sig(&self, before: usize) -> Option<usize> {
        (0..before).rev().find(|&j| self.toks[j].significant())
    }

    /// Index of the `)` matching the `(` at `open`, if any, before `end`.
    fn matching_paren(&self, open: usize, end: usize) -> Option<usize> {
        let mut depth = 0usize;
        for j in open..end {
            let t = &self.toks[j];
            if t.is("(") {
                depth += 1;
            } else if t.is(")") {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
        }
        None
    }

    fn followed_by_paren(&self, i: usize, end: usize) -> bool {
        self.next_sig(i + 1, end)
            .is_some_and(|j| self.toks[j].is("("))
    }

    fn rewrite(&self, start: usize, end: usize, out: &mut String) {
        let mut i = start;
        while i < end {
            let t = self.toks[i];
            if t.kind == Kind::Str {
                out.push_str(&datetime_literal(t.text));
                i += 1;
                continue;
            }
            if t.kind != Kind::Word {
                out.push_str(t.text);
                i += 1;
                continue;
            }
            let upper = t.text.to_ascii_uppercase();
            match upper.as_str() {
                "TABLE" if !self.prev_sig(i).is_some_and(|p| self.toks[p].is(".")) => {
                    out.push_str(self.table);
                    i += 1;
                }
                "DATE" | "TIMESTAMP" | "DATETIME" => {
                    match self.next_sig(i + 1, end) {
                        Some(j) if self.toks[j].kind == Kind::Str => {
                            // A typed literal: SQLite has none, so keep only the string,
                            // normalised to the form the data is stored in.
                            out.push_str(&typed_literal(&upper, self.toks[j].text));
                            i = j + 1;
                        }
                        _ => {
                            out.push_str(t.text);
                            i += 1;
                        }
                    }
                }
                "INTERVAL" => match self.interval_unit(i + 1, end) {
                    Some((unit_idx, unit)) => {
                        out.push_str("__interval((");
                        self.rewrite(i + 1, unit_idx, out);
                        out.push_str("), '");
                        out.push_str(&unit);
                        out.push_str("')");
                        i = unit_idx + 1;
                    }
                    None => {
                        out.push_str(t.text);
                        i += 1;
                    }
                },
                "CAST" if self.followed_by_paren(i, end) => {
                    i = self.rewrite_cast(i, end, out);
                }
                "IF" if self.followed_by_paren(i, end) => {
                    out.push_str("iif");
                    i += 1;
                }
                "LEFT" | "RIGHT" if self.followed_by_paren(i, end) => {
                    out.push_str(if upper == "LEFT" { "__left" } else { "__right" });
                    i += 1;
                }
                "CURRENT_TIMESTAMP" => {
                    out.push_str(if self.followed_by_paren(i, end) {
                        "NOW"
                    } else {
                        "NOW()"
                    });
                    i += 1;
                }
                _ => {
                    out.push_str(t.text);
                    i += 1;
                }
            }
        }
    }

    /// For `INTERVAL <expr> <UNIT>`, the unit's token index and name: the first unit
    /// keyword at the same nesting level, before a `,` or `)` closes the argument.
    fn interval_unit(&self, from: usize, end: usize) -> Option<(usize, String)> {
        let mut depth = 0i32;
        for j in from..end {
            let t = &self.toks[j];
            if t.is("(") {
                depth += 1;
            } else if t.is(")") {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
            } else if t.is(",") && depth == 0 {
                return None;
            } else if depth == 0 && t.kind == Kind::Word {
                let up = t.text.to_ascii_uppercase();
                if INTERVAL_UNITS.contains(&up.as_str()) {
                    return Some((j, up));
                }
            }
        }
        None
    }

    /// `CAST(x AS DATE)` compares ISO text wrongly in SQLite (it casts to NUMERIC), so
    /// date targets become functions; MySQL-only target names are mapped to SQLite ones.
    fn rewrite_cast(&self, i: usize, end: usize, out: &mut String) -> usize {
        let fallback = |out: &mut String| {
            out.push_str(self.toks[i].text);
            i + 1
        };
        let Some(open) = self.next_sig(i + 1, end) else {
            return fallback(out);
        };
        let Some(close) = self.matching_paren(open, end) else {
            return fallback(out);
        };
        let mut depth = 0i32;
        let mut as_idx = None;
        for j in open + 1..close {
            let t = &self.toks[j];
            if t.is("(") {
                depth += 1;
            } else if t.is(")") {
                depth -= 1;
            } else if depth == 0 && t.is_word("AS") {
                as_idx = Some(j);
            }
        }
        let Some(as_idx) = as_idx else {
            return fallback(out);
        };
        let Some(ty_idx) = self.next_sig(as_idx + 1, close) else {
            return fallback(out);
        };
        let target = self.toks[ty_idx].text.to_ascii_uppercase();
        // The operand without the whitespace before AS.
        let operand_end = self
            .prev_sig(as_idx)
            .map_or(as_idx, |j| (j + 1).max(open + 1));
        let (func, sqlite_type) = match target.as_str() {
            "DATE" => (Some("__cast_date"), None),
            "DATETIME" | "TIMESTAMP" => (Some("__cast_datetime"), None),
            "SIGNED" | "UNSIGNED" => (None, Some("INTEGER")),
            "CHAR" | "VARCHAR" | "NCHAR" => (None, Some("TEXT")),
            _ => (None, None),
        };
        match (func, sqlite_type) {
            (Some(f), _) => {
                out.push_str(f);
                out.push('(');
                self.rewrite(open + 1, operand_end, out);
                out.push(')');
            }
            (None, Some(ty)) => {
                out.push_str("CAST(");
                self.rewrite(open + 1, operand_end, out);
                out.push_str(" AS ");
                out.push_str(ty);
                out.push(')');
            }
            (None, None) => {
                out.push_str(self.toks[i].text);
                self.rewrite(i + 1, close + 1, out);
            }
        }
        close + 1
    }
}

/// MySQL compares a DATETIME with '2024-01-01 10:00:00' as a datetime; SQLite compares
/// text, and stored DATETIMEs use a `T`. So a literal of exactly that shape gets the `T`
/// (a STRING column holding such text is the rarer case, and SQL users filter by dates
/// all the time).
fn datetime_literal(raw: &str) -> std::borrow::Cow<'_, str> {
    let b = raw.as_bytes();
    let shaped = b.len() == 21
        && b[11] == b' '
        && b[1..20].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => true,
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if shaped {
        std::borrow::Cow::Owned(format!("{}T{}", &raw[..11], &raw[12..]))
    } else {
        std::borrow::Cow::Borrowed(raw)
    }
}

fn typed_literal(keyword: &str, raw: &str) -> String {
    let inner = raw[1..raw.len() - 1].replace("''", "'");
    let normalised = parse_time(&inner).map(|p| {
        if keyword == "DATE" {
            format_date(&p.dt)
        } else {
            format_datetime(&p.dt)
        }
    });
    match normalised {
        Some(s) => format!("'{s}'"),
        None => raw.to_owned(),
    }
}

/// Rewrites one Domo SQL statement for SQLite, with `table_sql` (an already quoted
/// identifier) standing for the dataset. Fails on statements other than SELECT / WITH.
pub fn rewrite_sql(sql: &str, table_sql: &str) -> Result<String, String> {
    let toks = tokenize(sql)?;
    let first = toks.iter().find(|t| t.significant());
    match first {
        Some(t) if t.is_word("SELECT") || t.is_word("WITH") || t.is("(") => {}
        Some(t) => {
            return Err(format!(
                "Only SELECT queries are supported, not '{}'",
                t.text
            ));
        }
        None => return Err("The SQL statement is empty".into()),
    }
    let rw = Rewriter {
        toks,
        table: table_sql,
    };
    let mut out = String::with_capacity(sql.len() + 32);
    rw.rewrite(0, rw.toks.len(), &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(sql: &str) -> String {
        rewrite_sql(sql, "\"v_1\"").unwrap()
    }

    #[test]
    fn table_is_rewritten_outside_quotes_and_comments() {
        assert_eq!(rw("SELECT * FROM table"), "SELECT * FROM \"v_1\"");
        assert_eq!(rw("select * from TABLE t"), "select * from \"v_1\" t");
        assert_eq!(
            rw("SELECT 'table', `table`, \"table\" FROM table -- table\n/* table */"),
            "SELECT 'table', `table`, \"table\" FROM \"v_1\" -- table\n/* table */"
        );
        assert_eq!(
            rw("SELECT table.a FROM table"),
            "SELECT \"v_1\".a FROM \"v_1\""
        );
        assert_eq!(
            rw("SELECT x.table FROM table x"),
            "SELECT x.table FROM \"v_1\" x"
        );
        assert_eq!(
            rw("SELECT 'it''s table' FROM table"),
            "SELECT 'it''s table' FROM \"v_1\""
        );
        assert_eq!(
            rw("SELECT `my table` FROM table"),
            "SELECT `my table` FROM \"v_1\""
        );
        assert_eq!(rw("SELECT a FROM mytable"), "SELECT a FROM mytable");
    }

    #[test]
    fn typed_literals_become_strings() {
        assert_eq!(
            rw("SELECT * FROM table WHERE d >= DATE '2024-01-01'"),
            "SELECT * FROM \"v_1\" WHERE d >= '2024-01-01'"
        );
        assert_eq!(
            rw("SELECT TIMESTAMP '2024-01-01 10:00:00'"),
            "SELECT '2024-01-01T10:00:00'"
        );
        assert_eq!(
            rw("SELECT * FROM table WHERE at < '2024-02-01 00:00:00' OR s = '2024-02-01 x'"),
            "SELECT * FROM \"v_1\" WHERE at < '2024-02-01T00:00:00' OR s = '2024-02-01 x'"
        );
        // DATE(...) the function is not a literal.
        assert_eq!(
            rw("SELECT DATE(ts) FROM table"),
            "SELECT DATE(ts) FROM \"v_1\""
        );
    }

    #[test]
    fn intervals_casts_and_mysql_names() {
        assert_eq!(
            rw("SELECT DATE_ADD(d, INTERVAL 3 DAY) FROM table"),
            "SELECT DATE_ADD(d, __interval(( 3 ), 'DAY')) FROM \"v_1\""
        );
        assert_eq!(
            rw("SELECT DATE_SUB(d, interval (n + 1) month)"),
            "SELECT DATE_SUB(d, __interval(( (n + 1) ), 'MONTH'))"
        );
        assert_eq!(
            rw("SELECT CAST(s AS DATE), CAST(CAST(x AS CHAR) AS SIGNED)"),
            "SELECT __cast_date(s), CAST(CAST(x AS TEXT) AS INTEGER)"
        );
        assert_eq!(rw("SELECT CAST(x AS REAL)"), "SELECT CAST(x AS REAL)");
        assert_eq!(
            rw("SELECT IF(a > 1, 'y', 'n'), LEFT(s, 2) FROM table t LEFT JOIN table u ON 1"),
            "SELECT iif(a > 1, 'y', 'n'), __left(s, 2) FROM \"v_1\" t LEFT JOIN \"v_1\" u ON 1"
        );
    }

    #[test]
    fn only_select() {
        assert!(rewrite_sql("DELETE FROM table", "x").is_err());
        assert!(rewrite_sql("  -- nothing\n", "x").is_err());
        assert!(rewrite_sql("SELECT 'open", "x").is_err());
        assert!(rewrite_sql("WITH a AS (SELECT 1) SELECT * FROM a", "x").is_ok());
    }
}
