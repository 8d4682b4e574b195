//! PDP (personalized data permissions) policies of a dataset, on the public API's
//! `/v1/datasets/{id}/policies[/{pid}]`: which rows of the dataset which users see.
//! Every policy is checked here before anything is sent.

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use crate::answers::list_in;
use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::public::public_only;
use crate::transport::Call;

/// The operators a filter may use.
pub const OPERATORS: &[&str] = &[
    "EQUALS",
    "LIKE",
    "GREATER_THAN",
    "LESS_THAN",
    "GREATER_THAN_EQUAL",
    "LESS_THAN_EQUAL",
    "BETWEEN",
    "BEGINS_WITH",
    "ENDS_WITH",
    "CONTAINS",
];

/// The policy types a client may give.
pub const POLICY_TYPES: &[&str] = &["user", "system"];

/// One condition of a policy: rows whose `column` matches `values` by `operator`
/// (negated if `not`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyFilter {
    pub column: String,
    pub values: Vec<String>,
    pub operator: String,
    pub not: bool,
}

impl PolicyFilter {
    /// Checks the filter; the operator is taken in any case and sent in capitals.
    pub fn new(column: &str, values: Vec<String>, operator: &str, not: bool) -> Result<Self> {
        if column.is_empty() {
            return Err(Error::invalid("a policy filter's column is empty"));
        }
        let operator = operator.trim().to_ascii_uppercase();
        if !OPERATORS.contains(&operator.as_str()) {
            return Err(Error::invalid(format!(
                "{operator:?} is not a filter operator; use one of {}",
                OPERATORS.join(", ")
            )));
        }
        if values.is_empty() {
            return Err(Error::invalid(format!(
                "the filter on column {column:?} has no values"
            )));
        }
        if operator == "BETWEEN" && values.len() != 2 {
            return Err(Error::invalid(format!(
                "a BETWEEN filter takes exactly two values (low, high), not {}",
                values.len()
            )));
        }
        Ok(PolicyFilter {
            column: column.to_owned(),
            values,
            operator,
            not,
        })
    }
}

/// What a policy says, or for an update what changes (fields left `None` stay).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicySpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<PolicyFilter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<i64>>,
}

impl PolicySpec {
    /// Checks the spec: a creation needs a name; a type is user or system; ids are
    /// positive.
    pub fn validate(&self, create: bool) -> Result<()> {
        match &self.name {
            Some(name) if name.trim().is_empty() => {
                return Err(Error::invalid("the policy name is empty"));
            }
            None if create => return Err(Error::invalid("a new policy needs a name")),
            _ => {}
        }
        if let Some(kind) = &self.kind
            && !POLICY_TYPES.contains(&kind.as_str())
        {
            return Err(Error::invalid(format!(
                "{kind:?} is not a policy type; use \"user\" or \"system\""
            )));
        }
        for (what, ids) in [("users", &self.users), ("groups", &self.groups)] {
            if let Some(bad) = ids.iter().flatten().find(|id| **id <= 0) {
                return Err(Error::invalid(format!(
                    "{what} holds {bad}, which is not a Domo id"
                )));
            }
        }
        if !create
            && self.name.is_none()
            && self.kind.is_none()
            && self.filters.is_none()
            && self.users.is_none()
            && self.groups.is_none()
        {
            return Err(Error::invalid("nothing to change in the policy"));
        }
        Ok(())
    }
}

fn policy_id_text(policy_id: i64) -> Result<String> {
    if policy_id <= 0 {
        return Err(Error::invalid(format!(
            "{policy_id} is not a policy id (policy ids are positive)"
        )));
    }
    Ok(policy_id.to_string())
}

impl Dataset {
    fn policies_url(&self, what: &str, policy: Option<&str>) -> Result<url::Url> {
        if !self.client.is_public_api() {
            return Err(public_only(what));
        }
        let mut rest = vec!["policies"];
        rest.extend(policy);
        Ok(self.public_route(&rest))
    }

    /// The dataset's policies, as Domo describes them (`id`, `type`, `name`, `filters`,
    /// `users`, `groups`).
    pub async fn policies(&self) -> Result<Vec<Value>> {
        let call = Call::new(Method::GET, self.policies_url("ds.policies()", None)?);
        let answer: Value = self.client.transport.json(&call).await?;
        list_in(answer, &["policies"], &call)
    }

    /// One policy.
    pub async fn policy(&self, policy_id: i64) -> Result<Value> {
        let id = policy_id_text(policy_id)?;
        let call = Call::new(Method::GET, self.policies_url("ds.policy()", Some(&id))?);
        self.client.transport.json(&call).await
    }

    /// Creates a policy; returns it with its id. Sent once.
    pub async fn create_policy(&self, spec: &PolicySpec) -> Result<Value> {
        spec.validate(true)?;
        let url = self.policies_url("ds.create_policy()", None)?;
        let mut spec = spec.clone();
        spec.kind.get_or_insert_with(|| "user".to_owned());
        spec.filters.get_or_insert_with(Vec::new);
        spec.users.get_or_insert_with(Vec::new);
        spec.groups.get_or_insert_with(Vec::new);
        let call = Call::new(Method::POST, url).json(&spec)?.once();
        self.client.transport.json(&call).await
    }

    /// Changes what `spec` gives of a policy; returns the policy as changed.
    pub async fn update_policy(&self, policy_id: i64, spec: &PolicySpec) -> Result<Value> {
        let id = policy_id_text(policy_id)?;
        spec.validate(false)?;
        let url = self.policies_url("ds.update_policy()", Some(&id))?;
        let call = Call::new(Method::PUT, url).json(spec)?;
        self.client.transport.json(&call).await
    }

    /// Deletes a policy. Sent once: after a lost answer it may be gone already.
    pub async fn delete_policy(&self, policy_id: i64) -> Result<()> {
        let id = policy_id_text(policy_id)?;
        let url = self.policies_url("ds.delete_policy()", Some(&id))?;
        let call = Call::new(Method::DELETE, url).once();
        self.client.transport.send(&call).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked() {
        assert!(PolicyFilter::new("a", vec!["1".into()], "equals", false).is_ok());
        assert!(PolicyFilter::new("a", vec!["1".into()], "SOUNDS_LIKE", false).is_err());
        assert!(PolicyFilter::new("a", vec![], "EQUALS", false).is_err());
        assert!(PolicyFilter::new("a", vec!["1".into()], "BETWEEN", false).is_err());
        assert!(PolicyFilter::new("", vec!["1".into()], "EQUALS", false).is_err());
    }

    #[test]
    fn specs_are_checked() {
        let mut spec = PolicySpec::default();
        assert!(spec.validate(true).is_err());
        assert!(spec.validate(false).is_err());
        spec.name = Some("East".into());
        assert!(spec.validate(true).is_ok());
        spec.kind = Some("open".into());
        assert!(spec.validate(true).is_err());
        spec.kind = None;
        spec.users = Some(vec![0]);
        assert!(spec.validate(true).is_err());
    }

    #[test]
    fn updates_send_only_what_changes() {
        let spec = PolicySpec {
            users: Some(vec![7]),
            ..PolicySpec::default()
        };
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            serde_json::json!({"users": [7]})
        );
    }
}
