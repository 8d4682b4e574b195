//! PDP policies of a dataset (`ds.policies()` and friends): converting filters, users
//! and groups from Python; the public API's routes are domo-core's.

use domo_core::policies::{PolicyFilter, PolicySpec};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::Value;

use crate::convert::json_to_py;
use crate::dataset::PyDataset;
use crate::errors::to_py;
use crate::runtime::{block_on, spawn};
use crate::versions::{list_to_owned, list_to_py, py_json, value_to_owned};

/// A filter value as text: Domo's policies hold strings.
fn value_text(column: &str, v: &Value) -> PyResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(PyValueError::new_err(format!(
            "the filter on column {column:?} has the value {other}; values are strings or numbers"
        ))),
    }
}

/// `filters` as given from Python: a list of dicts with `column`, `values`, and
/// optionally `operator` (EQUALS) and `not` (False).
fn filters_from_py(filters: &Bound<'_, PyAny>) -> PyResult<Vec<PolicyFilter>> {
    let Value::Array(items) = py_json(filters)? else {
        return Err(PyValueError::new_err(
            "filters must be a list of dicts with column, values, operator and not",
        ));
    };
    items
        .iter()
        .map(|item| {
            let Value::Object(map) = item else {
                return Err(PyValueError::new_err(format!(
                    "a filter must be a dict with column and values, not {item}"
                )));
            };
            if let Some(key) = map
                .keys()
                .find(|k| !["column", "values", "operator", "not"].contains(&k.as_str()))
            {
                return Err(PyValueError::new_err(format!(
                    "a filter has no key {key:?}; its keys are column, values, operator and not"
                )));
            }
            let column = map.get("column").and_then(Value::as_str).ok_or_else(|| {
                PyValueError::new_err("a filter's column must be a column name (str)")
            })?;
            let values = match map.get("values") {
                Some(Value::Array(values)) => values
                    .iter()
                    .map(|v| value_text(column, v))
                    .collect::<PyResult<Vec<_>>>()?,
                _ => {
                    return Err(PyValueError::new_err(format!(
                        "the filter on column {column:?} needs values, a list"
                    )));
                }
            };
            let operator = match map.get("operator") {
                None | Some(Value::Null) => "EQUALS",
                Some(Value::String(s)) => s.as_str(),
                Some(other) => {
                    return Err(PyValueError::new_err(format!(
                        "a filter's operator must be a str, not {other}"
                    )));
                }
            };
            let not = match map.get("not") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(PyValueError::new_err(format!(
                        "a filter's not must be True or False, not {other}"
                    )));
                }
            };
            PolicyFilter::new(column, values, operator, not).map_err(to_py)
        })
        .collect()
}

/// The policy arguments as a spec (fields not given stay `None`).
fn spec_from_py(
    name: Option<String>,
    kind: Option<String>,
    filters: Option<&Bound<'_, PyAny>>,
    users: Option<Vec<i64>>,
    groups: Option<Vec<i64>>,
) -> PyResult<PolicySpec> {
    Ok(PolicySpec {
        name,
        kind,
        filters: filters
            .filter(|f| !f.is_none())
            .map(filters_from_py)
            .transpose()?,
        users,
        groups,
    })
}

#[pymethods]
impl PyDataset {
    /// The dataset's PDP policies (public API): each a dict with id, type, name,
    /// filters, users and groups.
    fn policies<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let ds = self.inner.clone();
        let items = block_on(py, async move { ds.policies().await })?;
        list_to_py(py, &items)
    }

    async fn policies_async(&self) -> PyResult<Py<PyList>> {
        let ds = self.inner.clone();
        let items = spawn(async move { ds.policies().await }).await?;
        list_to_owned(&items)
    }

    /// One PDP policy, by id.
    fn policy<'py>(&self, py: Python<'py>, policy_id: i64) -> PyResult<Bound<'py, PyAny>> {
        let ds = self.inner.clone();
        let value = block_on(py, async move { ds.policy(policy_id).await })?;
        json_to_py(py, &value)
    }

    async fn policy_async(&self, policy_id: i64) -> PyResult<Py<PyAny>> {
        let ds = self.inner.clone();
        let value = spawn(async move { ds.policy(policy_id).await }).await?;
        value_to_owned(&value)
    }

    /// Creates a PDP policy: the rows matching every filter, for `users` and `groups`.
    /// A filter is a dict: column, values, operator (EQUALS by default; LIKE,
    /// GREATER_THAN, LESS_THAN, GREATER_THAN_EQUAL, LESS_THAN_EQUAL, BETWEEN,
    /// BEGINS_WITH, ENDS_WITH, CONTAINS) and not (False by default). Returns the policy
    /// with its id. Checked before anything is sent.
    #[pyo3(signature = (name, *, filters, users=None, groups=None, r#type="user".to_string()))]
    fn create_policy<'py>(
        &self,
        py: Python<'py>,
        name: String,
        filters: &Bound<'py, PyAny>,
        users: Option<Vec<i64>>,
        groups: Option<Vec<i64>>,
        r#type: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let spec = spec_from_py(Some(name), Some(r#type), Some(filters), users, groups)?;
        spec.validate(true).map_err(to_py)?;
        let ds = self.inner.clone();
        let value = block_on(py, async move { ds.create_policy(&spec).await })?;
        json_to_py(py, &value)
    }

    #[pyo3(signature = (name, *, filters, users=None, groups=None, r#type="user".to_string()))]
    async fn create_policy_async(
        &self,
        name: String,
        filters: Py<PyAny>,
        users: Option<Vec<i64>>,
        groups: Option<Vec<i64>>,
        r#type: String,
    ) -> PyResult<Py<PyAny>> {
        let spec = Python::attach(|py| {
            spec_from_py(
                Some(name),
                Some(r#type),
                Some(filters.bind(py)),
                users,
                groups,
            )
        })?;
        spec.validate(true).map_err(to_py)?;
        let ds = self.inner.clone();
        let value = spawn(async move { ds.create_policy(&spec).await }).await?;
        value_to_owned(&value)
    }

    /// Changes a PDP policy: what is given replaces what the policy had; the rest stays.
    /// Returns the policy as changed.
    #[pyo3(signature = (policy_id, *, name=None, filters=None, users=None, groups=None, r#type=None))]
    #[allow(clippy::too_many_arguments)]
    fn update_policy<'py>(
        &self,
        py: Python<'py>,
        policy_id: i64,
        name: Option<String>,
        filters: Option<&Bound<'py, PyAny>>,
        users: Option<Vec<i64>>,
        groups: Option<Vec<i64>>,
        r#type: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let spec = spec_from_py(name, r#type, filters, users, groups)?;
        spec.validate(false).map_err(to_py)?;
        let ds = self.inner.clone();
        let value = block_on(py, async move { ds.update_policy(policy_id, &spec).await })?;
        json_to_py(py, &value)
    }

    #[pyo3(signature = (policy_id, *, name=None, filters=None, users=None, groups=None, r#type=None))]
    #[allow(clippy::too_many_arguments)]
    async fn update_policy_async(
        &self,
        policy_id: i64,
        name: Option<String>,
        filters: Option<Py<PyAny>>,
        users: Option<Vec<i64>>,
        groups: Option<Vec<i64>>,
        r#type: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let spec = Python::attach(|py| {
            let filters = filters.as_ref().map(|f| f.bind(py).clone());
            spec_from_py(name, r#type, filters.as_ref(), users, groups)
        })?;
        spec.validate(false).map_err(to_py)?;
        let ds = self.inner.clone();
        let value = spawn(async move { ds.update_policy(policy_id, &spec).await }).await?;
        value_to_owned(&value)
    }

    /// Deletes a PDP policy.
    fn delete_policy(&self, py: Python<'_>, policy_id: i64) -> PyResult<()> {
        let ds = self.inner.clone();
        block_on(py, async move { ds.delete_policy(policy_id).await })
    }

    async fn delete_policy_async(&self, policy_id: i64) -> PyResult<()> {
        let ds = self.inner.clone();
        spawn(async move { ds.delete_policy(policy_id).await }).await
    }
}
