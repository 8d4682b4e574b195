//! A tiny HTTP/1.1 client for the tests (one request per connection), so the tests need
//! no HTTP client crate and see exactly what goes over the wire.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use domo_emulator::{Config, Emulator};
use serde_json::Value;

pub const TOKEN: &str = domo_emulator::DEFAULT_TOKEN;

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    if buf.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed without a response",
        ));
    }
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| io::Error::other("truncated chunked body"))?;
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16)
            .map_err(|_| io::Error::other("bad chunk size"))?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size + 2 {
            return Err(io::Error::other("truncated chunk"));
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

pub struct Domo {
    pub emu: Emulator,
}

impl Domo {
    pub fn start() -> Domo {
        Domo::with(Config::default())
    }
    pub fn with(config: Config) -> Domo {
        Domo {
            emu: Emulator::start(config).expect("emulator starts"),
        }
    }
    pub fn addr(&self) -> SocketAddr {
        self.emu.addr()
    }

    pub fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut h = vec![("X-DOMO-Developer-Token", TOKEN)];
        h.extend_from_slice(headers);
        raw_request(self.addr(), method, path, &h, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn json(&self, method: &str, path: &str, body: &Value) -> Resp {
        self.req(
            method,
            path,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    pub fn admin(&self, method: &str, path: &str, body: &Value) -> Value {
        let r = raw_request(
            self.addr(),
            method,
            path,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
        .expect("admin request");
        assert_eq!(r.status, 200, "{method} {path}: {}", r.text());
        r.json()
    }

    /// Creates a dataset; `cols` as (name, type).
    pub fn create(&self, cols: &[(&str, &str)]) -> String {
        let columns: Vec<Value> = cols
            .iter()
            .map(|(n, t)| serde_json::json!({"name": n, "type": t}))
            .collect();
        let r = self.json(
            "POST",
            "/api/data/v2/datasources",
            &serde_json::json!({"userDefinedType": "api", "dataSourceName": "test", "schema": {"columns": columns}}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["dataSource"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    pub fn start_upload(&self, id: &str, query: &str) -> i64 {
        let r = self.json(
            "POST",
            &format!("/api/data/v3/datasources/{id}/uploads{query}"),
            &serde_json::json!({"action": null, "appendId": null}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["uploadId"].as_i64().expect("uploadId")
    }

    pub fn part(&self, id: &str, upload: i64, n: i64, csv: &str) -> Resp {
        self.req(
            "PUT",
            &format!("/api/data/v3/datasources/{id}/uploads/{upload}/parts/{n}"),
            &[("Content-Type", "text/csv")],
            csv.as_bytes(),
        )
    }

    pub fn commit(&self, id: &str, upload: i64, body: Value) -> Resp {
        self.json(
            "PUT",
            &format!("/api/data/v3/datasources/{id}/uploads/{upload}/commit"),
            &body,
        )
    }

    /// Start, one part per CSV text, commit with `action`; asserts success.
    pub fn upload(&self, id: &str, action: &str, parts: &[&str]) {
        let up = self.start_upload(id, "");
        for (i, p) in parts.iter().enumerate() {
            let r = self.part(id, up, i as i64 + 1, p);
            assert_eq!(r.status, 200, "{}", r.text());
        }
        let r = self.commit(id, up, serde_json::json!({"action": action, "index": true}));
        assert_eq!(r.status, 200, "{}", r.text());
    }

    pub fn query(&self, id: &str, sql: &str) -> Resp {
        self.json(
            "POST",
            &format!("/api/query/v1/execute/{id}"),
            &serde_json::json!({ "sql": sql }),
        )
    }

    /// Rows of a successful query.
    pub fn rows(&self, id: &str, sql: &str) -> Value {
        let r = self.query(id, sql);
        assert_eq!(r.status, 200, "{sql}: {}", r.text());
        r.json()["rows"].clone()
    }

    pub fn export(&self, id: &str, header: bool) -> String {
        let r = self.req(
            "GET",
            &format!("/api/data/v2/datasources/{id}/dataversions/latest?includeHeader={header}"),
            &[("Accept", "text/csv")],
            b"",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.text()
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

pub fn assert_domo_error(r: &Resp, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], status);
    assert!(v["statusReason"].is_string(), "{v}");
    assert!(v["message"].is_string(), "{v}");
    let toe = v["toe"].as_str().expect("toe");
    assert_eq!(toe.len(), 22, "{toe}");
    v
}
