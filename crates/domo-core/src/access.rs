//! Who can use a dataset: the access list, sharing, revoking, removing users, and the
//! owner. Inputs are checked against the values the API accepts before anything is sent.

use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

use crate::answers::list_in;
use crate::codec::listings::{FieldKind, RecordColumn, col};
use crate::datasets::{Dataset, validate_id};
use crate::error::{Error, Result};
use crate::routes;
use crate::transport::Call;

/// Access levels a permission can grant, weakest first.
pub const ACCESS_LEVELS: &[&str] = &["CAN_VIEW", "CAN_SHARE", "CAN_EDIT", "CO_OWNER"];
/// Who a permission can be granted to (and who can own a dataset).
pub const PERMISSION_TYPES: &[&str] = &["USER", "GROUP"];
/// Entity types whose access can be revoked.
pub const REVOKE_TYPES: &[&str] = &[
    "USER",
    "GROUP",
    "CARD",
    "VIRTUAL_USER",
    "APPROVAL",
    "ENIGMA_FORM_INSTANCE",
    "DATA_APP",
    "DATA_APP_VIEW",
    "WORKFLOW",
    "REPORT_VIEW_PAGE",
];

/// `value` upper-cased if it is one of `allowed`, else an error naming them.
pub(crate) fn one_of(what: &str, value: &str, allowed: &[&str]) -> Result<String> {
    let upper = value.trim().to_ascii_uppercase();
    if allowed.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(Error::invalid(format!(
            "{value:?} is not a valid {what}; use one of {}",
            allowed.join(", ")
        )))
    }
}

/// One grant of access to a user or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(rename = "accessLevel")]
    pub access_level: String,
}

impl Permission {
    /// A checked permission: `kind` USER or GROUP, `access_level` one of `ACCESS_LEVELS`.
    pub fn new(kind: &str, id: &str, access_level: &str) -> Result<Permission> {
        let kind = one_of("permission type", kind, PERMISSION_TYPES)?;
        validate_id(&kind.to_ascii_lowercase(), id)?;
        Ok(Permission {
            kind,
            id: id.to_string(),
            access_level: one_of("access level", access_level, ACCESS_LEVELS)?,
        })
    }
}

fn non_empty<T>(what: &str, items: &[T]) -> Result<()> {
    if items.is_empty() {
        return Err(Error::invalid(format!("no {what} given")));
    }
    Ok(())
}

/// The access list as a table.
pub const PERMISSION_COLUMNS: &[RecordColumn] = &[
    col("id", &["id"], FieldKind::Text),
    col("type", &["type"], FieldKind::Text),
    col("name", &["name", "displayName"], FieldKind::Text),
    col("access_level", &["accessLevel"], FieldKind::Text),
];

impl Dataset {
    /// Sends a change whose answer carries nothing of use.
    pub(crate) async fn send_change(&self, call: Call) -> Result<()> {
        self.client.transport.send(&call).await.map(drop)
    }

    fn v3(&self, suffix: &[&str]) -> url::Url {
        self.url(&routes::DATASOURCES, suffix, &[])
    }

    /// Users and groups with access to the dataset, each `{"id", "type", "name",
    /// "accessLevel"}`.
    pub async fn permissions(&self) -> Result<Vec<Value>> {
        let call = Call::new(Method::GET, self.v3(&["permissions"]));
        let answer: Value = self.client.transport.json(&call).await?;
        // The live service sends `{"list": [...]}`; the contract documents
        // `{"permissions": [...]}`. Both are read.
        list_in(answer, &["list", "permissions"], &call)
    }

    /// Sets these permissions (others are kept).
    pub async fn update_permissions(&self, permissions: &[Permission]) -> Result<()> {
        non_empty("permissions", permissions)?;
        let call = Call::new(Method::PUT, self.v3(&["permissions"]))
            .json(&json!({ "permissions": permissions }))?;
        self.send_change(call).await
    }

    /// Shares the dataset, optionally emailing the people it is shared with.
    pub async fn share(&self, permissions: &[Permission], send_email: bool) -> Result<()> {
        non_empty("permissions", permissions)?;
        let call = Call::new(Method::POST, self.v3(&["share"]))
            .json(&json!({ "permissions": permissions, "sendEmail": send_email }))?;
        // Sharing twice grants nothing more, but it may email twice: never repeated.
        self.send_change(call.once()).await
    }

    /// Removes the access of one entity (`entity_type` is one of `REVOKE_TYPES`).
    pub async fn revoke(&self, entity_type: &str, entity_id: &str) -> Result<()> {
        let kind = one_of("entity type", entity_type, REVOKE_TYPES)?;
        validate_id("entity", entity_id)?;
        let call = Call::new(Method::DELETE, self.v3(&["permissions", &kind, entity_id]));
        self.send_change(call).await
    }

    /// Removes one user from the dataset's permissions.
    pub async fn remove_user(&self, user_id: &str) -> Result<()> {
        validate_id("user", user_id)?;
        let call = Call::new(Method::DELETE, self.v3(&["USERS", user_id]));
        self.send_change(call).await
    }

    /// Removes several users from the dataset's permissions in one request.
    pub async fn remove_users(&self, user_ids: &[String]) -> Result<()> {
        non_empty("user ids", user_ids)?;
        for id in user_ids {
            validate_id("user", id)?;
        }
        let body: Vec<Value> = user_ids
            .iter()
            .map(|id| json!({"id": id, "type": "USER"}))
            .collect();
        let call = Call::new(Method::DELETE, self.v3(&["users"])).json(&body)?;
        self.send_change(call).await
    }

    /// The owner, `{"id", "name", "type", "group"}`.
    pub async fn owner(&self) -> Result<Value> {
        let call = Call::new(Method::GET, self.v3(&["owner"]));
        let mut answer: Value = self.client.transport.json(&call).await?;
        Ok(match answer.get_mut("owner") {
            Some(owner) => owner.take(),
            None => answer,
        })
    }

    /// Gives the dataset to another user (or group).
    pub async fn set_owner(&self, owner_id: &str, owner_type: &str) -> Result<()> {
        let kind = one_of("owner type", owner_type, PERMISSION_TYPES)?;
        validate_id("owner", owner_id)?;
        let call = Call::new(Method::PUT, self.v3(&["owner"]))
            .json(&json!({"owner": {"id": owner_id, "type": kind}}))?;
        self.send_change(call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_checked() {
        let p = Permission::new("user", "42", "can_edit").unwrap();
        assert_eq!(
            (p.kind.as_str(), p.access_level.as_str()),
            ("USER", "CAN_EDIT")
        );
        let err = Permission::new("USER", "42", "ADMIN")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CAN_VIEW") && err.contains("CO_OWNER"),
            "{err}"
        );
        assert!(Permission::new("ROBOT", "42", "CAN_VIEW").is_err());
        assert!(Permission::new("USER", "a/b", "CAN_VIEW").is_err());
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"type": "USER", "id": "42", "accessLevel": "CAN_EDIT"})
        );
    }

    #[test]
    fn revoke_types_are_the_spec_list() {
        assert_eq!(
            one_of("t", "data_app_view", REVOKE_TYPES).unwrap(),
            "DATA_APP_VIEW"
        );
        let err = one_of("entity type", "PAGE", REVOKE_TYPES)
            .unwrap_err()
            .to_string();
        assert!(err.contains("REPORT_VIEW_PAGE"), "{err}");
    }
}
