//! The emulator over real HTTP on 127.0.0.1.

mod common;

use common::{Domo, TOKEN, assert_domo_error, gzip, raw_request};
use domo_emulator::{Config, Emulator};
use serde_json::json;

#[test]
fn auth_is_required_and_sessions_work() {
    let d = Domo::start();
    let r = raw_request(d.addr(), "GET", "/api/data/v3/datasources/x", &[], b"").unwrap();
    let v = assert_domo_error(&r, 401);
    assert_eq!(v["statusReason"], "Unauthorized");
    let r = raw_request(
        d.addr(),
        "GET",
        "/api/data/v3/datasources/x",
        &[("x-domo-developer-token", "wrong")],
        b"",
    )
    .unwrap();
    assert_domo_error(&r, 401);
    assert!(!r.text().contains("wrong"));

    let login = |email: &str, password: &str| {
        raw_request(
            d.addr(),
            "POST",
            "/api/content/v2/authentication",
            &[("Content-Type", "application/json")],
            json!({"method": "password", "emailAddress": email, "password": password})
                .to_string()
                .as_bytes(),
        )
        .unwrap()
    };
    let bad = login(domo_emulator::DEFAULT_EMAIL, "nope");
    assert_eq!(bad.status, 200);
    assert_eq!(
        bad.json(),
        json!({"success": false, "reason": "INVALID_CREDENTIALS"})
    );
    let good = login(
        domo_emulator::DEFAULT_EMAIL,
        domo_emulator::DEFAULT_PASSWORD,
    )
    .json();
    assert_eq!(good["success"], true);
    assert_eq!(good["twoFactorInfo"]["isTwoFactorAuthEnabled"], false);
    let session = good["sessionToken"].as_str().unwrap().to_owned();
    let r = raw_request(
        d.addr(),
        "GET",
        "/api/data/v3/datasources/x",
        &[("X-Domo-Authentication", &session)],
        b"",
    )
    .unwrap();
    // Authenticated, so now the dataset is what is missing.
    let v = assert_domo_error(&r, 404);
    assert!(v["message"].as_str().unwrap().contains('x'));

    let log = d.admin("GET", "/_emulator/requests", &json!(null));
    let auths: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["auth"].as_str().unwrap())
        .collect();
    assert_eq!(auths, ["none", "developer", "none", "none", "session"]);
    assert!(!log.to_string().contains(TOKEN));
    assert!(!log.to_string().contains(&session));
}

#[test]
fn unknown_routes_and_methods_are_domo_shaped() {
    let d = Domo::start();
    let r = d.req("GET", "/api/nothing/here?x=1", &[], b"");
    let v = assert_domo_error(&r, 404);
    assert_eq!(
        v["message"],
        "The emulator has no route for GET /api/nothing/here"
    );
    let r = d.req("DELETE", "/api/query/v1/execute/abc", &[], b"");
    assert_domo_error(&r, 405);
}

#[test]
fn create_validate_and_describe_datasets() {
    let d = Domo::start();
    let create = |body: serde_json::Value| d.json("POST", "/api/data/v2/datasources", &body);
    let cols = |c: serde_json::Value| json!({"userDefinedType": "api", "dataSourceName": "n", "schema": {"columns": c}});
    assert_domo_error(&create(cols(json!([{"type": "BLOB", "name": "a"}]))), 400);
    assert_domo_error(
        &create(cols(
            json!([{"type": "LONG", "name": "a"}, {"type": "STRING", "name": "a"}]),
        )),
        400,
    );
    assert_domo_error(&create(cols(json!([{"type": "LONG", "name": ""}]))), 400);
    assert_domo_error(
        &create(
            json!({"dataSourceName": "", "schema": {"columns": [{"type": "LONG", "name": "a"}]}}),
        ),
        400,
    );

    let r = create(
        json!({"userDefinedType": "api", "dataSourceName": "Sales", "description": "d",
        "schema": {"columns": [{"type": "STRING", "name": "Region Name"}, {"type": "DECIMAL", "name": "amt"}]}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Nested under `dataSource`, as the live service answers (domolibrary reads it there).
    let v = r.json()["dataSource"].clone();
    let id = v["id"].as_str().unwrap();
    assert_eq!(v["dataSourceId"], id);
    assert_eq!(id.len(), 36);

    let m = d
        .req(
            "GET",
            &format!("/api/data/v3/datasources/{id}?part=core,rowcolcount"),
            &[],
            b"",
        )
        .json();
    for (k, want) in [
        ("name", json!("Sales")),
        ("description", json!("d")),
        ("type", json!("api")),
        ("displayType", json!("api")),
        ("state", json!("SUCCESS")),
        ("rowCount", json!(0)),
        ("columnCount", json!(2)),
        ("permissions", json!("READ_WRITE_DELETE_SHARE_ADMIN")),
        ("cloudEngine", json!("domo")),
    ] {
        assert_eq!(m[k], want, "{k}");
    }
    assert_eq!(m["owner"]["type"], "USER");
    assert!(m["streamId"].is_i64());
    assert!(m["created"].is_i64() && m["lastUpdated"].is_i64());

    let s = d
        .req(
            "GET",
            &format!("/api/query/v1/datasources/{id}/schema/indexed?includeHidden=false"),
            &[],
            b"",
        )
        .json();
    assert_eq!(
        s,
        json!({"name": "schema", "dataSourceId": id, "tables": [{"columns": [
            {"name": "Region Name", "id": "Region Name", "type": "STRING", "visible": true, "order": 0},
            {"name": "amt", "id": "amt", "type": "DECIMAL", "visible": true, "order": 1},
        ]}]})
    );
    let r = d.req(
        "GET",
        "/api/data/v3/datasources/00000000-0000-0000-0000-000000000000",
        &[],
        b"",
    );
    let v = assert_domo_error(&r, 404);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("00000000-0000-0000-0000-000000000000")
    );
    let r = d.req(
        "DELETE",
        &format!("/api/data/v3/datasources/{id}"),
        &[],
        b"",
    );
    assert_eq!(r.status, 204);
    assert_domo_error(
        &d.req("GET", &format!("/api/data/v3/datasources/{id}"), &[], b""),
        404,
    );
}

#[test]
fn append_then_replace_and_nothing_visible_before_commit() {
    let d = Domo::start();
    let id = d.create(&[("k", "STRING"), ("n", "LONG")]);
    d.upload(&id, "APPEND", &["a,1\nb,2\n", "c,3\n"]);
    d.upload(&id, "APPEND", &["d,4\n"]);
    assert_eq!(
        d.rows(&id, "SELECT k, n FROM table ORDER BY n"),
        json!([["a", 1], ["b", 2], ["c", 3], ["d", 4]])
    );

    let up = d.start_upload(&id, "");
    assert_eq!(d.part(&id, up, 1, "x,10\n").status, 200);
    // Staged parts are invisible.
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[4]]));
    // A re-sent part replaces the first copy.
    assert_eq!(d.part(&id, up, 1, "y,20\nz,30\n").status, 200);
    let r = d.commit(&id, up, json!({"action": "REPLACE", "index": "true"}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "SUCCESS");
    assert_eq!(r.json()["rowCount"], 2);
    assert_eq!(
        d.rows(&id, "SELECT * FROM table ORDER BY n"),
        json!([["y", 20], ["z", 30]])
    );
    let meta = d
        .req("GET", &format!("/api/data/v3/datasources/{id}"), &[], b"")
        .json();
    assert_eq!(meta["rowCount"], 2);

    // Committing again is refused and changes nothing; so is a late part.
    let again = d.commit(&id, up, json!({"action": "APPEND", "index": true}));
    assert_domo_error(&again, 409);
    assert_domo_error(&d.part(&id, up, 2, "late,1\n"), 409);
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[2]]));

    // Unknown upload ids.
    assert_domo_error(&d.part(&id, 9999, 1, "a,1\n"), 404);
    assert_domo_error(&d.commit(&id, 9999, json!({"action": "APPEND"})), 404);

    // REPLACE with zero parts empties the dataset; start-time action is the default.
    let r = d.json(
        "POST",
        &format!("/api/data/v3/datasources/{id}/uploads/"),
        &json!({"action": "REPLACE", "appendId": null}),
    );
    let up = r.json()["uploadId"].as_i64().unwrap();
    assert!(up > 0);
    let r = d.commit(&id, up, json!({"index": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[0]]));
}

#[test]
fn non_consecutive_parts_are_rejected() {
    let d = Domo::start();
    let id = d.create(&[("n", "LONG")]);
    let up = d.start_upload(&id, "");
    assert_eq!(d.part(&id, up, 1, "1\n").status, 200);
    assert_eq!(d.part(&id, up, 3, "3\n").status, 200);
    let r = d.commit(&id, up, json!({"action": "APPEND", "index": true}));
    let v = assert_domo_error(&r, 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Too many non-consecutive part ids")
    );
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[0]]));
    // Filling the gap makes the same upload committable.
    assert_eq!(d.part(&id, up, 2, "2\n").status, 200);
    let r = d.commit(&id, up, json!({"action": "APPEND", "index": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        d.rows(&id, "SELECT n FROM table ORDER BY n"),
        json!([[1], [2], [3]])
    );
    assert_domo_error(&d.part(&id, up, 0, "1\n"), 400);
}

#[test]
fn gzip_parts_both_ways() {
    let d = Domo::start();
    let id = d.create(&[("s", "STRING")]);
    let up = d.start_upload(&id, "");
    let path = |n: i32| format!("/api/data/v3/datasources/{id}/uploads/{up}/parts/{n}");
    let r = d.req(
        "PUT",
        &path(1),
        &[("Content-Type", "text/csv"), ("Content-Encoding", "gzip")],
        &gzip(b"one\n"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = d.req(
        "PUT",
        &path(2),
        &[("Content-Type", "application/gzip")],
        &gzip(b"two\n"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // gzip bytes declared as plain CSV are refused with a hint.
    let r = d.req(
        "PUT",
        &path(3),
        &[("Content-Type", "text/csv")],
        &gzip(b"three\n"),
    );
    let v = assert_domo_error(&r, 400);
    assert!(v["message"].as_str().unwrap().contains("gzip"), "{v}");
    // The refused part 3 was never staged, so parts 1..2 commit.
    let r = d.commit(&id, up, json!({"action": "APPEND", "index": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        d.rows(&id, "SELECT s FROM table ORDER BY s"),
        json!([["one"], ["two"]])
    );
    let log = d.admin("GET", "/_emulator/requests", &json!(null));
    let encodings: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().contains("/parts/"))
        .map(|e| e["content_encoding"].clone())
        .collect();
    assert_eq!(encodings, [json!("gzip"), json!(null), json!(null)]);
}

#[test]
fn csv_quoting_nulls_and_empty_strings_round_trip() {
    let d = Domo::start();
    let id = d.create(&[
        ("s", "STRING"),
        ("n", "LONG"),
        ("x", "DOUBLE"),
        ("d", "DATE"),
        ("t", "DATETIME"),
    ]);
    let csv = "\"a,b\",1,1.5,2024-01-02,2024-01-02 03:04:05\r\n\
               \"say \"\"hi\"\"\",,\\N,,\r\n\
               \"\",2,,2024-02-29,2024-02-29T23:59:59.5Z\r\n\
               \"line1\nline2\",3,-2e3,,\n\
               0123,4,0,,\n";
    d.upload(&id, "REPLACE", &[csv]);
    let rows = d.rows(&id, "SELECT * FROM table");
    assert_eq!(
        rows,
        json!([
            ["a,b", 1, 1.5, "2024-01-02", "2024-01-02T03:04:05"],
            ["say \"hi\"", null, null, null, null],
            ["", 2, null, "2024-02-29", "2024-02-29T23:59:59"],
            ["line1\nline2", 3, -2000.0, null, null],
            ["0123", 4, 0.0, null, null],
        ])
    );
    let r = d.query(&id, "SELECT * FROM table");
    let types: Vec<_> = r.json()["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["STRING", "LONG", "DOUBLE", "DATE", "DATETIME"]);
    assert_eq!(
        d.export(&id, true),
        "s,n,x,d,t\n\
         \"a,b\",1,1.5,2024-01-02,2024-01-02T03:04:05\n\
         \"say \"\"hi\"\"\",\\N,\\N,\\N,\\N\n\
         \"\",2,\\N,2024-02-29,2024-02-29T23:59:59\n\
         \"line1\nline2\",3,-2000,\\N,\\N\n\
         0123,4,0,\\N,\\N\n"
    );
    assert!(!d.export(&id, false).starts_with("s,n"));
}

#[test]
fn parse_errors_name_part_line_and_column() {
    let d = Domo::start();
    let id = d.create(&[("s", "STRING"), ("n", "LONG"), ("d", "DATE")]);
    let up = d.start_upload(&id, "");
    let r = d.part(
        &id,
        up,
        2,
        "a,1,2024-01-01\n\"b\nb\",2,2024-01-01\nc,x,2024-01-01\n",
    );
    let v = assert_domo_error(&r, 400);
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("Part 2") && msg.contains("line 4") && msg.contains("'n'"),
        "{msg}"
    );
    let r = d.part(&id, up, 1, "a,1\n");
    let msg = assert_domo_error(&r, 400)["message"].to_string();
    assert!(
        msg.contains("line 1") && msg.contains("expected 3 fields"),
        "{msg}"
    );
    let r = d.part(&id, up, 1, "a,1,2024-13-01\n");
    assert!(
        assert_domo_error(&r, 400)["message"]
            .to_string()
            .contains("DATE")
    );
    let r = d.part(&id, up, 1, "a,1,2024-01-01\n\"open,1,2\n");
    assert!(
        assert_domo_error(&r, 400)["message"]
            .to_string()
            .contains("line 2")
    );
    // A failed part leaves nothing staged.
    let r = d.commit(&id, up, json!({"action": "APPEND", "index": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[0]]));
}

#[test]
fn partitions_are_restated() {
    let d = Domo::start();
    let id = d.create(&[("day", "DATE"), ("v", "LONG")]);
    let load = |tag: &str, query_param: &str, csv: &str, action: &str| {
        let up = d.start_upload(&id, &format!("?{query_param}={tag}"));
        assert_eq!(d.part(&id, up, 1, csv).status, 200);
        let r = d.commit(&id, up, json!({"action": action, "index": true}));
        assert_eq!(r.status, 200, "{}", r.text());
    };
    load(
        "2024-01-01",
        "dataTag",
        "2024-01-01,1\n2024-01-01,2\n",
        "APPEND",
    );
    load("2024-01-02", "restateDataTag", "2024-01-02,3\n", "APPEND");
    // Restating a partition replaces only its rows, whatever the action.
    load("2024-01-01", "dataTag", "2024-01-01,10\n", "APPEND");
    assert_eq!(
        d.rows(&id, "SELECT day, v FROM table ORDER BY v"),
        json!([["2024-01-02", 3], ["2024-01-01", 10]])
    );
    // A tag given only at commit counts too.
    let up = d.start_upload(&id, "");
    assert_eq!(d.part(&id, up, 1, "2024-01-02,30\n").status, 200);
    let r = d.commit(
        &id,
        up,
        json!({"action": "APPEND", "dataTag": "2024-01-02", "index": true}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        d.rows(&id, "SELECT v FROM table ORDER BY v"),
        json!([[10], [30]])
    );
    // The hidden partition column never shows.
    let r = d.query(&id, "SELECT * FROM table");
    assert_eq!(r.json()["columns"], json!(["day", "v"]));
}

#[test]
fn index_false_waits_for_index() {
    let d = Domo::start();
    let id = d.create(&[("n", "LONG")]);
    let up = d.start_upload(&id, "");
    assert_eq!(d.part(&id, up, 1, "1\n2\n").status, 200);
    let r = d.commit(&id, up, json!({"action": "APPEND", "index": false}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[0]]));
    let r = d.json(
        "POST",
        &format!("/api/data/v3/datasources/{id}/indexes"),
        &json!({"dataIds": []}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[2]]));
}

#[test]
fn append_rows_as_json() {
    let d = Domo::start();
    let id = d.create(&[("name", "STRING"), ("n", "LONG"), ("at", "DATETIME")]);
    let path = format!("/api/data/v3/datasources/{id}/uploads");
    let r = d.json(
        "POST",
        &path,
        &json!({"data": [{"name": "a", "n": 1, "at": "2025-08-20T19:12:46"}, {"name": "b"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["dataSourceId"], id);
    assert!(v["uploadId"].is_i64() && v["requestedAsOf"].is_i64());
    assert_eq!(
        d.rows(&id, "SELECT * FROM table"),
        json!([["a", 1, "2025-08-20T19:12:46"], ["b", null, null]])
    );
    assert_domo_error(&d.json("POST", &path, &json!({"data": [{"nope": 1}]})), 400);
    assert_domo_error(&d.json("POST", &path, &json!({"data": [{"n": "x"}]})), 400);
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[2]]));
}

#[test]
fn domo_sql_runs_on_sqlite() {
    let d = Domo::start();
    let id = d.create(&[
        ("Region Name", "STRING"),
        ("amount", "DOUBLE"),
        ("day", "DATE"),
        ("at", "DATETIME"),
    ]);
    d.upload(
        &id,
        "APPEND",
        &["East,1.5,2024-01-31,2024-01-31 10:00:00\nWest,2.5,2024-02-29,2024-02-29 23:30:00\nEast,3,2023-12-01,\n"],
    );
    let q = |sql: &str| d.rows(&id, sql);
    assert_eq!(
        q("SELECT `Region Name`, SUM(amount) FROM table GROUP BY 1 ORDER BY 1"),
        json!([["East", 4.5], ["West", 2.5]])
    );
    assert_eq!(
        q(
            "SELECT DATE_ADD(day, INTERVAL 1 MONTH), DATE_SUB(at, INTERVAL 30 MINUTE) FROM table WHERE amount = 1.5"
        ),
        json!([["2024-02-29", "2024-01-31T09:30:00"]])
    );
    assert_eq!(
        q(
            "SELECT COUNT(*) FROM table WHERE day >= DATE '2024-01-01' AND at < TIMESTAMP '2024-02-01 00:00:00'"
        ),
        json!([[1]])
    );
    assert_eq!(
        q(
            "SELECT CAST(at AS DATE), YEAR(day), MONTH(day), DAY(day), DATE_FORMAT(at, '%b %e, %Y %H:%i') FROM table WHERE amount = 2.5"
        ),
        json!([["2024-02-29", 2024, 2, 29, "Feb 29, 2024 23:30"]])
    );
    assert_eq!(
        q(
            "SELECT CONCAT(`Region Name`, '-', amount), IFNULL(at, 'none') FROM table WHERE amount = 3"
        ),
        json!([["East-3.0", "none"]])
    );
    // `table` inside a string or backticks is not the dataset.
    assert_eq!(
        q("SELECT 'table', `amount` FROM table WHERE amount = 3"),
        json!([["table", 3.0]])
    );
    let r = d.query(
        &id,
        "SELECT MAX(day) AS latest, COUNT(*) AS c, NOW() FROM table",
    );
    let v = r.json();
    assert_eq!(v["columns"], json!(["latest", "c", "NOW()"]));
    let types: Vec<_> = v["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].clone())
        .collect();
    assert_eq!(types, [json!("DATE"), json!("LONG"), json!("DATETIME")]);
    assert_eq!(v["metadata"][0]["dataSourceId"], id);
    assert_eq!(v["metadata"][0]["maxLength"], -1);
    assert_eq!(v["numRows"], 1);
    assert_eq!(v["numColumns"], 3);
    assert_eq!(v["fromcache"], false);
    assert_eq!(v["datasource"], id);

    // Errors.
    let r = d.json(
        "POST",
        &format!("/api/query/v1/execute/{id}"),
        &json!({"sql": {"sql": "SELECT 1"}}),
    );
    assert_domo_error(&r, 400);
    let r = d.json("POST", &format!("/api/query/v1/execute/{id}"), &json!({}));
    assert_domo_error(&r, 400);
    let v = assert_domo_error(&d.query(&id, "SELECT nope FROM table"), 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("no such column: nope"),
        "{v}"
    );
    assert_domo_error(&d.query(&id, "DELETE FROM table"), 400);
    assert_domo_error(&d.query(&id, "SELECT 1; DELETE FROM table"), 400);
    assert_domo_error(&d.query(&id, "WITH x AS (SELECT 1) DELETE FROM table"), 400);
    assert_eq!(q("SELECT COUNT(*) FROM table"), json!([[3]]));
    assert_domo_error(&d.query("no-such-id", "SELECT 1"), 404);
}

#[test]
fn export_streams_many_rows() {
    let d = Domo::start();
    let id = d.create(&[("n", "LONG"), ("s", "STRING")]);
    let mut csv = String::new();
    for i in 0..12_345 {
        csv.push_str(&format!("{i},row {i}\n"));
    }
    d.upload(&id, "REPLACE", &[&csv]);
    let r = d.req(
        "GET",
        &format!("/api/data/v2/datasources/{id}/dataversions/latest?includeHeader=false"),
        &[],
        b"",
    );
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(r.text(), csv);
}

#[test]
fn faults_status_retry_after_and_skip() {
    let d = Domo::start();
    let id = d.create(&[("n", "LONG")]);
    let up = d.start_upload(&id, "");
    assert_eq!(d.part(&id, up, 1, "1\n").status, 200);
    let f = d.admin(
        "POST",
        "/_emulator/faults",
        &json!({"method": "PUT", "path": "/api/data/v3/datasources/*/uploads/*/commit",
                "status": 503, "retry_after": 2, "count": 1, "skip": 0}),
    );
    assert!(f["id"].is_u64());
    let r = d.commit(&id, up, json!({"action": "APPEND", "index": true}));
    assert_domo_error(&r, 503);
    assert_eq!(r.header("retry-after"), Some("2"));
    // The faulted commit did not commit: the retry succeeds, once.
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[0]]));
    let r = d.commit(&id, up, json!({"action": "APPEND", "index": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[1]]));

    // skip: the first match passes, the next two get the fault (an HTML 200 page).
    d.admin(
        "POST",
        "/_emulator/faults",
        &json!({"path": "/api/query/**", "status": 200, "skip": 1, "count": 2,
                "body": "<html><title>Domo - Blocked</title></html>"}),
    );
    assert_eq!(d.query(&id, "SELECT 1").json()["rows"], json!([[1]]));
    for _ in 0..2 {
        let r = d.query(&id, "SELECT 1");
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(r.text().contains("Domo - Blocked"));
    }
    assert_eq!(d.query(&id, "SELECT 1").json()["rows"], json!([[1]]));
    assert_eq!(
        d.admin("GET", "/_emulator/state", &json!(null))["faults"],
        json!([])
    );

    // A delay-only rule passes through to the handler.
    d.admin(
        "POST",
        "/_emulator/faults",
        &json!({"path": "/api/query/v1/execute/*", "delay_ms": 50}),
    );
    assert_eq!(d.query(&id, "SELECT 2").json()["rows"], json!([[2]]));

    // Bad rules are refused; DELETE clears the rest.
    let r = raw_request(
        d.addr(),
        "POST",
        "/_emulator/faults",
        &[("Content-Type", "application/json")],
        br#"{"path": "/api/**", "status": 42}"#,
    )
    .unwrap();
    assert_domo_error(&r, 400);
    d.admin(
        "POST",
        "/_emulator/faults",
        &json!({"path": "/api/**", "status": 500, "count": 0}),
    );
    assert_eq!(
        d.admin("GET", "/_emulator/faults", &json!(null))
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    d.admin("DELETE", "/_emulator/faults", &json!(null));
    assert_eq!(d.query(&id, "SELECT 3").json()["rows"], json!([[3]]));

    let log = d.admin("GET", "/_emulator/requests", &json!(null));
    let commits: Vec<u64> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().ends_with("/commit"))
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(commits, [503, 200]);
    d.admin("DELETE", "/_emulator/requests", &json!(null));
    assert_eq!(
        d.admin("GET", "/_emulator/requests", &json!(null)),
        json!([])
    );
}

#[test]
fn faults_drop_the_connection_before_the_handler() {
    let d = Domo::start();
    let id = d.create(&[("n", "LONG")]);
    let up = d.start_upload(&id, "");
    assert_eq!(d.part(&id, up, 1, "1\n").status, 200);
    d.admin(
        "POST",
        "/_emulator/faults",
        &json!({"method": "PUT", "path": "/api/**/commit", "drop": true}),
    );
    let err = raw_request(
        d.addr(),
        "PUT",
        &format!("/api/data/v3/datasources/{id}/uploads/{up}/commit"),
        &[("X-DOMO-Developer-Token", TOKEN)],
        br#"{"action":"APPEND","index":true}"#,
    )
    .err()
    .expect("the connection is dropped");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[0]]));
    let r = d.commit(&id, up, json!({"action": "APPEND", "index": true}));
    assert_eq!(r.status, 200);
    assert_eq!(d.rows(&id, "SELECT COUNT(*) FROM table"), json!([[1]]));
    let log = d.admin("GET", "/_emulator/requests", &json!(null));
    let dropped: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["dropped"] == true)
        .collect();
    assert_eq!(dropped.len(), 1);

    // Reset wipes data and uploads.
    d.admin("POST", "/_emulator/reset", &json!(null));
    let state = d.admin("GET", "/_emulator/state", &json!(null));
    assert_eq!(state["datasets"], json!([]));
    assert_eq!(state["uploads"], json!([]));
}

#[test]
fn data_dir_survives_restart() {
    let dir = std::env::temp_dir().join(format!(
        "domo-emulator-test-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    let config = Config {
        data_dir: Some(dir.clone()),
        ..Config::default()
    };
    let id = {
        let d = Domo::with(config.clone());
        let id = d.create(&[("s", "STRING"), ("d", "DATE")]);
        d.upload(&id, "APPEND", &["0123,2024-01-01\n"]);
        id
    };
    {
        let mut d = Domo::with(config);
        assert_eq!(
            d.rows(&id, "SELECT * FROM table"),
            json!([["0123", "2024-01-01"]])
        );
        let up = d.start_upload(&id, "");
        assert!(up > 1, "upload ids keep increasing across restarts");
        d.emu.stop();
        d.emu.stop();
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn starts_and_stops_inside_a_tokio_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut emu = Emulator::start(Config::default()).unwrap();
        let addr = emu.addr();
        assert_eq!(emu.url(), format!("http://{addr}"));
        assert_eq!(emu.token(), TOKEN);
        let r = tokio::task::spawn_blocking(move || {
            raw_request(
                addr,
                "GET",
                "/api/nothing",
                &[("X-DOMO-Developer-Token", TOKEN)],
                b"",
            )
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(r.status, 404);
        emu.stop();
        assert!(std::net::TcpStream::connect(addr).is_err());
    });
}
