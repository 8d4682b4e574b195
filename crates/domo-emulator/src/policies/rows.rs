//! The row filter PDP policies put on what a user reads through a query or an export.
//!
//! Who sees what: the administrator and the dataset's owners (OWNER, CO_OWNER) see every
//! row. Anyone else sees the rows of every policy that names them (in `users`), or that
//! is an `open` policy naming nobody (the "All Rows" policy a new dataset has): the
//! filters of one policy all hold (AND), rows of several policies add up (OR). A user no
//! policy names sees no rows. Groups are stored but not resolved: the emulator has no
//! group membership, so a policy naming only groups gives nobody rows.
//!
//! The filter is SQL text naming only the dataset's own columns (quoted identifiers) with
//! every value a bound parameter: a policy's values never become SQL text.

use std::ffi::c_int;

use axum::Extension;
use serde_json::Value as Json;

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::state::AppState;
use crate::store::{ADMIN_ID, Cells, quote_ident, rank};

/// A condition on rows: SQL over the dataset's columns, and the values of its parameters
/// (`?N` from the first number it was built with), all bound as text (a column's type
/// affinity turns a number's text into a number for the comparison).
#[derive(Debug, Clone, PartialEq)]
pub struct RowFilter {
    pub sql: String,
    pub params: Vec<String>,
    /// The number of the first parameter.
    pub first: usize,
}

impl RowFilter {
    /// The filter of a user no policy gives any row.
    fn nothing(first: usize) -> RowFilter {
        RowFilter {
            sql: "0".into(),
            params: Vec::new(),
            first,
        }
    }
}

/// `sql` (a translated query whose `table` is read as `name`) over the rows of `view`
/// (the dataset's quoted view name) that `filter` lets through: a common table
/// expression named `name` holds those rows, ahead of the query's own, so the query runs
/// as written, its order included.
pub fn with_filtered_rows(sql: &str, name: &str, view: &str, filter: &RowFilter) -> String {
    let rows = format!(
        "{} AS (SELECT * FROM {view} WHERE {})",
        quote_ident(name),
        filter.sql
    );
    let sql = sql.trim_start();
    for head in ["WITH RECURSIVE ", "WITH "] {
        if sql
            .get(..head.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(head))
        {
            return format!("{head}{rows}, {}", &sql[head.len()..]);
        }
    }
    format!("WITH {rows} {sql}")
}

/// `sql` prepared with `filter`'s parameters bound.
pub fn prepare_filtered<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    filter: Option<&RowFilter>,
) -> rusqlite::Result<Cells<'c>> {
    let mut cells = Cells::prepare(conn, sql)?;
    if let Some(filter) = filter {
        for (i, value) in filter.params.iter().enumerate() {
            let index =
                c_int::try_from(filter.first + i).map_err(|_| rusqlite::Error::InvalidQuery)?;
            cells.bind_text(index, value)?;
        }
    }
    Ok(cells)
}

/// Whether `policy` gives `user` rows.
fn names(policy: &Json, user: &str) -> bool {
    let listed = |key: &str| {
        policy
            .get(key)
            .and_then(Json::as_array)
            .map_or(Vec::new(), |a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect()
            })
    };
    let users = listed("users");
    if users.iter().any(|u| u == user) {
        return true;
    }
    policy.get("type").and_then(Json::as_str) == Some("open")
        && users.is_empty()
        && listed("groups").is_empty()
}

/// `text` as a LIKE pattern matching itself (with `\` as the escape).
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One filter as SQL; its values are pushed to `params`, numbered from `first`.
fn filter_sql(f: &Json, first: usize, params: &mut Vec<String>) -> Option<String> {
    let column = quote_ident(f.get("column")?.as_str()?);
    let values: Vec<String> = f
        .get("values")?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let mut param = |value: String| {
        params.push(value);
        format!("?{}", first + params.len() - 1)
    };
    let any = |cond: &mut dyn FnMut(&str) -> String| {
        let parts: Vec<String> = values.iter().map(|v| cond(v)).collect();
        format!("({})", parts.join(" OR "))
    };
    let operator = f.get("operator").and_then(Json::as_str).unwrap_or("EQUALS");
    let like = |pattern: String, param: &mut dyn FnMut(String) -> String| {
        format!("{column} LIKE {} ESCAPE '\\'", param(pattern))
    };
    let sql = match operator {
        "EQUALS" => {
            let list: Vec<String> = values.iter().map(|v| param(v.clone())).collect();
            format!("{column} IN ({})", list.join(", "))
        }
        "BETWEEN" => {
            let (low, high) = (
                param(values.first()?.clone()),
                param(values.get(1)?.clone()),
            );
            format!("{column} BETWEEN {low} AND {high}")
        }
        "LIKE" => any(&mut |v: &str| like(v.to_owned(), &mut param)),
        "BEGINS_WITH" => any(&mut |v: &str| like(format!("{}%", like_literal(v)), &mut param)),
        "ENDS_WITH" => any(&mut |v: &str| like(format!("%{}", like_literal(v)), &mut param)),
        "CONTAINS" => any(&mut |v: &str| like(format!("%{}%", like_literal(v)), &mut param)),
        comparison => {
            let op = match comparison {
                "GREATER_THAN" => ">",
                "LESS_THAN" => "<",
                "GREATER_THAN_EQUAL" => ">=",
                "LESS_THAN_EQUAL" => "<=",
                _ => return None,
            };
            any(&mut |v: &str| format!("{column} {op} {}", param(v.to_owned())))
        }
    };
    let negated = f.get("not").and_then(Json::as_bool).unwrap_or(false);
    // A null cell matches no filter, negated or not.
    Some(if negated {
        format!("({column} IS NOT NULL AND NOT ({sql}))")
    } else {
        format!("({sql})")
    })
}

/// The rows of `ds` that `policies` give `user`, as a filter with parameters numbered
/// from `first`; `None` for every row.
pub fn row_filter(policies: &[Json], user: &str, first: usize) -> Option<RowFilter> {
    let mut params = Vec::new();
    let mut any_of = Vec::new();
    for policy in policies.iter().filter(|p| names(p, user)) {
        let filters = policy
            .get("filters")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        if filters.is_empty() {
            return None;
        }
        let all: Vec<String> = filters
            .iter()
            .filter_map(|f| filter_sql(f, first, &mut params))
            .collect();
        any_of.push(format!("({})", all.join(" AND ")));
    }
    if any_of.is_empty() {
        return Some(RowFilter::nothing(first));
    }
    Some(RowFilter {
        sql: any_of.join(" OR "),
        params,
        first,
    })
}

/// The filter on what `user` reads of dataset `id` (`None`: every row), parameters
/// numbered from `first`.
pub fn filter_for(
    st: &AppState,
    id: &str,
    user: &str,
    first: usize,
) -> Result<Option<RowFilter>, ApiError> {
    if user == ADMIN_ID {
        return Ok(None);
    }
    let store = &st.inner.store;
    if store.access_rank(id, user)?.unwrap_or(0) >= rank("CO_OWNER") {
        return Ok(None);
    }
    Ok(row_filter(&store.policies(id)?, user, first))
}

/// The user a request acts as.
pub fn user_of(caller: Option<Extension<Caller>>) -> String {
    caller.map_or_else(|| ADMIN_ID.to_owned(), |Extension(c)| c.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::all_rows;
    use serde_json::json;

    fn policy(users: &[&str], filters: Json) -> Json {
        json!({"type": "user", "users": users, "groups": [], "filters": filters})
    }

    #[test]
    fn values_are_parameters_never_sql() {
        let p = policy(
            &["7"],
            json!([{"column": "re\"gion", "values": ["x' OR 1=1 --", "b"], "operator": "EQUALS", "not": false}]),
        );
        let f = row_filter(&[p], "7", 2).unwrap();
        assert_eq!(f.sql, "((\"re\"\"gion\" IN (?2, ?3)))");
        assert_eq!(f.params, vec!["x' OR 1=1 --", "b"]);
    }

    #[test]
    fn policies_add_up_and_filters_narrow() {
        let a = policy(
            &["7"],
            json!([
                {"column": "a", "values": ["1", "5"], "operator": "BETWEEN", "not": false},
                {"column": "b", "values": ["x%"], "operator": "BEGINS_WITH", "not": true},
            ]),
        );
        let b = policy(
            &["7"],
            json!([{"column": "c", "values": ["3"], "operator": "GREATER_THAN"}]),
        );
        let f = row_filter(&[a, b], "7", 1).unwrap();
        assert_eq!(
            f.sql,
            "((\"a\" BETWEEN ?1 AND ?2) AND (\"b\" IS NOT NULL AND NOT ((\"b\" LIKE ?3 ESCAPE '\\')))) OR (((\"c\" > ?4)))"
        );
        assert_eq!(f.params, vec!["1", "5", "x\\%%", "3"]);
    }

    #[test]
    fn the_open_policy_gives_everyone_every_row_and_nobody_gets_nothing() {
        assert_eq!(row_filter(&[all_rows(1)], "7", 1), None);
        let other = policy(&["8"], json!([{"column": "a", "values": ["1"]}]));
        assert_eq!(row_filter(&[other], "7", 1), Some(RowFilter::nothing(1)));
        assert_eq!(row_filter(&[], "7", 1), Some(RowFilter::nothing(1)));
    }
}
