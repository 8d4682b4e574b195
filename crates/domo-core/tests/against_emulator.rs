//! domo-core against the local Domo over real HTTP on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, RecordBatchIterator, StringViewArray};
use arrow_schema::{DataType, Field, Schema};
use domo_core::{
    ApiErrorKind, Client, ClientOptions, Column, Credentials, DomoType, Error, RetryPolicy, Secret,
    UploadMode, UploadOptions, UploadSource,
};
use domo_emulator::{Config, Emulator};
use serde_json::json;

fn start() -> Emulator {
    Emulator::start(Config::default()).expect("emulator starts")
}

fn client(emulator: &Emulator, retries: u32) -> Client {
    let options = ClientOptions {
        retry: RetryPolicy {
            max_retries: retries,
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    };
    let token = Secret::new(emulator.token()).unwrap();
    Client::new(
        &emulator.url(),
        Credentials::DeveloperToken(token),
        &options,
    )
    .unwrap()
}

async fn admin(
    emulator: &Emulator,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", emulator.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(serde_json::Value::Null)
}

fn batch(ids: std::ops::Range<i64>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8View, true),
    ]));
    let names: Vec<Option<String>> = ids
        .clone()
        .map(|i| (i % 7 != 0).then(|| format!("name, \"{i}\"")))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(ids)),
        Arc::new(StringViewArray::from(names)),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

fn source(batches: Vec<RecordBatch>) -> UploadSource {
    let schema = batches[0].schema();
    UploadSource::Batches(Box::new(RecordBatchIterator::new(
        batches.into_iter().map(Ok),
        schema,
    )))
}

async fn count(ds: &domo_core::Dataset) -> i64 {
    let rows = ds.query("SELECT COUNT(*) AS n FROM table").await.unwrap();
    rows.batches[0]
        .column(0)
        .as_primitive::<Int64Type>()
        .value(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_upload_query_export() {
    let emulator = start();
    let client = client(&emulator, 3);
    let columns = [
        Column::new("id", DomoType::Long),
        Column::new("name", DomoType::String),
    ];
    let ds = client
        .create_dataset("roundtrip", &columns, Some("test"))
        .await
        .unwrap();
    assert_eq!(ds.schema().await.unwrap(), columns);

    // Many small parts, sent four at a time.
    let options = UploadOptions {
        part_size: 64 * 1024,
        ..UploadOptions::default()
    };
    let summary = ds
        .upload(
            source(vec![batch(0..20_000), batch(20_000..30_000)]),
            options.clone(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(summary.rows, 30_000);
    assert!(summary.parts > 3, "{summary:?}");
    assert_eq!(count(&ds).await, 30_000);

    let replace = UploadOptions {
        mode: UploadMode::Replace,
        ..options
    };
    ds.upload(source(vec![batch(5..10)]), replace, None)
        .await
        .unwrap();
    let rows = ds
        .query("SELECT id, name FROM table ORDER BY id")
        .await
        .unwrap();
    assert_eq!(rows.batches, vec![batch(5..10)]);

    let mut export = ds.export(2, None).await.unwrap();
    let mut exported = Vec::new();
    while let Some(b) = export.next().await {
        exported.push(b.unwrap());
    }
    assert_eq!(exported.len(), 3);
    let all = arrow_select::concat::concat_batches(&exported[0].schema(), &exported).unwrap();
    assert_eq!(all, batch(5..10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_parts_but_never_commits_twice() {
    let emulator = start();
    let client = client(&emulator, 3);
    let columns = [
        Column::new("id", DomoType::Long),
        Column::new("name", DomoType::String),
    ];
    let ds = client
        .create_dataset("faults", &columns, None)
        .await
        .unwrap();
    let base = format!("/api/data/v3/datasources/{}/uploads", ds.id());

    admin(
        &emulator,
        reqwest::Method::POST,
        "/_emulator/faults",
        json!({"method": "PUT", "path": format!("{base}/*/parts/*"), "status": 503, "count": 2}),
    )
    .await;
    ds.upload(source(vec![batch(0..100)]), UploadOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(count(&ds).await, 100);

    admin(
        &emulator,
        reqwest::Method::DELETE,
        "/_emulator/requests",
        json!(null),
    )
    .await;
    admin(
        &emulator,
        reqwest::Method::POST,
        "/_emulator/faults",
        json!({"method": "PUT", "path": format!("{base}/*/commit"), "status": 503, "count": 1}),
    )
    .await;
    let err = ds
        .upload(source(vec![batch(0..100)]), UploadOptions::default(), None)
        .await
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.kind(), ApiErrorKind::Server);
    let log = admin(
        &emulator,
        reqwest::Method::GET,
        "/_emulator/requests",
        json!(null),
    )
    .await;
    let commits = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/commit")))
        .count();
    assert_eq!(commits, 1);
    assert_eq!(
        count(&ds).await,
        100,
        "a failed commit must leave the data as it was"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_domo_fields_and_no_token() {
    let emulator = start();
    let client = client(&emulator, 0);
    let err = client
        .dataset("no-such-dataset")
        .unwrap()
        .metadata()
        .await
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.kind(), ApiErrorKind::NotFound);
    assert!(api.toe.is_some());

    let bad = Client::new(
        &emulator.url(),
        Credentials::DeveloperToken(Secret::new("wrong-token-123").unwrap()),
        &ClientOptions::default(),
    )
    .unwrap();
    let err = bad.dataset("x").unwrap().metadata().await.unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.kind(), ApiErrorKind::Auth);
    assert!(!format!("{err:?} {err}").contains("wrong-token-123"));

    let refused = Client::login(
        &emulator.url(),
        domo_emulator::DEFAULT_EMAIL,
        "nope",
        &ClientOptions::default(),
    )
    .await;
    assert!(
        matches!(refused, Err(Error::LoginRefused { .. })),
        "{refused:?}"
    );
    let ok = Client::login(
        &emulator.url(),
        domo_emulator::DEFAULT_EMAIL,
        domo_emulator::DEFAULT_PASSWORD,
        &ClientOptions::default(),
    )
    .await
    .unwrap();
    assert!(matches!(ok.credentials(), Credentials::SessionToken(_)));
}
