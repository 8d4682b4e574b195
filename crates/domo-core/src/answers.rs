//! Reading Domo's answers where one shape is expected and several are seen: one rule for
//! "a list, or a list wrapped in an object", whatever the route.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::transport::Call;

/// The list of an answer that is a bare list, or an object holding one under the first of
/// `keys` it has; any other shape is an `UnexpectedResponse` naming `call`, never an
/// empty list that would hide it.
pub(crate) fn list_in(answer: Value, keys: &[&str], call: &Call) -> Result<Vec<Value>> {
    match answer {
        Value::Array(items) => Ok(items),
        Value::Object(mut map) => {
            for key in keys {
                if let Some(Value::Array(items)) = map.remove(*key) {
                    return Ok(items);
                }
            }
            Err(Error::UnexpectedResponse {
                message: format!(
                    "expected a list (or an object with {}) in Domo's answer",
                    keys.join(" or ")
                ),
                status: 200,
                request: call.info(),
                body: None,
            })
        }
        _ => Err(Error::UnexpectedResponse {
            message: "expected a list in Domo's answer".into(),
            status: 200,
            request: call.info(),
            body: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Method;
    use serde_json::json;

    fn call() -> Call {
        Call::new(
            Method::GET,
            url::Url::parse("https://acme.domo.com/api/x").unwrap(),
        )
    }

    #[test]
    fn lists_come_bare_or_wrapped_and_nothing_else_passes() {
        let keys = &["list", "permissions"];
        assert_eq!(list_in(json!([1]), keys, &call()).unwrap(), vec![json!(1)]);
        let wrapped = json!({"list": [1], "totalUserCount": 1});
        assert_eq!(list_in(wrapped, keys, &call()).unwrap(), vec![json!(1)]);
        let second = json!({"permissions": [2]});
        assert_eq!(list_in(second, keys, &call()).unwrap(), vec![json!(2)]);
        assert!(list_in(json!({}), keys, &call()).is_err());
        assert!(list_in(json!({"list": {}}), keys, &call()).is_err());
        assert!(list_in(json!("x"), keys, &call()).is_err());
    }
}
