//! Domo (MySQL) SQL to SQLite. The statement is parsed (sqlparser, MySQL dialect), every
//! expression is typed from the dataset's schema by MySQL's rules (`typing`), the tree is
//! rewritten where SQLite's meaning differs from MySQL's (`/`, DIV, `%`, INTERVAL, string
//! comparison, functions), and printed again. The answer's column names and types come
//! from here, never from the values.
//!
//! This file holds the entry point, the token-level readings the parser lacks and the
//! helpers the rest share; `statements`, `expressions` and `calls` translate those.

use sqlparser::ast::{
    BinaryOperator, CastKind, CeilFloorKind, DataType, DateTimeField, Distinct, ExactNumberInfo,
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments,
    GroupByExpr, Ident, JoinConstraint, JoinOperator, LimitClause, ObjectName, ObjectNamePart,
    OrderByKind, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Spanned,
    TableAlias, TableFactor, TrimWhereField, UnaryOperator, Value, ValueWithSpan, WindowType,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Span, Token, TokenWithSpan, Tokenizer};

use super::decimal::{self, Dec};
use super::typing::{self, DIV_SCALE_INCREMENT, MAX_SCALE, Ty};
use crate::types::{format_date, format_datetime, parse_time};

mod calls;
mod expressions;
mod statements;

/// The name a query reads the dataset by.
const TABLE: &str = "table";
/// Why a query naming any other table is refused.
const ONLY_TABLE: &str = "a query can read only its own dataset, as `table`";

/// A translated query: SQLite's text, and the answer's columns as MySQL names and types
/// them.
#[derive(Debug)]
pub struct Translation {
    pub sql: String,
    pub columns: Vec<(String, Ty)>,
}

/// How the emulator compares strings where live Domo's behaviour is not known.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `'a' = 'A'`, as MySQL's default collation has it.
    pub case_insensitive_strings: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            case_insensitive_strings: true,
        }
    }
}

/// The collation registered for case-insensitive string comparison.
pub const CI_COLLATION: &str = "mysql_ci";

/// Translates `sql` for a dataset whose columns are `schema`, read through the SQLite
/// view `view` (a bare name). Errors are about the user's SQL, in its terms.
pub fn translate(
    sql: &str,
    schema: &[(String, Ty)],
    view: &str,
    options: Options,
) -> Result<Translation, String> {
    let first = sql
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or_default();
    if !first.is_empty()
        && !first.eq_ignore_ascii_case("SELECT")
        && !first.eq_ignore_ascii_case("WITH")
    {
        return Err(format!("Only SELECT queries are supported, not '{first}'"));
    }
    let dialect = MySqlDialect {};
    let syntax = |message: String| {
        let message = message
            .strip_prefix("sql parser error: ")
            .unwrap_or(&message)
            .to_owned();
        if message.contains("found: EOF") {
            format!("incomplete input: {message}")
        } else {
            format!("syntax error: {message}")
        }
    };
    let mut tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| syntax(e.to_string()))?;
    // `table` is a keyword to the parser; the dataset's name to a Domo user.
    for t in &mut tokens {
        if let Token::Word(w) = &mut t.token
            && w.quote_style.is_none()
            && w.value.eq_ignore_ascii_case(TABLE)
        {
            w.quote_style = Some('`');
            w.keyword = Keyword::NoKeyword;
        }
    }
    // `a MOD b` is MySQL's `a % b`; the parser knows only MOD(a, b). A bare MOD that
    // does not open a call is the operator.
    for i in 0..tokens.len() {
        let next = tokens[i + 1..]
            .iter()
            .map(|t| &t.token)
            .find(|t| !matches!(t, Token::Whitespace(_)));
        if let Token::Word(w) = &tokens[i].token
            && w.quote_style.is_none()
            && w.value.eq_ignore_ascii_case("MOD")
            && i > 0
            && !matches!(next, Some(Token::LParen) | None)
        {
            tokens[i].token = Token::Mod;
        }
    }
    compound_extract_as_call(&mut tokens);
    let mut statements = Parser::new(&dialect)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|e| syntax(e.to_string()))?;
    let statement = match statements.len() {
        0 => return Err("The SQL statement is empty".into()),
        1 => statements.remove(0),
        _ => return Err("Only one statement may be sent at a time".into()),
    };
    let sqlparser::ast::Statement::Query(mut query) = statement else {
        return Err(format!("Only SELECT queries are supported, not '{first}'"));
    };
    let mut t = Translator {
        sql,
        line_starts: std::iter::once(0)
            .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        schema,
        view,
        options,
        ctes: Vec::new(),
        scopes: Vec::new(),
    };
    let columns = t.query(&mut query)?;
    Ok(Translation {
        sql: query.to_string(),
        columns,
    })
}

/// The units EXTRACT takes that join two fields (`YEAR_MONTH` is 201907).
const COMPOUND_UNITS: [&str; 7] = [
    "YEAR_MONTH",
    "DAY_HOUR",
    "DAY_MINUTE",
    "DAY_SECOND",
    "HOUR_MINUTE",
    "HOUR_SECOND",
    "MINUTE_SECOND",
];

/// The name `EXTRACT(<compound unit> FROM x)` is read as: `EXTRACT_COMPOUND('UNIT', x)`.
/// The parser knows only single units; MySQL has these too.
const EXTRACT_COMPOUND: &str = "__EXTRACT_COMPOUND";

fn compound_extract_as_call(tokens: &mut [TokenWithSpan]) {
    let words: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    for w in words.windows(4) {
        let [extract, open, unit, from] = [w[0], w[1], w[2], w[3]];
        let word = |i: usize| match &tokens[i].token {
            Token::Word(x) if x.quote_style.is_none() => Some(x.value.to_ascii_uppercase()),
            _ => None,
        };
        let Some(unit_name) = word(unit) else {
            continue;
        };
        if word(extract).as_deref() == Some("EXTRACT")
            && tokens[open].token == Token::LParen
            && COMPOUND_UNITS.contains(&unit_name.as_str())
            && word(from).as_deref() == Some("FROM")
        {
            tokens[extract].token = Token::make_word(EXTRACT_COMPOUND, None);
            tokens[unit].token = Token::SingleQuotedString(unit_name);
            tokens[from].token = Token::Comma;
        }
    }
}

/// A relation a query reads: `table`, a CTE or a derived table, by its name in the query.
#[derive(Debug, Clone)]
struct Relation {
    name: String,
    columns: Vec<(String, Ty)>,
}

/// What names mean in one SELECT: its relations, then (for GROUP BY, HAVING and ORDER
/// BY, as MySQL allows) its select list's aliases.
#[derive(Debug, Default)]
struct Scope {
    relations: Vec<Relation>,
    aliases: Vec<(String, Ty)>,
}

struct Translator<'a> {
    sql: &'a str,
    line_starts: Vec<usize>,
    schema: &'a [(String, Ty)],
    view: &'a str,
    options: Options,
    ctes: Vec<Relation>,
    /// Innermost last: a subquery sees the columns of the queries around it.
    scopes: Vec<Scope>,
}

fn quoted(name: &str) -> Ident {
    Ident::with_quote('"', name)
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: Vec::new(),
        }),
        within_group: Vec::new(),
        filter: None,
        null_treatment: None,
        over: None,
    })
}

fn string(s: &str) -> Expr {
    Expr::Value(ValueWithSpan {
        value: Value::SingleQuotedString(s.to_owned()),
        span: Span::empty(),
    })
}

fn number(n: i64) -> Expr {
    Expr::Value(ValueWithSpan {
        value: Value::Number(n.to_string(), false),
        span: Span::empty(),
    })
}

fn take(e: &mut Expr) -> Expr {
    std::mem::replace(
        e,
        Expr::Value(ValueWithSpan {
            value: Value::Null,
            span: Span::empty(),
        }),
    )
}

fn ident_name(n: &ObjectName) -> String {
    n.0.iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            ObjectNamePart::Function(f) => f.name.value.clone(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// An interval unit's MySQL name, if it is one the date functions take.
fn unit_name(field: &DateTimeField) -> Option<&'static str> {
    Some(match field {
        DateTimeField::Microsecond | DateTimeField::Microseconds => "MICROSECOND",
        DateTimeField::Second | DateTimeField::Seconds => "SECOND",
        DateTimeField::Minute | DateTimeField::Minutes => "MINUTE",
        DateTimeField::Hour | DateTimeField::Hours => "HOUR",
        DateTimeField::Day | DateTimeField::Days => "DAY",
        DateTimeField::Week(None) | DateTimeField::Weeks => "WEEK",
        DateTimeField::Month | DateTimeField::Months => "MONTH",
        DateTimeField::Quarter => "QUARTER",
        DateTimeField::Year | DateTimeField::Years => "YEAR",
        DateTimeField::Custom(i) => match i.value.to_ascii_uppercase().as_str() {
            "YEAR_MONTH" => "YEAR_MONTH",
            "DAY_HOUR" => "DAY_HOUR",
            "DAY_MINUTE" => "DAY_MINUTE",
            "DAY_SECOND" => "DAY_SECOND",
            "HOUR_MINUTE" => "HOUR_MINUTE",
            "HOUR_SECOND" => "HOUR_SECOND",
            "MINUTE_SECOND" => "MINUTE_SECOND",
            _ => return None,
        },
        _ => return None,
    })
}

/// A unit written as a bare word argument (`TIMESTAMPDIFF(DAY, ...)`).
fn unit_word(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) if i.quote_style.is_none() => {
            let u = i.value.to_ascii_uppercase();
            let u = u.strip_prefix("SQL_TSI_").unwrap_or(&u).to_owned();
            matches!(
                u.as_str(),
                "MICROSECOND"
                    | "SECOND"
                    | "MINUTE"
                    | "HOUR"
                    | "DAY"
                    | "WEEK"
                    | "MONTH"
                    | "QUARTER"
                    | "YEAR"
            )
            .then_some(u)
        }
        _ => None,
    }
}

/// A text literal that is a date or datetime (`'2024-01-01'`, `'2024-01-01 10:00:00'`)
/// in the stored DATETIME form (`2024-01-01T10:00:00`), so it compares with a DATETIME
/// column as MySQL compares it: as a point in time, midnight for a bare date.
fn as_stored_datetime(e: &mut Expr) {
    if let Expr::Value(ValueWithSpan {
        value: Value::SingleQuotedString(s),
        ..
    }) = e
        && let Some(p) = parse_time(s)
    {
        *s = format_datetime(&p.dt);
    }
}

fn is_comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
            | BinaryOperator::Spaceship
    )
}

impl Translator<'_> {
    /// The text of `span` in the user's SQL.
    fn written(&self, span: Span) -> Option<String> {
        let offset = |line: u64, column: u64| -> Option<usize> {
            let start = *self
                .line_starts
                .get(usize::try_from(line).ok()?.checked_sub(1)?)?;
            let col = usize::try_from(column).ok()?.checked_sub(1)?;
            let rest = &self.sql[start..];
            Some(start + rest.char_indices().nth(col).map_or(rest.len(), |(i, _)| i))
        };
        if span.start.line == 0 {
            return None;
        }
        let (a, b) = (
            offset(span.start.line, span.start.column)?,
            offset(span.end.line, span.end.column)?,
        );
        (a < b).then(|| self.sql[a..b].trim().to_owned())
    }

    /// How the user wrote `e`, for names and messages. The parser's spans can stop
    /// short of an expression's end (a closing parenthesis, an INTERVAL unit), so the
    /// text runs from the expression's start to the next `,`, `)` or FROM outside
    /// parentheses and quotes.
    fn as_written(&self, e: &Expr) -> String {
        let Some(start) = self
            .written(e.span())
            .and_then(|_| self.offset_of(e.span()))
        else {
            return e.to_string();
        };
        let rest = &self.sql[start..];
        let (mut depth, mut quote, mut end) = (0i32, None::<char>, rest.len());
        let chars = rest.char_indices().peekable();
        for (i, c) in chars {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' => depth += 1,
                ')' if depth == 0 => {
                    end = i;
                    break;
                }
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    end = i;
                    break;
                }
                c if depth == 0 && c.is_whitespace() => {
                    let word: String = rest[i..]
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if ["FROM", "AS", "WHERE", "GROUP", "ORDER", "LIMIT", "HAVING"]
                        .iter()
                        .any(|k| word.eq_ignore_ascii_case(k))
                    {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest[..end].trim().to_owned()
    }

    /// The byte offset of a span's start in the user's SQL.
    fn offset_of(&self, span: Span) -> Option<usize> {
        let start = *self
            .line_starts
            .get(usize::try_from(span.start.line).ok()?.checked_sub(1)?)?;
        let col = usize::try_from(span.start.column).ok()?.checked_sub(1)?;
        let rest = &self.sql[start..];
        Some(start + rest.char_indices().nth(col).map_or(rest.len(), |(i, _)| i))
    }

    fn unsupported(&self, what: &str, e: &Expr) -> String {
        format!(
            "{what} is not supported by the local Domo: {}",
            self.as_written(e)
        )
    }
}

/// Whether values of these types compare as exact decimals: one is a DECIMAL and none
/// is a date or text.
fn exact_comparison(types: &[Ty]) -> bool {
    types.iter().any(|t| matches!(t, Ty::Decimal(_)))
        && types
            .iter()
            .all(|t| matches!(t, Ty::Decimal(_) | Ty::Long | Ty::Double | Ty::Null))
}

/// An ORDER BY term of type `ty` that sorts DECIMALs by their value: SQLite would put
/// every DECIMAL held as digits after all those held as numbers. A number alone is a
/// column position, left as it is.
fn sort_exactly(e: &mut Expr, ty: Ty) {
    if matches!(ty, Ty::Decimal(_)) && !matches!(e, Expr::Value(_)) {
        *e = call("__dec_key", vec![take(e)]);
    }
}

/// The unit of a `__interval(n, 'UNIT')` argument.
fn literal_interval_unit(e: Option<&Expr>) -> Option<&'static str> {
    let Some(Expr::Function(f)) = e else {
        return None;
    };
    let FunctionArguments::List(l) = &f.args else {
        return None;
    };
    match l.args.get(1) {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(u),
            ..
        })))) => [
            "MICROSECOND",
            "SECOND",
            "MINUTE",
            "HOUR",
            "DAY",
            "WEEK",
            "MONTH",
            "QUARTER",
            "YEAR",
        ]
        .into_iter()
        .find(|k| k == u),
        _ => None,
    }
}

/// DATE_ADD's type: a DATE plus whole days or more stays a DATE.
fn date_add_type(date: Ty, unit: &str) -> Ty {
    match date {
        Ty::Date if typing::unit_keeps_date(unit) => Ty::Date,
        Ty::Date | Ty::DateTime => Ty::DateTime,
        // MySQL answers a string for a string argument; text that is a date is the
        // common case here, and a DATETIME reads it.
        _ => Ty::DateTime,
    }
}

/// Whether a STR_TO_DATE format reads a time of day.
fn has_time_codes(fmt: &str) -> bool {
    let mut it = fmt.chars();
    while let Some(c) = it.next() {
        if c == '%'
            && let Some(code) = it.next()
            && "HhIiklSsTrpf".contains(code)
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Vec<(String, Ty)> {
        vec![
            ("s".into(), Ty::Text),
            ("n".into(), Ty::Long),
            ("x".into(), Ty::Double),
            ("m".into(), Ty::Decimal(10)),
            ("d".into(), Ty::Date),
            ("t".into(), Ty::DateTime),
        ]
    }

    fn tr(sql: &str) -> Translation {
        translate(sql, &schema(), "v_1", Options::default()).unwrap()
    }

    fn err(sql: &str) -> String {
        translate(sql, &schema(), "v_1", Options::default()).unwrap_err()
    }

    #[test]
    fn names_are_as_written_and_types_come_from_the_query() {
        let t = tr(
            "SELECT `n`, n / 2, SUM(x) AS total, COUNT(*), UPPER(s), d + INTERVAL 1 DAY FROM table",
        );
        let names: Vec<&str> = t.columns.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "n",
                "n / 2",
                "total",
                "COUNT(*)",
                "UPPER(s)",
                "d + INTERVAL 1 DAY"
            ]
        );
        let types: Vec<Ty> = t.columns.iter().map(|c| c.1).collect();
        assert_eq!(
            types,
            [
                Ty::Long,
                Ty::Decimal(4),
                Ty::Double,
                Ty::Long,
                Ty::Text,
                Ty::Date
            ]
        );
        assert!(t.sql.contains("\"v_1\""), "{}", t.sql);
    }

    #[test]
    fn refusals_name_the_construct_in_the_users_terms() {
        assert!(err("DELETE FROM table").contains("Only SELECT"));
        assert!(err("SELECT nope FROM table").contains("no such column: nope"));
        assert!(err("SELECT WHATEVER(n) FROM table").contains("WHATEVER"));
        assert!(err("SELECT * FROM other").contains("only its own dataset"));
        assert!(!err("SELECT nope FROM table").contains("v_1"));
        assert!(!err("SELECT * FROM v_1").contains("v_1"));
    }

    #[test]
    fn infix_mod_and_compound_extract_read_as_mysql() {
        let t = tr("SELECT n MOD 3, MOD(n, 3), EXTRACT(YEAR_MONTH FROM d) AS ym FROM table");
        assert_eq!(t.columns[0], ("n MOD 3".to_owned(), Ty::Long));
        assert_eq!(t.columns[2], ("ym".to_owned(), Ty::Long));
        assert!(t.sql.contains("__extract('YEAR_MONTH'"), "{}", t.sql);
    }

    #[test]
    fn recursive_ctes_read_themselves() {
        let t = tr(
            "WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < 3) \
             SELECT SUM(k) AS s FROM c",
        );
        // MySQL sums integers as DECIMAL.
        assert_eq!(t.columns, [("s".to_owned(), Ty::Decimal(0))]);
    }
}
