//! Compressed answers: a query answer or an export goes out gzip-compressed when the
//! request's `Accept-Encoding` allows gzip, as the live service sends them.
//!
//! Compression runs chunk by chunk on the thread that renders the answer, so an export is
//! never held whole to be compressed and the async workers never wait on it.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

/// How a response body is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Gzip,
}

impl Encoding {
    /// Gzip when `Accept-Encoding` names `gzip` (or `x-gzip`, or `*`) with a weight above
    /// zero; identity otherwise, also when there is no `Accept-Encoding` at all (RFC 9110
    /// allows any coding then, but a client that sends none is usually one that cannot
    /// decode it, like a bare `curl`).
    pub(crate) fn for_request(headers: &HeaderMap) -> Encoding {
        let mut gzip = None;
        let mut any = None;
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                let weight = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                match coding.as_str() {
                    "gzip" | "x-gzip" => gzip = Some(weight > 0.0),
                    "*" => any = Some(weight > 0.0),
                    _ => {}
                }
            }
        }
        if gzip.or(any).unwrap_or(false) {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    /// Marks `resp` as encoded this way. `Vary` tells caches the answer depends on
    /// `Accept-Encoding` either way.
    pub(crate) fn label(self, resp: &mut Response) {
        let headers = resp.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if self == Encoding::Gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
    }
}

/// Encodes a body given piece by piece; each call returns what is ready to send.
pub(crate) struct BodyEncoder {
    gzip: Option<GzEncoder<Vec<u8>>>,
}

impl BodyEncoder {
    pub(crate) fn new(encoding: Encoding) -> BodyEncoder {
        // The fastest level: the emulator's answers are every test suite's time, and
        // level 1 already takes most of what gzip can take from CSV and JSON rows.
        let gzip = (encoding == Encoding::Gzip)
            .then(|| GzEncoder::new(Vec::with_capacity(64 * 1024), Compression::fast()));
        BodyEncoder { gzip }
    }

    /// The bytes to send for `piece`: itself, or the compressed output it completed
    /// (possibly empty: the compressor keeps a window until it has a block).
    pub(crate) fn piece(&mut self, piece: Vec<u8>) -> Bytes {
        match &mut self.gzip {
            None => Bytes::from(piece),
            Some(gz) => {
                // Writing into a Vec cannot fail.
                let _ = gz.write_all(&piece);
                Bytes::from(std::mem::take(gz.get_mut()))
            }
        }
    }

    /// The bytes that end the body (the gzip trailer); empty for identity.
    pub(crate) fn finish(&mut self) -> Bytes {
        match self.gzip.take() {
            None => Bytes::new(),
            Some(gz) => Bytes::from(gz.finish().unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn accept(value: &str) -> Encoding {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        Encoding::for_request(&headers)
    }

    #[test]
    fn gzip_only_when_the_request_accepts_it() {
        assert_eq!(Encoding::for_request(&HeaderMap::new()), Encoding::Identity);
        assert_eq!(accept("gzip"), Encoding::Gzip);
        assert_eq!(accept("gzip, deflate, br, zstd"), Encoding::Gzip);
        assert_eq!(accept("deflate;q=1, GZIP;q=0.5"), Encoding::Gzip);
        assert_eq!(accept("x-gzip"), Encoding::Gzip);
        assert_eq!(accept("*"), Encoding::Gzip);
        assert_eq!(accept("identity"), Encoding::Identity);
        assert_eq!(accept("br, deflate"), Encoding::Identity);
        assert_eq!(accept("gzip;q=0"), Encoding::Identity);
        assert_eq!(accept("*, gzip;q=0"), Encoding::Identity);
        assert_eq!(accept("*;q=0"), Encoding::Identity);
    }

    #[test]
    fn pieces_make_one_gzip_member() {
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("{i},row {i}\n").into_bytes())
            .collect();
        let mut enc = BodyEncoder::new(Encoding::Gzip);
        let mut wire = Vec::new();
        for piece in text.chunks(7_000) {
            wire.extend_from_slice(&enc.piece(piece.to_vec()));
        }
        wire.extend_from_slice(&enc.finish());
        assert!(wire.len() < text.len() / 2);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&wire[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);

        let mut plain = BodyEncoder::new(Encoding::Identity);
        assert_eq!(&plain.piece(b"abc".to_vec())[..], b"abc");
        assert!(plain.finish().is_empty());
    }
}
