//! The public API (`/oauth/token`, `/v1/...`) over real HTTP, as pydomo drives it.

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Domo, Resp, assert_domo_error, gzip, raw_request};
use serde_json::{Value, json};

const EMAIL: &str = domo_emulator::DEFAULT_EMAIL;
const PASSWORD: &str = domo_emulator::DEFAULT_PASSWORD;

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// An emulator and a bearer token for it.
struct Public {
    d: Domo,
    token: String,
}

impl Public {
    fn start() -> Public {
        let d = Domo::start();
        let token = get_token(&d, "POST", "").json()["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned();
        Public { d, token }
    }

    fn call(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Resp {
        let auth = format!("bearer {}", self.token);
        let mut h = vec![
            ("Authorization", auth.as_str()),
            ("Accept", "application/json"),
        ];
        if !content_type.is_empty() {
            h.push(("Content-Type", content_type));
        }
        raw_request(self.d.addr(), method, path, &h, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn json(&self, method: &str, path: &str, body: &Value) -> Resp {
        self.call(
            method,
            path,
            "application/json",
            body.to_string().as_bytes(),
        )
    }

    fn csv(&self, method: &str, path: &str, csv: &str) -> Resp {
        self.call(method, path, "text/csv", csv.as_bytes())
    }

    fn get(&self, path: &str) -> Resp {
        self.call("GET", path, "", b"")
    }

    fn ok(&self, r: Resp, status: u16) -> Value {
        assert_eq!(r.status, status, "{}", r.text());
        if r.body.is_empty() {
            Value::Null
        } else {
            r.json()
        }
    }

    fn rows(&self, id: &str, sql: &str) -> Value {
        let r = self.json(
            "POST",
            &format!("/v1/datasets/query/execute/{id}"),
            &json!({ "sql": sql }),
        );
        self.ok(r, 200)["rows"].clone()
    }
}

/// pydomo's token request: form body `grant_type=client_credentials[&scope=...]`.
fn get_token(d: &Domo, method: &str, scope: &str) -> Resp {
    let mut form = "grant_type=client_credentials".to_owned();
    if !scope.is_empty() {
        form.push_str(&format!("&scope={}", scope.replace(' ', "+")));
    }
    let auth = basic(EMAIL, PASSWORD);
    if method == "GET" {
        raw_request(
            d.addr(),
            "GET",
            &format!("/oauth/token?{form}"),
            &[("Authorization", &auth)],
            b"",
        )
    } else {
        raw_request(
            d.addr(),
            "POST",
            "/oauth/token",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            form.as_bytes(),
        )
    }
    .expect("token request")
}

fn jwt_payload(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url"))
        .expect("JSON payload")
}

#[test]
fn oauth_client_credentials_and_bearer_tokens() {
    let d = Domo::start();
    let now = chrono_now();
    for method in ["POST", "GET"] {
        let r = get_token(&d, method, "");
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        assert_eq!(v["token_type"], "bearer");
        assert_eq!(v["expires_in"], 3600);
        assert_eq!(
            v["scope"],
            "data user audit dashboard account buzz workflow"
        );
        for key in ["customer", "env", "userId", "role", "jti"] {
            assert!(!v[key].is_null(), "{key} missing: {v}");
        }
        let claims = jwt_payload(v["access_token"].as_str().unwrap());
        let exp = claims["exp"].as_i64().unwrap();
        assert!((now + 3590..=now + 3610).contains(&exp), "exp {exp}");
        assert_eq!(claims["jti"], v["jti"]);
    }

    // Wrong credentials, none, and a wrong grant type.
    let r = raw_request(
        d.addr(),
        "POST",
        "/oauth/token?grant_type=client_credentials",
        &[("Authorization", &basic(EMAIL, "nope"))],
        b"",
    )
    .unwrap();
    assert_domo_error(&r, 401);
    let r = raw_request(
        d.addr(),
        "POST",
        "/oauth/token?grant_type=client_credentials",
        &[],
        b"",
    )
    .unwrap();
    assert_domo_error(&r, 401);
    // Form fields are the other standard place for client credentials.
    let r = raw_request(
        d.addr(),
        "GET",
        &format!(
            "/oauth/token?grant_type=client_credentials&client_id={EMAIL}&client_secret={PASSWORD}"
        ),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let r = raw_request(
        d.addr(),
        "POST",
        "/oauth/token?grant_type=password",
        &[("Authorization", &basic(EMAIL, PASSWORD))],
        b"",
    )
    .unwrap();
    assert_domo_error(&r, 400);
    assert_domo_error(&get_token(&d, "POST", "data nonsense"), 400);

    // The /v1 routes take the bearer token and nothing else.
    let token = get_token(&d, "POST", "").json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = |headers: &[(&str, &str)]| {
        raw_request(d.addr(), "GET", "/v1/datasets", headers, b"").unwrap()
    };
    assert_eq!(
        list(&[("Authorization", &format!("Bearer {token}"))]).status,
        200
    );
    assert_eq!(
        list(&[("Authorization", &format!("bearer {token}"))]).status,
        200
    );
    let v = assert_domo_error(&list(&[]), 401);
    assert_eq!(v["statusReason"], "Unauthorized");
    assert_domo_error(&list(&[("Authorization", "Bearer forged.token.here")]), 401);
    assert_domo_error(&list(&[("X-DOMO-Developer-Token", common::TOKEN)]), 401);
    // ...and the instance routes do not take it.
    let r = raw_request(
        d.addr(),
        "GET",
        "/api/data/v3/datasources/x",
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    )
    .unwrap();
    assert_domo_error(&r, 401);

    // A token without the data scope cannot touch datasets.
    let user_only = get_token(&d, "POST", "user").json();
    assert_eq!(user_only["scope"], "user");
    let t = user_only["access_token"].as_str().unwrap();
    assert_domo_error(&list(&[("Authorization", &format!("Bearer {t}"))]), 403);

    let log = d.admin("GET", "/_emulator/requests", &json!(null));
    let auths: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["auth"].as_str().unwrap())
        .collect();
    assert!(
        auths.contains(&"basic") && auths.contains(&"bearer"),
        "{auths:?}"
    );
    assert!(!log.to_string().contains(&token));
    assert!(!log.to_string().contains(PASSWORD));
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn v1_datasets_create_import_export_query() {
    let p = Public::start();
    let r = p.json(
        "POST",
        "/v1/datasets",
        &json!({"name": "Euler Party", "description": "guests", "rows": 0,
                "schema": {"columns": [{"type": "STRING", "name": "Friend"},
                                       {"type": "LONG", "name": "Age"},
                                       {"type": "DATETIME", "name": "Arrived"}]}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // pydomo compares schemas as JSON text against {"type", "name"}: order matters.
    assert!(
        r.text()
            .contains(r#"{"type":"STRING","name":"Friend"},{"type":"LONG","name":"Age"}"#),
        "{}",
        r.text()
    );
    let ds = r.json();
    let id = ds["id"].as_str().unwrap().to_owned();
    assert_eq!(ds["rows"], 0);
    assert_eq!(ds["columns"], 3);
    assert_eq!(ds["pdpEnabled"], false);
    assert_eq!(ds["owner"]["id"], 1);
    let created = ds["createdAt"].as_str().unwrap();
    assert!(created.len() == 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T');

    // One store: the instance API sees the dataset too.
    let r =
        p.d.req("GET", &format!("/api/data/v3/datasources/{id}"), &[], b"");
    assert_eq!(r.json()["name"], "Euler Party");

    // Import replaces by default, appends when told; a bad row changes nothing.
    let data = format!("/v1/datasets/{id}/data");
    p.ok(
        p.csv("PUT", &data, "Leonhard,76,2024-01-02 03:04:05\n\"\",,\n"),
        204,
    );
    p.ok(p.csv("PUT", &data, "Carl,77,2024-01-02T05:00:00\n"), 204);
    p.ok(
        p.csv(
            "PUT",
            &format!("{data}?updateMethod=APPEND"),
            "\"Gauss, Carl\",,\n",
        ),
        204,
    );
    let r = p.csv(
        "PUT",
        &format!("{data}?updateMethod=APPEND"),
        "x,notanumber,\n",
    );
    assert_domo_error(&r, 400);
    assert_domo_error(
        &p.csv("PUT", &format!("{data}?updateMethod=MERGE"), ""),
        400,
    );
    assert_eq!(
        p.rows(&id, "SELECT * FROM table ORDER BY Friend"),
        json!([
            ["Carl", 77, "2024-01-02T05:00:00"],
            ["Gauss, Carl", null, null]
        ])
    );
    let r = p.call(
        "PUT",
        &data,
        "text/csv",
        &gzip(b"Ada,36,\n\"\",1,2024-05-06 07:08:09\n"),
    );
    assert_domo_error(&r, 400); // gzip bytes without saying so are not UTF-8 CSV
    let gz = gzip(b"Ada,36,\n\"\",1,2024-05-06 07:08:09\n");
    let auth = format!("Bearer {}", p.token);
    let r = raw_request(
        p.d.addr(),
        "PUT",
        &data,
        &[
            ("Authorization", &auth),
            ("Content-Type", "text/csv"),
            ("Content-Encoding", "gzip"),
        ],
        &gz,
    )
    .unwrap();
    assert_eq!(r.status, 204, "{}", r.text());

    // Export: empty fields for null, "" for the empty string, header on request.
    let r = p.get(&format!("{data}?includeHeader=True&fileName=guests.csv"));
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"guests.csv\"")
    );
    assert_eq!(
        r.text(),
        "Friend,Age,Arrived\nAda,36,\n\"\",1,2024-05-06T07:08:09\n"
    );
    let r = p.get(&format!("{data}?includeHeader=false"));
    assert_eq!(r.text(), "Ada,36,\n\"\",1,2024-05-06T07:08:09\n");

    // Query: the instance route's answer shape.
    let r = p.json(
        "POST",
        &format!("/v1/datasets/query/execute/{id}"),
        &json!({"sql": "SELECT Friend, Age FROM table WHERE Age > 10"}),
    );
    let v = p.ok(r, 200);
    assert_eq!(v["columns"], json!(["Friend", "Age"]));
    assert_eq!(v["metadata"][1]["type"], "LONG");
    assert_eq!(v["rows"], json!([["Ada", 36]]));
    assert_eq!(v["numRows"], 1);
    let r = p.json(
        "POST",
        &format!("/v1/datasets/query/execute/{id}"),
        &json!({"sql": {"nested": true}}),
    );
    assert_domo_error(&r, 400);

    // Metadata and schema changes keep the rows (matched by name).
    let r = p.json(
        "PUT",
        &format!("/v1/datasets/{id}"),
        &json!({"name": "Renamed", "schema": {"columns": [
            {"type": "STRING", "name": "Friend"}, {"type": "STRING", "name": "Age"},
            {"type": "DOUBLE", "name": "Score"}]}}),
    );
    let v = p.ok(r, 200);
    assert_eq!(v["name"], "Renamed");
    assert_eq!(v["description"], "guests");
    assert_eq!(
        v["schema"]["columns"][1],
        json!({"type": "STRING", "name": "Age"})
    );
    assert_eq!(
        p.rows(&id, "SELECT * FROM table ORDER BY Friend"),
        json!([["", "1", null], ["Ada", "36", null]])
    );

    // Lists: nameLike, sort, paging; a second dataset to page over.
    p.ok(
        p.json(
            "POST",
            "/v1/datasets",
            &json!({"name": "another", "schema": {"columns": [{"type": "LONG", "name": "x"}]}}),
        ),
        201,
    );
    let names = |q: &str| -> Vec<String> {
        let v = p.ok(p.get(&format!("/v1/datasets{q}")), 200);
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(""), ["Renamed", "another"]);
    assert_eq!(names("?sort=name"), ["another", "Renamed"]);
    assert_eq!(names("?sort=-name"), ["Renamed", "another"]);
    assert_eq!(names("?nameLike=REN"), ["Renamed"]);
    assert_eq!(names("?nameLike=&limit=1&offset=1"), ["another"]);
    assert!(names("?offset=2").is_empty());
    assert_domo_error(&p.get("/v1/datasets?sort=bogus"), 400);
    assert_domo_error(&p.get("/v1/datasets?limit=-1"), 400);

    // Delete.
    p.ok(
        p.call("DELETE", &format!("/v1/datasets/{id}"), "", b""),
        204,
    );
    let v = assert_domo_error(&p.get(&format!("/v1/datasets/{id}")), 404);
    assert_eq!(v["statusReason"], "Not Found");
    assert_domo_error(&p.get(&data), 404);
}

#[test]
fn v1_streams_executions_parts_and_commit() {
    let p = Public::start();
    let r = p.json(
        "POST",
        "/v1/streams/",
        &json!({"dataSet": {"name": "events", "description": "", "schema": {"columns": [
            {"type": "LONG", "name": "n"}, {"type": "STRING", "name": "s"}]}},
            "updateMethod": "APPEND"}),
    );
    let s = p.ok(r, 201);
    let sid = s["id"].as_i64().unwrap();
    let ds_id = s["dataSet"]["id"].as_str().unwrap().to_owned();
    assert_eq!(s["updateMethod"], "APPEND");
    for key in ["createdAt", "modifiedAt"] {
        assert!(s[key].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(p.ok(p.get(&format!("/v1/streams/{sid}")), 200)["id"], sid);
    let found = p.ok(
        p.get(&format!(
            "/v1/streams/search?q=dataSource.id:{ds_id}&fields=all"
        )),
        200,
    );
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], sid);
    let by_owner = p.ok(p.get("/v1/streams/search?q=dataSource.owner.id:1"), 200);
    assert_eq!(by_owner.as_array().unwrap().len(), 1);
    let on_list = p.ok(p.get(&format!("/v1/streams?q=dataSource.id:{ds_id}")), 200);
    assert_eq!(on_list[0]["id"], sid);
    let nobody = p.ok(p.get("/v1/streams/search?q=dataSource.owner.id:2"), 200);
    assert_eq!(nobody, json!([]));
    assert_domo_error(&p.get("/v1/streams/search?q=name:x"), 400);

    // Execution 1: parts 0 and 1 (gzip), invisible until commit, appended.
    let base = format!("/v1/streams/{sid}/executions");
    let e = p.ok(p.json("POST", &base, &json!({"updateMethod": null})), 201);
    let eid = e["id"].as_i64().unwrap();
    assert_eq!(e["currentState"], "ACTIVE");
    assert_eq!(e["updateMethod"], "APPEND");
    assert!(!e["startedAt"].is_null() && !e["createdBy"].is_null());
    p.ok(
        p.csv("PUT", &format!("{base}/{eid}/part/0"), "1,a\n2,\n"),
        200,
    );
    let auth = format!("Bearer {}", p.token);
    let r = raw_request(
        p.d.addr(),
        "PUT",
        &format!("{base}/{eid}/part/1"),
        &[
            ("Authorization", &auth),
            ("Content-Type", "text/csv"),
            ("Content-Encoding", "gzip"),
        ],
        &gzip(b"3,\"c, d\"\n"),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(p.rows(&ds_id, "SELECT COUNT(*) FROM table"), json!([[0]]));
    let e = p.ok(
        p.json("PUT", &format!("{base}/{eid}/commit"), &json!({})),
        200,
    );
    assert_eq!(e["currentState"], "SUCCESS");
    assert_eq!(e["uploadedRows"], 3);
    let e = p.ok(p.get(&format!("{base}/{eid}")), 200);
    assert_eq!(e["currentState"], "SUCCESS");
    assert_domo_error(&p.csv("PUT", &format!("{base}/{eid}/part/2"), "4,x\n"), 409);

    // Execution 2 appends; execution 3, after PATCH to REPLACE, replaces.
    let e2 = p.ok(p.json("POST", &base, &json!({})), 201)["id"]
        .as_i64()
        .unwrap();
    p.ok(p.csv("PUT", &format!("{base}/{e2}/part/1"), "4,x\n"), 200);
    p.ok(
        p.json("PUT", &format!("{base}/{e2}/commit"), &json!({})),
        200,
    );
    assert_eq!(p.rows(&ds_id, "SELECT COUNT(*) FROM table"), json!([[4]]));
    let s = p.ok(
        p.json(
            "PATCH",
            &format!("/v1/streams/{sid}"),
            &json!({"updateMethod": "REPLACE"}),
        ),
        200,
    );
    assert_eq!(s["updateMethod"], "REPLACE");
    let e3 = p.ok(p.json("POST", &base, &json!({})), 201)["id"]
        .as_i64()
        .unwrap();
    p.ok(p.csv("PUT", &format!("{base}/{e3}/part/1"), "9,z\n"), 200);
    p.ok(
        p.json("PUT", &format!("{base}/{e3}/commit"), &json!({})),
        200,
    );
    assert_eq!(p.rows(&ds_id, "SELECT * FROM table"), json!([[9, "z"]]));

    // Gaps in part numbers fail the commit; aborting drops the staged rows.
    let e4 = p.ok(p.json("POST", &base, &json!({})), 201)["id"]
        .as_i64()
        .unwrap();
    p.ok(p.csv("PUT", &format!("{base}/{e4}/part/1"), "5,a\n"), 200);
    p.ok(p.csv("PUT", &format!("{base}/{e4}/part/3"), "6,b\n"), 200);
    let v = assert_domo_error(
        &p.json("PUT", &format!("{base}/{e4}/commit"), &json!({})),
        400,
    );
    assert!(v["message"].as_str().unwrap().contains("non-consecutive"));
    let e = p.ok(
        p.json("PUT", &format!("{base}/{e4}/abort"), &json!({})),
        200,
    );
    assert_eq!(e["currentState"], "ABORTED");
    assert_domo_error(
        &p.json("PUT", &format!("{base}/{e4}/commit"), &json!({})),
        409,
    );
    let e5 = p.ok(p.json("POST", &base, &json!({})), 201)["id"]
        .as_i64()
        .unwrap();
    p.ok(p.json("PUT", &format!("{base}/abort"), &json!({})), 204);
    assert_eq!(
        p.ok(p.get(&format!("{base}/{e5}")), 200)["currentState"],
        "ABORTED"
    );
    assert_eq!(p.rows(&ds_id, "SELECT * FROM table"), json!([[9, "z"]]));
    let all = p.ok(p.get(&format!("{base}?limit=50&offset=0")), 200);
    assert_eq!(all.as_array().unwrap().len(), 5);
    assert_domo_error(&p.get(&format!("{base}/99999")), 404);

    // Every dataset has a stream, however it was made (pydomo's ds_update relies on it).
    let other = p.d.create(&[("x", "LONG")]);
    let found = p.ok(
        p.get(&format!("/v1/streams/search?q=dataSource.id:{other}")),
        200,
    );
    assert_eq!(found[0]["updateMethod"], "REPLACE");
    let listed = p.ok(p.get("/v1/streams?limit=50&offset=0&fields=all"), 200);
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // Deleting the stream keeps its dataset.
    p.ok(
        p.call("DELETE", &format!("/v1/streams/{sid}"), "", b""),
        204,
    );
    assert_domo_error(&p.get(&format!("/v1/streams/{sid}")), 404);
    let found = p.ok(
        p.get(&format!("/v1/streams/search?q=dataSource.id:{ds_id}")),
        200,
    );
    assert_eq!(found, json!([]));
    assert_eq!(p.rows(&ds_id, "SELECT * FROM table"), json!([[9, "z"]]));
    assert_domo_error(&p.json("POST", &base, &json!({})), 404);
}

#[test]
fn v1_routes_can_be_faulted() {
    let p = Public::start();
    p.d.admin(
        "POST",
        "/_emulator/faults",
        &json!({"path": "/v1/datasets", "method": "GET", "status": 503}),
    );
    assert_domo_error(&p.get("/v1/datasets"), 503);
    assert_eq!(p.get("/v1/datasets").status, 200);
    p.d.admin(
        "POST",
        "/_emulator/faults",
        &json!({"path": "/oauth/token", "status": 500}),
    );
    assert_domo_error(&get_token(&p.d, "POST", ""), 500);
    assert_eq!(get_token(&p.d, "POST", "").status, 200);
}
