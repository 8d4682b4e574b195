//! Query answers and exports go out gzip-compressed exactly when the request accepts
//! gzip, and decode to the same bytes as the uncompressed answer.

mod common;

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Domo, Resp};
use serde_json::json;

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("a whole gzip stream");
    out
}

/// A dataset of `rows` rows, large enough that exports and answers come in many chunks.
fn loaded(d: &Domo, rows: usize) -> String {
    let id = d.create(&[("n", "LONG"), ("label", "STRING")]);
    let csv: String = (0..rows)
        .map(|i| format!("{i},label number {i}\n"))
        .collect();
    d.upload(&id, "REPLACE", &[&csv]);
    id
}

fn query(d: &Domo, id: &str, accept_encoding: Option<&str>) -> Resp {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = accept_encoding {
        headers.push(("Accept-Encoding", a));
    }
    let body = json!({"sql": "SELECT * FROM table"}).to_string();
    d.req(
        "POST",
        &format!("/api/query/v1/execute/{id}"),
        &headers,
        body.as_bytes(),
    )
}

fn export(d: &Domo, id: &str, accept_encoding: Option<&str>) -> Resp {
    let mut headers = vec![("Accept", "text/csv")];
    if let Some(a) = accept_encoding {
        headers.push(("Accept-Encoding", a));
    }
    d.req(
        "GET",
        &format!("/api/data/v2/datasources/{id}/dataversions/latest?includeHeader=true"),
        &headers,
        b"",
    )
}

#[test]
fn query_answers_are_gzipped_only_when_asked() {
    let d = Domo::start();
    let id = loaded(&d, 40_000);
    let plain = query(&d, &id, None);
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.json()["numRows"], 40_000);

    for refused in ["identity", "gzip;q=0", "br, deflate"] {
        let r = query(&d, &id, Some(refused));
        assert_eq!(r.header("content-encoding"), None, "{refused}");
        assert_eq!(r.body, plain.body, "{refused}");
    }
    let zipped = query(&d, &id, Some("gzip, deflate"));
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("vary"), Some("accept-encoding"));
    assert!(
        zipped.body.len() * 2 < plain.body.len(),
        "{}",
        zipped.body.len()
    );
    assert_eq!(gunzip(&zipped.body), plain.body);
}

#[test]
fn a_refused_query_is_answered_plainly() {
    let d = Domo::start();
    let id = loaded(&d, 10);
    let body = json!({"sql": "SELECT nope FROM table"}).to_string();
    let r = d.req(
        "POST",
        &format!("/api/query/v1/execute/{id}"),
        &[
            ("Content-Type", "application/json"),
            ("Accept-Encoding", "gzip"),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-encoding"), None);
    assert!(r.json()["message"].is_string());
}

#[test]
fn exports_are_gzipped_only_when_asked() {
    let d = Domo::start();
    let id = loaded(&d, 60_000);
    let plain = export(&d, &id, None);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);
    let text = plain.text();
    assert!(text.starts_with("n,label\n0,label number 0\n"));
    assert_eq!(text.lines().count(), 60_001);

    let zipped = export(&d, &id, Some("x-gzip"));
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert!(zipped.body.len() * 2 < plain.body.len());
    assert_eq!(gunzip(&zipped.body), plain.body);
    assert_eq!(
        export(&d, &id, Some("*;q=0")).header("content-encoding"),
        None
    );

    // The public API's export (pydomo's) too.
    let basic = STANDARD.encode(format!(
        "{}:{}",
        domo_emulator::DEFAULT_EMAIL,
        domo_emulator::DEFAULT_PASSWORD
    ));
    let token = d.req(
        "GET",
        "/oauth/token?grant_type=client_credentials&scope=data",
        &[("Authorization", &format!("Basic {basic}"))],
        b"",
    );
    assert_eq!(token.status, 200, "{}", token.text());
    let bearer = format!("bearer {}", token.json()["access_token"].as_str().unwrap());
    let path = format!("/v1/datasets/{id}/data?includeHeader=true");
    let public = |accept: &str| {
        common::raw_request(
            d.addr(),
            "GET",
            &path,
            &[("Authorization", &bearer), ("Accept-Encoding", accept)],
            b"",
        )
        .unwrap()
    };
    let plain = public("identity");
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = public("gzip");
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&zipped.body), plain.body);
}

#[test]
fn query_answers_announce_the_row_cap() {
    let d = Domo::start();
    let id = loaded(&d, 50);
    let r = query(&d, &id, None);
    assert_eq!(r.header("x-emulator-answer-row-cap"), Some("1000000"));
    d.admin("POST", "/_emulator/settings", &json!({"answerRowCap": 20}));
    let r = query(&d, &id, Some("gzip"));
    assert_eq!(r.header("x-emulator-answer-row-cap"), Some("20"));
    let answer: serde_json::Value = serde_json::from_slice(&gunzip(&r.body)).unwrap();
    assert_eq!(answer["numRows"], 20);
}

#[test]
fn the_request_log_shows_the_encodings() {
    let d = Domo::start();
    let id = loaded(&d, 5);
    d.admin("DELETE", "/_emulator/requests", &json!({}));
    query(&d, &id, Some("gzip"));
    export(&d, &id, None);
    let log = d.admin("GET", "/_emulator/requests", &json!({}));
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["accept_encoding"], "gzip");
    assert_eq!(log[0]["answer_encoding"], "gzip");
    assert_eq!(log[0]["sql"], "SELECT * FROM table");
    assert_eq!(log[0]["auth"], "developer");
    assert_eq!(log[1]["accept_encoding"], json!(null));
    assert_eq!(log[1]["answer_encoding"], json!(null));
}
