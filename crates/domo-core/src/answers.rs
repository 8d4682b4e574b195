//! Reading Domo's JSON answers: one place for the shapes both APIs use, so that every
//! listing follows the same rule.

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::transport::{Call, Transport, decode_json};

/// Sends a call and decodes its JSON answer; an empty body (some deletes) is `{}`.
pub(crate) async fn json_or_empty(transport: &Transport, call: &Call) -> Result<Value> {
    let (body, content_type, status) = transport.bytes(call).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    decode_json(&body, &content_type, status, call)
}

/// The list in an answer that is a list, or an object holding one under one of `keys`.
/// Any other shape is an error naming what was expected: reading it as an empty list would
/// tell the caller there is nothing, when the answer could not be read.
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

    fn call() -> Call {
        Call::new(
            Method::GET,
            url::Url::parse("http://127.0.0.1:1/x").unwrap(),
        )
    }

    #[test]
    fn lists_come_bare_or_wrapped() {
        let keys = ["list", "permissions"];
        assert_eq!(list_in(json!([1]), &keys, &call()).unwrap(), [json!(1)]);
        let wrapped = json!({"permissions": [2], "totalUserCount": 1});
        assert_eq!(list_in(wrapped, &keys, &call()).unwrap(), [json!(2)]);
        assert!(
            list_in(json!({"list": []}), &keys, &call())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn any_other_shape_is_an_error_not_an_empty_list() {
        for answer in [
            json!({}),
            json!({"list": null}),
            json!({"other": [1]}),
            json!(3),
        ] {
            let err = list_in(answer.clone(), &["list"], &call()).unwrap_err();
            assert!(
                matches!(err, Error::UnexpectedResponse { .. }),
                "{answer}: {err}"
            );
        }
    }
}
