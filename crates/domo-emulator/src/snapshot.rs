//! Admin routes for snapshots: save the emulator's state under a name, and put it back
//! (see `store::snapshot`).

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use crate::errors::{ApiError, json_response};
use crate::state::AppState;

/// The snapshot name in a request body (`{"name": ...}`), `"default"` when there is none.
fn snapshot_name(body: &Bytes) -> Result<String, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok("default".to_string());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid snapshot request: {e}")))?;
    match value.get("name") {
        None | Some(serde_json::Value::Null) => Ok("default".to_string()),
        Some(serde_json::Value::String(name)) => Ok(name.clone()),
        Some(other) => Err(ApiError::bad_request(format!(
            "a snapshot name is a string, not {other}"
        ))),
    }
}

/// `POST /_emulator/snapshots`: saves the datasets, uploads, users and settings.
pub async fn save(State(st): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let name = snapshot_name(&body)?;
    let saved = name.clone();
    tokio::task::spawn_blocking(move || st.inner.store.snapshot(&saved))
        .await
        .map_err(|e| ApiError::internal(format!("snapshot failed: {e}")))??;
    Ok(json_response(
        axum::http::StatusCode::OK,
        &json!({"ok": true, "name": name}),
    ))
}

/// `POST /_emulator/snapshots/restore`: back to a saved state; fault rules and the
/// request log are cleared, as by a reset.
pub async fn restore(State(st): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let name = snapshot_name(&body)?;
    let restored = name.clone();
    let state = st.clone();
    tokio::task::spawn_blocking(move || state.inner.store.restore(&restored))
        .await
        .map_err(|e| ApiError::internal(format!("restore failed: {e}")))??;
    st.clear_faults();
    st.clear_requests();
    Ok(json_response(
        axum::http::StatusCode::OK,
        &json!({"ok": true, "name": name}),
    ))
}
