//! Compressed answers: a query answer or an export goes out gzip-compressed when the
//! request's `Accept-Encoding` allows gzip, as the live service sends them.
//!
//! Compression runs chunk by chunk, so an answer is never held whole to be compressed, on
//! a thread of its own beside the one that renders the answer: a large answer then goes
//! out about as fast as the slower of the two, not at the pace of their sum, and the
//! async workers never wait on either.

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

/// Hands a piece of a response body on: `false` once the client has gone.
pub(crate) type BodyOut = Box<dyn FnMut(Result<Bytes, std::io::Error>) -> bool + Send>;

/// Pieces waiting for the compressor, at most: memory stays at a few pieces.
const PIECES_AHEAD: usize = 4;

/// What the rendering thread tells the compressor.
enum Piece {
    Data(Vec<u8>),
    End,
    Fail(std::io::Error),
}

/// Sends a body rendered piece by piece to `out`, compressed on a thread of its own when
/// the answer is gzip-encoded. A body dropped without [`BodySender::finish`] (its producer
/// failed or panicked) is cut short with an error, never ended as if whole.
pub(crate) struct BodySender {
    way: Way,
    ended: bool,
}

enum Way {
    Direct(BodyOut),
    /// `None` when no thread could be started: the body is then cut short.
    Compressor(Option<std::sync::mpsc::SyncSender<Piece>>),
}

impl BodySender {
    pub(crate) fn new(encoding: Encoding, out: BodyOut) -> BodySender {
        let way = match encoding {
            Encoding::Identity => Way::Direct(out),
            Encoding::Gzip => {
                // A thread of its own, not one of the runtime's blocking pool: a renderer
                // waiting on a compressor queued behind other renderers would never end.
                // (Should none start, `out` goes with it and the gzip member is never
                // ended: the client sees a broken answer.)
                let (pieces, received) = std::sync::mpsc::sync_channel(PIECES_AHEAD);
                let gzip = Gzip::new(out);
                let started = std::thread::Builder::new()
                    .name("domo-emulator-gzip".into())
                    .spawn(move || gzip.run(&received));
                Way::Compressor(started.ok().map(|_| pieces))
            }
        };
        BodySender { way, ended: false }
    }

    /// Sends the next piece of the body; `false` once the client has gone (the producer
    /// then stops).
    pub(crate) fn send(&mut self, piece: Vec<u8>) -> bool {
        if piece.is_empty() {
            return true;
        }
        match &mut self.way {
            Way::Direct(out) => out(Ok(Bytes::from(piece))),
            Way::Compressor(pieces) => pieces
                .as_ref()
                .is_some_and(|p| p.send(Piece::Data(piece)).is_ok()),
        }
    }

    /// Ends the body after every piece sent (with the gzip trailer).
    pub(crate) fn finish(&mut self) {
        self.end(Piece::End);
    }

    /// Cuts the body short with `error` after the pieces sent before, so the client sees
    /// a broken answer rather than a shorter one.
    pub(crate) fn fail(&mut self, error: std::io::Error) {
        self.end(Piece::Fail(error));
    }

    fn end(&mut self, last: Piece) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        match (&mut self.way, last) {
            (Way::Direct(_), Piece::End | Piece::Data(_)) => {}
            (Way::Direct(out), Piece::Fail(e)) => {
                out(Err(e));
            }
            (Way::Compressor(Some(pieces)), last) => {
                let _ = pieces.send(last);
            }
            (Way::Compressor(None), _) => {}
        }
    }
}

impl Drop for BodySender {
    fn drop(&mut self) {
        self.fail(std::io::Error::other("the answer was cut short"));
    }
}

/// A gzip member (level 1) compressed piece by piece, what is ready handed to `out`.
struct Gzip {
    encoder: GzEncoder<Vec<u8>>,
    out: BodyOut,
}

impl Gzip {
    fn new(out: BodyOut) -> Gzip {
        // The fastest level: the emulator's answers are every test suite's time, and
        // level 1 already takes most of what gzip can take from CSV and JSON rows.
        let encoder = GzEncoder::new(Vec::with_capacity(64 * 1024), Compression::fast());
        Gzip { encoder, out }
    }

    /// Compresses `piece`; `false` once the client has gone.
    fn piece(&mut self, piece: &[u8]) -> bool {
        // Writing into a Vec cannot fail.
        let _ = self.encoder.write_all(piece);
        let ready = std::mem::take(self.encoder.get_mut());
        // (The compressor keeps a window until it has a block: often nothing is ready.)
        ready.is_empty() || (self.out)(Ok(Bytes::from(ready)))
    }

    /// Ends the member: the rest of it and its trailer.
    fn finish(mut self) {
        let rest = self.encoder.finish().unwrap_or_default();
        (self.out)(Ok(Bytes::from(rest)));
    }

    /// The compressor's thread: each piece as it comes, until the body ends or the client
    /// goes (its end drops the receiver, which stops the renderer at its next piece).
    fn run(mut self, pieces: &std::sync::mpsc::Receiver<Piece>) {
        loop {
            match pieces.recv() {
                Ok(Piece::Data(piece)) => {
                    if !self.piece(&piece) {
                        return;
                    }
                }
                Ok(Piece::End) => return self.finish(),
                Ok(Piece::Fail(e)) => {
                    (self.out)(Err(e));
                    return;
                }
                // (`BodySender` says how every body ends, even when dropped: never whole.)
                Err(_) => {
                    (self.out)(Err(std::io::Error::other("the answer was cut short")));
                    return;
                }
            }
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

    /// What `BodySender` hands on for `pieces`, ended by `end`, and whether every send
    /// was taken.
    fn sent(
        encoding: Encoding,
        pieces: &[Vec<u8>],
        end: impl FnOnce(&mut BodySender),
    ) -> (Vec<Result<Bytes, String>>, bool) {
        let (tx, rx) = std::sync::mpsc::channel();
        let out: BodyOut = Box::new(move |item| tx.send(item.map_err(|e| e.to_string())).is_ok());
        let mut body = BodySender::new(encoding, out);
        let taken = pieces.iter().all(|p| body.send(p.clone()));
        end(&mut body);
        drop(body);
        // Everything is handed on once the compressor's thread ends, which drops `tx`.
        (rx.iter().collect(), taken)
    }

    fn gunzip(wire: &[u8]) -> Vec<u8> {
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(wire)
            .read_to_end(&mut back)
            .unwrap();
        back
    }

    #[test]
    fn pieces_make_one_gzip_member() {
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("{i},row {i}\n").into_bytes())
            .collect();
        let pieces: Vec<Vec<u8>> = text.chunks(7_000).map(<[u8]>::to_vec).collect();
        let (items, taken) = sent(Encoding::Gzip, &pieces, BodySender::finish);
        assert!(taken);
        let wire: Vec<u8> = items.into_iter().flat_map(|i| i.unwrap()).collect();
        assert!(wire.len() < text.len() / 2);
        assert_eq!(gunzip(&wire), text);

        let (items, _) = sent(Encoding::Identity, &pieces, BodySender::finish);
        let plain: Vec<u8> = items.into_iter().flat_map(|i| i.unwrap()).collect();
        assert_eq!(plain, text);
    }

    #[test]
    fn a_body_not_finished_ends_in_an_error() {
        let pieces = vec![b"a,b\n".to_vec(), b"1,2\n".to_vec()];
        for encoding in [Encoding::Gzip, Encoding::Identity] {
            let (items, _) = sent(encoding, &pieces, |body| {
                body.fail(std::io::Error::other("the query failed"));
            });
            assert_eq!(
                items.last(),
                Some(&Err("the query failed".into())),
                "{encoding:?}"
            );
            // Dropped unfinished (a producer that panicked) is an error too.
            let (items, _) = sent(encoding, &pieces, |_| {});
            assert_eq!(
                items.last(),
                Some(&Err("the answer was cut short".into())),
                "{encoding:?}"
            );
        }
        // Uncompressed, the pieces before the error are handed on first.
        let (items, _) = sent(Encoding::Identity, &pieces, |body| {
            body.fail(std::io::Error::other("x"));
        });
        let wire: Vec<u8> = items
            .iter()
            .filter_map(|i| i.clone().ok())
            .flatten()
            .collect();
        assert_eq!(wire, b"a,b\n1,2\n");
    }

    #[test]
    fn a_client_gone_stops_the_producer() {
        for encoding in [Encoding::Gzip, Encoding::Identity] {
            let out: BodyOut = Box::new(|_| false);
            let mut body = BodySender::new(encoding, out);
            // Bounded: the compressor ends at its first refused piece.
            let sends = (0..1_000)
                .take_while(|i| body.send(format!("row {i}\n").repeat(5_000).into()))
                .count();
            assert!(sends < 1_000, "{encoding:?}: {sends}");
        }
    }
}
