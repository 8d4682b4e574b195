//! The `/_emulator/` admin routes: reset, state, fault rules and the request log.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value as Json, json};

use crate::errors::{ApiError, json_response};
use crate::state::{AppState, FaultSpec};
use crate::store::Dataset;

fn admin_json(body: Json) -> Response {
    json_response(StatusCode::OK, &body)
}

pub async fn reset(State(st): State<AppState>) -> Result<Response, ApiError> {
    tokio::task::spawn_blocking(move || st.reset())
        .await
        .map_err(|e| ApiError::internal(format!("reset failed: {e}")))??;
    Ok(admin_json(json!({"ok": true})))
}

fn dataset_summary(ds: &Dataset) -> Json {
    json!({"id": ds.id, "name": ds.name, "rowCount": ds.row_count, "schema": ds.schema_json()})
}

pub async fn state(State(st): State<AppState>) -> Result<Response, ApiError> {
    let st2 = st.clone();
    let (datasets, uploads) = tokio::task::spawn_blocking(move || {
        Ok::<_, ApiError>((
            st2.inner.store.datasets()?,
            st2.inner.store.uploads_summary()?,
        ))
    })
    .await
    .map_err(|e| ApiError::internal(format!("state failed: {e}")))??;
    Ok(admin_json(json!({
        "datasets": datasets.iter().map(dataset_summary).collect::<Vec<_>>(),
        "uploads": uploads,
        "faults": st.faults_json(),
    })))
}

pub async fn add_fault(State(st): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let spec: FaultSpec = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid fault rule: {e}")))?;
    let id = st.add_fault(spec)?;
    Ok(admin_json(json!({"id": id})))
}

pub async fn list_faults(State(st): State<AppState>) -> Response {
    admin_json(st.faults_json())
}

pub async fn clear_faults(State(st): State<AppState>) -> Response {
    st.clear_faults();
    admin_json(json!({"ok": true}))
}

pub async fn requests(State(st): State<AppState>) -> Response {
    admin_json(st.requests_json())
}

pub async fn clear_requests(State(st): State<AppState>) -> Response {
    st.clear_requests();
    admin_json(json!({"ok": true}))
}
