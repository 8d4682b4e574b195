//! Domo (MySQL) SQL to SQLite. The statement is parsed (sqlparser, MySQL dialect), every
//! expression is typed from the dataset's schema by MySQL's rules (`typing`), the tree is
//! rewritten where SQLite's meaning differs from MySQL's (`/`, DIV, `%`, INTERVAL, string
//! comparison, functions), and printed again. The answer's column names and types come
//! from here, never from the values.

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

    fn query(&mut self, q: &mut Query) -> Result<Vec<(String, Ty)>, String> {
        if q.fetch.is_some()
            || !q.locks.is_empty()
            || q.for_clause.is_some()
            || q.settings.is_some()
            || q.format_clause.is_some()
            || !q.pipe_operators.is_empty()
        {
            return Err(format!(
                "This query form is not supported by the local Domo: {q}"
            ));
        }
        let saved = self.ctes.len();
        if let Some(with) = &mut q.with {
            let recursive = with.recursive;
            for cte in &mut with.cte_tables {
                if recursive {
                    // The recursive part reads the CTE itself: its columns are known by
                    // name here, and typed by the query once translated.
                    self.ctes.push(Relation {
                        name: cte.alias.name.value.clone(),
                        columns: cte
                            .alias
                            .columns
                            .iter()
                            .map(|c| (c.name.value.clone(), Ty::Null))
                            .collect(),
                    });
                }
                let translated = self.query(&mut cte.query);
                if recursive {
                    self.ctes.pop();
                }
                let mut columns = translated?;
                for (c, named) in columns.iter_mut().zip(&cte.alias.columns) {
                    c.0 = named.name.value.clone();
                }
                cte.alias.name = quoted(&cte.alias.name.value);
                for c in &mut cte.alias.columns {
                    c.name = quoted(&c.name.value);
                }
                self.ctes.push(Relation {
                    name: cte.alias.name.value.clone(),
                    columns,
                });
            }
        }
        let columns = match &mut *q.body {
            SetExpr::Select(select) => self.select(select, q.order_by.as_mut())?,
            body => {
                let columns = self.set_expr(body)?;
                if let Some(order) = &mut q.order_by {
                    self.scopes.push(Scope {
                        relations: vec![Relation {
                            name: String::new(),
                            columns: columns.clone(),
                        }],
                        aliases: Vec::new(),
                    });
                    // A compound query's ORDER BY names its columns: they sort as SQLite
                    // holds them.
                    let out = self.order_by(order, false);
                    self.scopes.pop();
                    out?;
                }
                columns
            }
        };
        if let Some(limit) = &mut q.limit_clause {
            self.scopes.push(Scope::default());
            let out = self.limit(limit);
            self.scopes.pop();
            out?;
        }
        self.ctes.truncate(saved);
        Ok(columns)
    }

    fn limit(&mut self, limit: &mut LimitClause) -> Result<(), String> {
        match limit {
            LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            } => {
                if !limit_by.is_empty() {
                    return Err("LIMIT BY is not supported by the local Domo".into());
                }
                if let Some(l) = limit {
                    self.expr(l)?;
                }
                if let Some(o) = offset {
                    self.expr(&mut o.value)?;
                }
            }
            LimitClause::OffsetCommaLimit { offset, limit } => {
                self.expr(offset)?;
                self.expr(limit)?;
            }
        }
        Ok(())
    }

    fn set_expr(&mut self, body: &mut SetExpr) -> Result<Vec<(String, Ty)>, String> {
        match body {
            SetExpr::Select(select) => self.select(select, None),
            SetExpr::Query(q) => self.query(q),
            SetExpr::SetOperation { left, right, .. } => {
                let l = self.set_expr(left)?;
                let r = self.set_expr(right)?;
                if l.len() != r.len() {
                    return Err(
                        "The used SELECT statements have a different number of columns".into(),
                    );
                }
                Ok(l.into_iter()
                    .zip(r)
                    .map(|((name, a), (_, b))| (name, typing::common(&[a, b])))
                    .collect())
            }
            other => Err(format!(
                "This query form is not supported by the local Domo: {other}"
            )),
        }
    }

    fn relation(&mut self, factor: &mut TableFactor) -> Result<Vec<Relation>, String> {
        match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                if args.is_some() {
                    return Err(ONLY_TABLE.into());
                }
                let written = ident_name(name);
                let (columns, is_table) = if written.eq_ignore_ascii_case(TABLE) {
                    (self.schema.to_vec(), true)
                } else if let Some(cte) = self.ctes.iter().rev().find(|c| c.name == written) {
                    (cte.columns.clone(), false)
                } else {
                    // Names no other table: what else the store holds is none of this
                    // query's business.
                    return Err(ONLY_TABLE.into());
                };
                *name = ObjectName::from(vec![quoted(if is_table { self.view } else { &written })]);
                let shown = match alias {
                    Some(a) => {
                        a.name = quoted(&a.name.value);
                        a.name.value.clone()
                    }
                    None => {
                        // `table.col` keeps working: the view is read under that name.
                        *alias = Some(TableAlias {
                            explicit: true,
                            name: quoted(&written),
                            columns: Vec::new(),
                            at: None,
                        });
                        written
                    }
                };
                Ok(vec![Relation {
                    name: shown,
                    columns,
                }])
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                // A derived table sees the CTEs, not the query around it.
                let outer = std::mem::take(&mut self.scopes);
                let columns = self.query(subquery);
                self.scopes = outer;
                let columns = columns?;
                let name = match alias {
                    Some(a) => {
                        a.name = quoted(&a.name.value);
                        a.name.value.clone()
                    }
                    None => String::new(),
                };
                Ok(vec![Relation { name, columns }])
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                let mut rels = self.relation(&mut table_with_joins.relation)?;
                for j in &mut table_with_joins.joins {
                    rels.extend(self.relation(&mut j.relation)?);
                }
                Ok(rels)
            }
            other => Err(format!(
                "This FROM item is not supported by the local Domo: {other}"
            )),
        }
    }

    fn select(
        &mut self,
        s: &mut Select,
        order_by: Option<&mut sqlparser::ast::OrderBy>,
    ) -> Result<Vec<(String, Ty)>, String> {
        if s.top.is_some()
            || s.into.is_some()
            || !s.lateral_views.is_empty()
            || s.prewhere.is_some()
            || !s.connect_by.is_empty()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
            || s.qualify.is_some()
            || s.value_table_mode.is_some()
            || s.exclude.is_some()
        {
            return Err(format!(
                "This SELECT form is not supported by the local Domo: {s}"
            ));
        }
        if let Some(Distinct::On(_)) = s.distinct {
            return Err("DISTINCT ON is not supported by the local Domo".into());
        }
        let mut relations = Vec::new();
        for twj in &mut s.from {
            relations.extend(self.relation(&mut twj.relation)?);
            for j in &mut twj.joins {
                relations.extend(self.relation(&mut j.relation)?);
            }
        }
        self.scopes.push(Scope {
            relations,
            aliases: Vec::new(),
        });
        let out = self.select_in_scope(s, order_by);
        self.scopes.pop();
        out
    }

    fn select_in_scope(
        &mut self,
        s: &mut Select,
        order_by: Option<&mut sqlparser::ast::OrderBy>,
    ) -> Result<Vec<(String, Ty)>, String> {
        for twj in &mut s.from {
            for j in &mut twj.joins {
                let constraint = match &mut j.join_operator {
                    JoinOperator::Join(c)
                    | JoinOperator::Inner(c)
                    | JoinOperator::Left(c)
                    | JoinOperator::LeftOuter(c)
                    | JoinOperator::Right(c)
                    | JoinOperator::RightOuter(c)
                    | JoinOperator::FullOuter(c)
                    | JoinOperator::CrossJoin(c) => c,
                    other => {
                        return Err(format!(
                            "This join is not supported by the local Domo: {other:?}"
                        ));
                    }
                };
                match constraint {
                    JoinConstraint::On(e) => {
                        self.expr(e)?;
                    }
                    JoinConstraint::Using(names) => {
                        for n in names.iter_mut() {
                            *n = ObjectName::from(vec![quoted(&ident_name(n))]);
                        }
                    }
                    JoinConstraint::Natural | JoinConstraint::None => {}
                    JoinConstraint::UsingAlias(..) => {
                        return Err("USING ... AS is not supported by the local Domo".into());
                    }
                }
            }
        }
        let mut columns = Vec::new();
        let distinct = s.distinct.is_some();
        for item in &mut s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let name = match &*e {
                        Expr::Identifier(i) => i.value.clone(),
                        Expr::CompoundIdentifier(parts) => {
                            parts.last().map(|i| i.value.clone()).unwrap_or_default()
                        }
                        other => self.as_written(other),
                    };
                    let ty = self.expr(e)?;
                    if distinct {
                        self.ordered_text(e, ty);
                    }
                    let as_named = quoted(&name);
                    // SQLite names the column by the rewritten text; the alias keeps
                    // the name as written.
                    *item = SelectItem::ExprWithAlias {
                        expr: take(e),
                        alias: as_named,
                    };
                    columns.push((name, ty));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let ty = self.expr(expr)?;
                    if distinct {
                        self.ordered_text(expr, ty);
                    }
                    *alias = quoted(&alias.value);
                    columns.push((alias.value.clone(), ty));
                }
                SelectItem::Wildcard(_) => {
                    let scope = self.scopes.last().map(|s| &s.relations);
                    for r in scope.into_iter().flatten() {
                        columns.extend(r.columns.iter().cloned());
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => {
                    let want = ident_name(n);
                    let rel = self
                        .scopes
                        .last()
                        .and_then(|s| s.relations.iter().find(|r| r.name == want))
                        .ok_or_else(|| format!("Unknown table '{want}'"))?;
                    columns.extend(rel.columns.iter().cloned());
                    *n = ObjectName::from(vec![quoted(&want)]);
                }
                other => {
                    return Err(format!(
                        "This select item is not supported by the local Domo: {other}"
                    ));
                }
            }
        }
        if let Some(w) = &mut s.selection {
            self.expr(w)?;
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.aliases = columns.clone();
        }
        match &mut s.group_by {
            GroupByExpr::Expressions(exprs, modifiers) => {
                if !modifiers.is_empty() {
                    return Err(
                        "GROUP BY ... WITH ROLLUP is not supported by the local Domo".into(),
                    );
                }
                for e in exprs {
                    let ty = self.expr(e)?;
                    self.ordered_text(e, ty);
                }
            }
            GroupByExpr::All(_) => {
                return Err("GROUP BY ALL is not supported by the local Domo".into());
            }
        }
        if let Some(h) = &mut s.having {
            self.expr(h)?;
        }
        for w in &mut s.named_window {
            if let sqlparser::ast::NamedWindowExpr::WindowSpec(spec) = &mut w.1 {
                for e in &mut spec.partition_by {
                    self.expr(e)?;
                }
                for o in &mut spec.order_by {
                    let ty = self.expr(&mut o.expr)?;
                    sort_exactly(&mut o.expr, ty);
                    self.ordered_text(&mut o.expr, ty);
                }
            }
        }
        if let Some(order) = order_by {
            self.order_by(order, true)?;
        }
        Ok(columns)
    }

    /// `keyed`: DECIMAL terms sort by their exact sort key (see `sort_exactly`).
    fn order_by(&mut self, order: &mut sqlparser::ast::OrderBy, keyed: bool) -> Result<(), String> {
        match &mut order.kind {
            OrderByKind::Expressions(exprs) => {
                for o in exprs {
                    let ty = self.expr(&mut o.expr)?;
                    if keyed {
                        sort_exactly(&mut o.expr, ty);
                    }
                    self.ordered_text(&mut o.expr, ty);
                }
                Ok(())
            }
            OrderByKind::All(_) => Err("ORDER BY ALL is not supported by the local Domo".into()),
        }
    }

    /// The type of a column reference, searching the innermost scope first.
    fn column(&self, qualifier: Option<&str>, name: &str) -> Result<Ty, String> {
        for scope in self.scopes.iter().rev() {
            let mut found = scope
                .relations
                .iter()
                .filter(|r| qualifier.is_none_or(|q| r.name == q))
                .flat_map(|r| r.columns.iter())
                .filter(|(c, _)| c.eq_ignore_ascii_case(name));
            if let Some((_, ty)) = found.next() {
                if qualifier.is_none() && found.next().is_some() {
                    return Err(format!("Column '{name}' in field list is ambiguous"));
                }
                return Ok(*ty);
            }
            if qualifier.is_none()
                && let Some((_, ty)) = scope
                    .aliases
                    .iter()
                    .find(|(c, _)| c.eq_ignore_ascii_case(name))
            {
                return Ok(*ty);
            }
        }
        Err(match qualifier {
            Some(q) => format!("no such column: {q}.{name}"),
            None => format!("no such column: {name}"),
        })
    }

    /// Types `e` and rewrites it in place for SQLite.
    fn expr(&mut self, e: &mut Expr) -> Result<Ty, String> {
        match e {
            Expr::Identifier(i) => {
                let ty = self.column(None, &i.value)?;
                *i = quoted(&i.value);
                Ok(ty)
            }
            Expr::CompoundIdentifier(parts) => {
                let [q, c] = parts.as_mut_slice() else {
                    return Err(self.unsupported("A name of this form", e));
                };
                let ty = self.column(Some(&q.value), &c.value)?;
                *q = quoted(&q.value);
                *c = quoted(&c.value);
                Ok(ty)
            }
            Expr::Value(v) => {
                let ty = self.literal(v)?;
                if let (Ty::Decimal(_), Value::Number(n, _)) = (ty, &v.value)
                    && let Some(rusqlite::types::Value::Blob(digits)) =
                        Dec::parse(n).map(|d| d.to_value())
                {
                    // SQLite would read the number as a double: it is written as the
                    // exact form a DECIMAL has in SQLite.
                    v.value = Value::HexStringLiteral(
                        digits.iter().map(|b| format!("{b:02X}")).collect(),
                    );
                }
                Ok(ty)
            }
            Expr::TypedString(ts) => {
                let ty = match ts.data_type {
                    DataType::Date => Ty::Date,
                    DataType::Datetime(_) | DataType::Timestamp(..) => Ty::DateTime,
                    _ => return Err(self.unsupported("This typed literal", e)),
                };
                let text = match &ts.value.value {
                    Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
                    _ => return Err(self.unsupported("This typed literal", e)),
                };
                let p = parse_time(&text)
                    .ok_or_else(|| format!("Incorrect {} value: '{text}'", ts.data_type))?;
                let stored = if ty == Ty::Date {
                    format_date(&p.dt)
                } else {
                    format_datetime(&p.dt)
                };
                *e = string(&stored);
                Ok(ty)
            }
            Expr::Nested(inner) => self.expr(inner),
            Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsFalse(x)
            | Expr::IsNotFalse(x) => {
                self.expr(x)?;
                Ok(Ty::Long)
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                self.expr(a)?;
                self.expr(b)?;
                Ok(Ty::Long)
            }
            Expr::In {
                expr,
                target,
                negated: _,
                global: _,
            } => {
                let ty = self.expr(expr)?;
                match target {
                    sqlparser::ast::InTarget::List(list) => {
                        let mut types = vec![ty];
                        for item in list.iter_mut() {
                            types.push(self.expr(item)?);
                            if ty == Ty::DateTime {
                                as_stored_datetime(item);
                            }
                        }
                        if exact_comparison(&types) {
                            // Each value in its one SQLite form, which `=` then matches.
                            for item in list.iter_mut().chain(std::iter::once(&mut **expr)) {
                                *item = call("__dec", vec![take(item)]);
                            }
                        }
                    }
                    sqlparser::ast::InTarget::Subquery(q) => {
                        self.subquery(q)?;
                    }
                    _ => return Err("IN UNNEST is not supported by the local Domo".into()),
                }
                if ty == Ty::Text && self.options.case_insensitive_strings {
                    self.collate(expr);
                }
                Ok(Ty::Long)
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let ty = self.expr(expr)?;
                let bounds = [self.expr(low)?, self.expr(high)?];
                if exact_comparison(&[ty, bounds[0], bounds[1]]) {
                    let test = call("__dec_between", vec![take(expr), take(low), take(high)]);
                    *e = if *negated {
                        Expr::UnaryOp {
                            op: UnaryOperator::Not,
                            expr: Box::new(test),
                        }
                    } else {
                        test
                    };
                    return Ok(Ty::Long);
                }
                if ty == Ty::DateTime {
                    as_stored_datetime(low);
                    as_stored_datetime(high);
                }
                if ty == Ty::Text && self.options.case_insensitive_strings {
                    self.collate(expr);
                }
                Ok(Ty::Long)
            }
            Expr::Like {
                expr,
                pattern,
                escape_char,
                any,
                ..
            } => {
                if *any {
                    return Err(self.unsupported("LIKE ANY", e));
                }
                self.expr(expr)?;
                self.expr(pattern)?;
                if let Some(esc) = escape_char {
                    self.expr(esc)?;
                }
                Ok(Ty::Long)
            }
            Expr::RLike {
                negated,
                expr,
                pattern,
                ..
            } => {
                self.expr(expr)?;
                self.expr(pattern)?;
                let test = call("__regexp", vec![take(expr), take(pattern)]);
                *e = if *negated {
                    Expr::UnaryOp {
                        op: UnaryOperator::Not,
                        expr: Box::new(test),
                    }
                } else {
                    test
                };
                Ok(Ty::Long)
            }
            Expr::UnaryOp { op, expr } => {
                let ty = self.expr(expr)?;
                if matches!(ty, Ty::Decimal(_)) && *op == UnaryOperator::Minus {
                    *e = call("__dec_neg", vec![take(expr)]);
                    return Ok(ty);
                }
                Ok(match op {
                    UnaryOperator::Not | UnaryOperator::BangNot => Ty::Long,
                    UnaryOperator::Minus | UnaryOperator::Plus => match ty {
                        Ty::Text | Ty::Date | Ty::DateTime => Ty::Double,
                        t => t,
                    },
                    _ => return Err(self.unsupported("This operator", e)),
                })
            }
            Expr::BinaryOp { .. } => self.binary(e),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if let Some(op) = operand {
                    self.expr(op)?;
                }
                let mut results = Vec::new();
                for w in conditions.iter_mut() {
                    self.expr(&mut w.condition)?;
                    results.push(self.expr(&mut w.result)?);
                }
                if let Some(x) = else_result {
                    results.push(self.expr(x)?);
                }
                Ok(typing::common(&results))
            }
            Expr::Cast {
                kind,
                data_type,
                format,
                ..
            } => {
                if format.is_some() || !matches!(kind, CastKind::Cast | CastKind::TryCast) {
                    return Err(self.unsupported("This CAST form", e));
                }
                let data_type = data_type.clone();
                self.cast(e, &data_type)
            }
            Expr::Convert {
                expr,
                data_type: Some(data_type),
                charset: None,
                styles,
                ..
            } if styles.is_empty() => {
                let data_type = data_type.clone();
                let inner = take(expr);
                *e = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(inner),
                    data_type: data_type.clone(),
                    format: None,
                };
                self.cast(e, &data_type)
            }
            Expr::Extract { field, expr, .. } => {
                self.expr(expr)?;
                let unit = match &*field {
                    DateTimeField::DayOfWeek => Some("DAYOFWEEK"),
                    DateTimeField::DayOfYear => Some("DAYOFYEAR"),
                    f => unit_name(f),
                }
                .ok_or_else(|| format!("EXTRACT of {field} is not supported by the local Domo"))?;
                *e = call("__extract", vec![string(unit), take(expr)]);
                Ok(Ty::Long)
            }
            Expr::Ceil { .. } | Expr::Floor { .. } => self.ceil_floor(e),
            Expr::Position { expr, r#in } => {
                self.expr(expr)?;
                self.expr(r#in)?;
                *e = call("LOCATE", vec![take(expr), take(r#in)]);
                Ok(Ty::Long)
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                self.expr(expr)?;
                let mut args = vec![take(expr)];
                if let Some(from) = substring_from {
                    self.expr(from)?;
                    args.push(take(from));
                }
                if let Some(n) = substring_for {
                    self.expr(n)?;
                    args.push(take(n));
                }
                *e = call("__substring", args);
                Ok(Ty::Text)
            }
            Expr::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => {
                if trim_characters.is_some() {
                    return Err(self.unsupported("This TRIM form", e));
                }
                self.expr(expr)?;
                let what = match trim_what {
                    Some(w) => {
                        self.expr(w)?;
                        take(w)
                    }
                    None => string(" "),
                };
                let side = match trim_where {
                    Some(TrimWhereField::Leading) => "LEADING",
                    Some(TrimWhereField::Trailing) => "TRAILING",
                    _ => "BOTH",
                };
                *e = call("__trim", vec![take(expr), what, string(side)]);
                Ok(Ty::Text)
            }
            Expr::Interval(_) => Err(self.unsupported(
                "INTERVAL outside date arithmetic (d + INTERVAL n UNIT, DATE_ADD)",
                e,
            )),
            Expr::Function(_) => self.function(e),
            Expr::Exists { subquery, .. } => {
                self.subquery(subquery)?;
                Ok(Ty::Long)
            }
            Expr::Subquery(q) => {
                let columns = self.subquery(q)?;
                if columns.len() != 1 {
                    return Err("Operand should contain 1 column(s)".into());
                }
                Ok(columns[0].1)
            }
            Expr::Collate { .. } => Err(self.unsupported("COLLATE", e)),
            _ => Err(self.unsupported("This expression", e)),
        }
    }

    /// The type of a literal, rewritten where SQLite reads it otherwise than MySQL.
    fn literal(&self, v: &mut ValueWithSpan) -> Result<Ty, String> {
        Ok(match &mut v.value {
            Value::Number(n, _) => {
                if n.contains(['e', 'E']) {
                    Ty::Double
                } else if let Some((_, frac)) = n.split_once('.') {
                    Ty::Decimal((frac.len() as u8).min(MAX_SCALE))
                } else if n.parse::<i64>().is_ok() {
                    Ty::Long
                } else {
                    Ty::Decimal(0)
                }
            }
            Value::SingleQuotedString(_) => Ty::Text,
            Value::DoubleQuotedString(s) => {
                // MySQL reads "..." as a string; SQLite would read a name.
                v.value = Value::SingleQuotedString(std::mem::take(s));
                Ty::Text
            }
            Value::Boolean(b) => {
                v.value = Value::Number(if *b { "1" } else { "0" }.into(), false);
                Ty::Long
            }
            Value::Null => Ty::Null,
            Value::HexStringLiteral(_) => Ty::Text,
            Value::Placeholder(_) => {
                return Err(
                    "query parameters are not supported: write the values in the SQL".into(),
                );
            }
            _ => {
                return Err(format!(
                    "This literal is not supported by the local Domo: {v}"
                ));
            }
        })
    }

    fn ceil_floor(&mut self, e: &mut Expr) -> Result<Ty, String> {
        let (name, expr, field) = match e {
            Expr::Ceil { expr, field } => ("CEIL", expr, field),
            Expr::Floor { expr, field } => ("FLOOR", expr, field),
            _ => unreachable!(),
        };
        if !matches!(
            field,
            CeilFloorKind::DateTimeField(DateTimeField::NoDateTime)
        ) {
            return Err("CEIL/FLOOR TO a unit is not supported by the local Domo".into());
        }
        let ty = self.expr(expr)?;
        let inner = take(expr);
        *e = call(name, vec![inner]);
        Ok(typing::function(name, &[ty], &|_| None).unwrap_or(Ty::Double))
    }

    fn subquery(&mut self, q: &mut Query) -> Result<Vec<(String, Ty)>, String> {
        self.query(q)
    }

    /// Text that is grouped, sorted, made distinct or compared by MIN/MAX: under the
    /// case-insensitive setting, by the collation `=` uses ('East' and 'east' are one
    /// group). A number alone is a column position, left as it is.
    fn ordered_text(&self, e: &mut Expr, ty: Ty) {
        if ty == Ty::Text
            && self.options.case_insensitive_strings
            && !matches!(e, Expr::Value(_) | Expr::Collate { .. })
        {
            self.collate(e);
        }
    }

    fn collate(&self, e: &mut Expr) {
        let inner = take(e);
        *e = Expr::Collate {
            expr: Box::new(inner),
            collation: ObjectName::from(vec![Ident::new(CI_COLLATION)]),
        };
    }

    fn cast(&mut self, e: &mut Expr, data_type: &DataType) -> Result<Ty, String> {
        let Expr::Cast { expr, .. } = e else {
            unreachable!()
        };
        self.expr(expr)?;
        let inner = take(expr);
        let (out, ty) = match data_type {
            DataType::Date => (call("__cast_date", vec![inner]), Ty::Date),
            DataType::Datetime(_) | DataType::Timestamp(..) => {
                (call("__cast_datetime", vec![inner]), Ty::DateTime)
            }
            DataType::Signed
            | DataType::SignedInteger
            | DataType::Unsigned
            | DataType::UnsignedInteger
            | DataType::Int(_)
            | DataType::Integer(_)
            | DataType::BigInt(_) => (call("__cast_signed", vec![inner]), Ty::Long),
            DataType::Char(_)
            | DataType::Varchar(_)
            | DataType::Nvarchar(_)
            | DataType::Text
            | DataType::String(_) => (
                Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(call("__as_text", vec![inner])),
                    data_type: DataType::Text,
                    format: None,
                },
                Ty::Text,
            ),
            DataType::Decimal(info) | DataType::Numeric(info) | DataType::Dec(info) => {
                let scale = match info {
                    ExactNumberInfo::PrecisionAndScale(_, s) => (*s).clamp(0, i64::from(MAX_SCALE)),
                    _ => 0,
                };
                (
                    call("__round_exact", vec![inner, number(scale)]),
                    Ty::Decimal(scale as u8),
                )
            }
            DataType::Double(_)
            | DataType::DoublePrecision
            | DataType::Float(_)
            | DataType::Real => (
                Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(inner),
                    data_type: DataType::Real,
                    format: None,
                },
                Ty::Double,
            ),
            other => {
                return Err(format!(
                    "CAST to {other} is not supported by the local Domo"
                ));
            }
        };
        *e = out;
        Ok(ty)
    }

    /// `d + INTERVAL n UNIT` (either side) and `d - INTERVAL n UNIT`, if `e` is one.
    fn interval_arithmetic(&mut self, e: &mut Expr) -> Result<Option<Ty>, String> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(None);
        };
        let (date, interval, sign) = match (&mut **left, &*op, &mut **right) {
            (d, BinaryOperator::Plus, Expr::Interval(i)) => (d, i, 1),
            (d, BinaryOperator::Minus, Expr::Interval(i)) => (d, i, -1),
            (Expr::Interval(i), BinaryOperator::Plus, d) => (d, i, 1),
            _ => return Ok(None),
        };
        let unit = interval
            .leading_field
            .as_ref()
            .and_then(unit_name)
            .ok_or_else(|| format!("This INTERVAL unit is not supported: INTERVAL {interval}"))?;
        let date_ty = self.expr(date)?;
        self.expr(&mut interval.value)?;
        let n = take(&mut interval.value);
        let d = take(date);
        let name = if sign > 0 { "DATE_ADD" } else { "DATE_SUB" };
        *e = call(name, vec![d, call("__interval", vec![n, string(unit)])]);
        Ok(Some(date_add_type(date_ty, unit)))
    }

    fn binary(&mut self, e: &mut Expr) -> Result<Ty, String> {
        if let Some(ty) = self.interval_arithmetic(e)? {
            return Ok(ty);
        }
        let Expr::BinaryOp { left, op, right } = e else {
            unreachable!()
        };
        let a = self.expr(left)?;
        let b = self.expr(right)?;
        if is_comparison(op) {
            if a == Ty::DateTime {
                as_stored_datetime(right);
            }
            if b == Ty::DateTime {
                as_stored_datetime(left);
            }
            let strings = matches!(
                (a, b),
                (Ty::Text, Ty::Text | Ty::Null) | (Ty::Null, Ty::Text)
            );
            if strings && self.options.case_insensitive_strings {
                self.collate(right);
            }
            if exact_comparison(&[a, b]) {
                let (l, r) = (take(left), take(right));
                *e = if *op == BinaryOperator::Spaceship {
                    call("__dec_same", vec![l, r])
                } else {
                    Expr::BinaryOp {
                        left: Box::new(call("__dec_cmp", vec![l, r])),
                        op: op.clone(),
                        right: Box::new(number(0)),
                    }
                };
                return Ok(Ty::Long);
            }
            if *op == BinaryOperator::Spaceship {
                *op = BinaryOperator::Custom("IS".into());
            }
            return Ok(Ty::Long);
        }
        let numeric = |t: Ty| match t {
            Ty::Text | Ty::Date | Ty::DateTime => Ty::Double,
            t => t,
        };
        let (na, nb) = (numeric(a), numeric(b));
        let ty = match op {
            BinaryOperator::And | BinaryOperator::Or | BinaryOperator::Xor => {
                if *op == BinaryOperator::Xor {
                    let (l, r) = (take(left), take(right));
                    *e = call("__xor", vec![l, r]);
                }
                Ty::Long
            }
            BinaryOperator::StringConcat => {
                // MySQL's `||` is OR unless PIPES_AS_CONCAT is set, which Domo does not
                // document; CONCAT() is the portable spelling.
                *op = BinaryOperator::Or;
                Ty::Long
            }
            BinaryOperator::Plus | BinaryOperator::Minus | BinaryOperator::Multiply => {
                let (scale, exact) = match op {
                    BinaryOperator::Plus => (na.scale().max(nb.scale()), "__dec_add"),
                    BinaryOperator::Minus => (na.scale().max(nb.scale()), "__dec_sub"),
                    _ => (na.scale() + nb.scale(), "__dec_mul"),
                };
                let ty = typing::arithmetic(na, nb, scale);
                if matches!(ty, Ty::Decimal(_)) {
                    let (l, r) = (take(left), take(right));
                    *e = call(exact, vec![l, r]);
                }
                ty
            }
            BinaryOperator::Divide => {
                let (l, r) = (take(left), take(right));
                if na.is_exact() && nb.is_exact() {
                    let scale = (na.scale() + DIV_SCALE_INCREMENT).min(MAX_SCALE);
                    *e = call("__div", vec![l, r, number(i64::from(scale))]);
                    Ty::Decimal(scale)
                } else {
                    *e = call("__div_real", vec![l, r]);
                    Ty::Double
                }
            }
            BinaryOperator::MyIntegerDivide | BinaryOperator::DuckIntegerDivide => {
                let (l, r) = (take(left), take(right));
                *e = call("__int_div", vec![l, r]);
                Ty::Long
            }
            BinaryOperator::Modulo => {
                let (l, r) = (take(left), take(right));
                *e = call("MOD", vec![l, r]);
                typing::common(&[na, nb])
            }
            BinaryOperator::BitwiseAnd | BinaryOperator::BitwiseOr => Ty::Long,
            BinaryOperator::Regexp => {
                let (l, r) = (take(left), take(right));
                *e = call("__regexp", vec![l, r]);
                Ty::Long
            }
            _ => return Err(self.unsupported("This operator", e)),
        };
        Ok(ty)
    }

    fn function(&mut self, e: &mut Expr) -> Result<Ty, String> {
        let written = self.as_written(e);
        let Expr::Function(f) = e else { unreachable!() };
        let name = ident_name(&f.name).to_ascii_uppercase();
        if f.filter.is_some() || !f.within_group.is_empty() || f.null_treatment.is_some() {
            return Err(format!(
                "This function form is not supported by the local Domo: {written}"
            ));
        }
        if let Some(WindowType::WindowSpec(spec)) = &mut f.over {
            for p in &mut spec.partition_by {
                self.expr(p)?;
            }
            for o in &mut spec.order_by {
                let ty = self.expr(&mut o.expr)?;
                sort_exactly(&mut o.expr, ty);
                self.ordered_text(&mut o.expr, ty);
            }
        }
        let windowed = f.over.is_some();
        let list = match &mut f.args {
            FunctionArguments::None => {
                // CURRENT_TIMESTAMP, CURRENT_DATE written without parentheses.
                f.args = FunctionArguments::List(FunctionArgumentList {
                    duplicate_treatment: None,
                    args: Vec::new(),
                    clauses: Vec::new(),
                });
                let FunctionArguments::List(l) = &mut f.args else {
                    unreachable!()
                };
                l
            }
            FunctionArguments::List(l) => l,
            FunctionArguments::Subquery(_) => {
                return Err(format!("This function form is not supported: {written}"));
            }
        };
        if !list.clauses.is_empty() {
            return Err(format!(
                "This function form is not supported by the local Domo: {written}"
            ));
        }
        // Date units written as bare words.
        if matches!(name.as_str(), "TIMESTAMPDIFF" | "TIMESTAMPADD")
            && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(first))) = list.args.first_mut()
        {
            let unit = unit_word(first)
                .ok_or_else(|| format!("{name} needs a unit first (DAY, MONTH, ...): {written}"))?;
            *first = string(&unit);
        }
        let mut args: Vec<&mut Expr> = Vec::new();
        let mut star = false;
        for a in &mut list.args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => args.push(x),
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard) if name == "COUNT" => star = true,
                _ => {
                    return Err(format!(
                        "This function argument is not supported by the local Domo: {written}"
                    ));
                }
            }
        }
        let mut types = Vec::with_capacity(args.len());
        let skip_first = matches!(name.as_str(), "TIMESTAMPDIFF" | "TIMESTAMPADD");
        for (i, a) in args.iter_mut().enumerate() {
            if skip_first && i == 0 {
                types.push(Ty::Text);
                continue;
            }
            // DATE_ADD(d, INTERVAL n UNIT): the interval is an argument here.
            if let Expr::Interval(iv) = &mut **a {
                let unit = iv
                    .leading_field
                    .as_ref()
                    .and_then(unit_name)
                    .ok_or_else(|| format!("This INTERVAL unit is not supported: {written}"))?;
                self.expr(&mut iv.value)?;
                let n = take(&mut iv.value);
                **a = call("__interval", vec![n, string(unit)]);
                types.push(Ty::Text);
                continue;
            }
            types.push(self.expr(a)?);
        }
        let _ = star;
        if matches!(name.as_str(), "MIN" | "MAX" | "COUNT")
            && types.first() == Some(&Ty::Text)
            && let Some(first) = args.first_mut()
        {
            self.ordered_text(first, Ty::Text);
        }
        let literal_int = |i: usize| -> Option<i64> {
            match args.get(i).map(|a| &**a) {
                Some(Expr::Value(ValueWithSpan {
                    value: Value::Number(n, _),
                    ..
                })) => n.parse().ok(),
                Some(Expr::UnaryOp {
                    op: UnaryOperator::Minus,
                    expr,
                }) => match &**expr {
                    Expr::Value(ValueWithSpan {
                        value: Value::Number(n, _),
                        ..
                    }) => n.parse::<i64>().ok().map(|v| -v),
                    _ => None,
                },
                _ => None,
            }
        };
        let literal_text = |i: usize| -> Option<String> {
            match args.get(i).map(|a| &**a) {
                Some(Expr::Value(ValueWithSpan {
                    value: Value::SingleQuotedString(s),
                    ..
                })) => Some(s.clone()),
                _ => None,
            }
        };
        let ty = match name.as_str() {
            "DATE_ADD" | "DATE_SUB" | "ADDDATE" | "SUBDATE" => {
                let unit = literal_interval_unit(args.get(1).map(|a| &**a)).unwrap_or("DAY");
                date_add_type(types.first().copied().unwrap_or(Ty::Null), unit)
            }
            "TIMESTAMPADD" => {
                let unit = literal_text(0).unwrap_or_default();
                date_add_type(types.get(2).copied().unwrap_or(Ty::Null), &unit)
            }
            "STR_TO_DATE" => match literal_text(1) {
                Some(fmt) if !has_time_codes(&fmt) => Ty::Date,
                _ => Ty::DateTime,
            },
            _ => match typing::function(&name, &types, &literal_int) {
                Some(ty) => ty,
                None => {
                    return Err(format!("no such function: {name} (in {written})"));
                }
            },
        };
        // Exact rounding where MySQL rounds exact values; renamed functions.
        let renamed = match name.as_str() {
            "IF" => Some("iif"),
            "LEFT" => Some("__left"),
            "RIGHT" => Some("__right"),
            "CURRENT_TIMESTAMP" | "LOCALTIME" | "LOCALTIMESTAMP" | "SYSDATE" => Some("NOW"),
            "CURRENT_DATE" => Some("CURDATE"),
            "SUBSTRING" | "SUBSTR" | "MID" => Some("__substring"),
            "GREATEST" => Some("__greatest"),
            "LEAST" => Some("__least"),
            "ROUND" if types.first().is_some_and(|t| t.is_exact()) => Some("__round_exact"),
            "TRUNCATE" if types.first().is_some_and(|t| t.is_exact()) => Some("__truncate_exact"),
            "TRUNCATE" => Some("__truncate"),
            "POW" => Some("POWER"),
            "STD" | "STDDEV" => Some("STDDEV_POP"),
            "VARIANCE" => Some("VAR_POP"),
            "UCASE" => Some("UPPER"),
            "LCASE" => Some("LOWER"),
            "CHARACTER_LENGTH" => Some("CHAR_LENGTH"),
            "OCTET_LENGTH" => Some("LENGTH"),
            "CEILING" => Some("CEIL"),
            "DAYOFMONTH" => Some("DAY"),
            "REGEXP_LIKE" => Some("__regexp"),
            "ANY_VALUE" => Some("MIN"),
            "SPACE" => Some("__space"),
            EXTRACT_COMPOUND => Some("__extract"),
            _ => None,
        };
        if let Some(to) = renamed {
            f.name = ObjectName::from(vec![Ident::new(to)]);
        }
        // Exact aggregates of DECIMALs (a window runs SQLite's own, over doubles).
        let first = types.first().copied().unwrap_or(Ty::Null);
        let exact = match name.as_str() {
            "SUM" if first == Ty::Long => Some("__dec_sum".to_owned()),
            "SUM" | "MIN" | "MAX" | "ABS" if matches!(first, Ty::Decimal(_)) => {
                Some(format!("__dec_{}", name.to_ascii_lowercase()))
            }
            "AVG" if ty != Ty::Double => Some(decimal::avg_name(ty.scale())),
            _ => None,
        };
        if let Some(to) = exact
            && (!windowed || name == "ABS")
        {
            f.name = ObjectName::from(vec![Ident::new(to)]);
            return Ok(ty);
        }
        if name == "AVG" && ty != Ty::Double {
            let avg = take(e);
            *e = call("__round_exact", vec![avg, number(i64::from(ty.scale()))]);
        }
        Ok(ty)
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
