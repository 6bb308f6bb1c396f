//! The server side of eShare v1: every endpoint, and the plain-HTTP redirect responder.

use std::net::Ipv6Addr;

use serde::Serialize;

use super::batch::{Batch, ErrorBody};
use super::error::BatchError;
use super::event::Event;
use super::exchange::{Now, Request, Response};
use super::node::Node;
use super::outbox::truncate;
use super::receiver::{StoredValue, Verdict};
use super::{BATCHES_PATH, HTML, JSON, MAX_BODY_BYTES, MAX_EVENTS, STATUS_PATH, VALUES_PATH};

/// Events one applied batch may queue (new epoch, gap, applied).
const EVENTS_PER_BATCH: usize = 3;

impl Node {
    /// Answers one request of the eShare v1 server (see the [module docs](super) for the
    /// endpoints). Never fails: errors are answers (`400`, `403`, `404`, `405`, `409`, `413`,
    /// `415`, `503`) with a JSON `{"error", "message"}` body.
    pub fn handle_request(&mut self, request: &Request<'_>, now: Now) -> Response {
        let _ = now;
        let path = request.path.split(['?', '#']).next().unwrap_or_default();
        match (path, request.method) {
            (BATCHES_PATH, "POST") => self.receive(request),
            (STATUS_PATH, "GET") => json(200, &self.status()),
            (VALUES_PATH, "GET") => json(200, &self.values_document()),
            ("/", "GET") => Response {
                status: 200,
                content_type: HTML.into(),
                headers: vec![("Cache-Control".into(), "no-store".into())],
                body: self.status().html(self.config.refresh_secs).into_bytes(),
            },
            (BATCHES_PATH, _) => not_allowed("POST"),
            (STATUS_PATH | VALUES_PATH | "/", _) => not_allowed("GET"),
            _ => error(
                404,
                "not_found",
                format!(
                    "no resource {:?}; see GET {STATUS_PATH}",
                    truncate(path, 100)
                ),
            ),
        }
    }

    fn receive(&mut self, request: &Request<'_>) -> Response {
        if let Some(ct) = request.content_type {
            let media = ct.split(';').next().unwrap_or_default().trim();
            if !media.eq_ignore_ascii_case(JSON) {
                let msg = format!("content type {:?}: send {JSON}", truncate(ct, 100));
                return error(415, "unsupported_media_type", msg);
            }
        }
        if request.body.len() > MAX_BODY_BYTES {
            let e = BatchError::TooLarge {
                size: request.body.len(),
                limit: MAX_BODY_BYTES,
            };
            return error(413, "too_large", e.to_string());
        }
        if self.events.len() + EVENTS_PER_BATCH > MAX_EVENTS {
            let mut r = error(503, "busy", "events are not being read; retry later".into());
            r.headers.push(("Retry-After".into(), "1".into()));
            return r;
        }
        let batch = match Batch::decode(request.body) {
            Ok(b) => b,
            Err(e) => return error(400, "invalid_batch", e.to_string()),
        };
        let origin = &batch.origin;
        if *origin == self.config.wid || self.site_index(origin).is_none() {
            let msg = format!("{origin} is not another site of this domain");
            return error(403, "unknown_origin", msg);
        }
        match request.peer {
            Some(peer) if peer != origin => {
                let msg = format!("the client authenticated as {peer} sends for {origin}");
                return error(403, "origin_mismatch", msg);
            }
            None if self.config.mtls => {
                let msg = "this site accepts batches only over mutual TLS".into();
                return error(403, "unauthenticated", msg);
            }
            _ => {}
        }
        let (verdict, ack) = self.receiver.apply(&batch);
        let (epoch, seq) = (batch.epoch, batch.seq);
        match verdict {
            Verdict::Stale { current } => {
                self.push_event(Event::StaleRefused {
                    origin: origin.clone(),
                    epoch,
                    current,
                });
                let body = ErrorBody {
                    error: "stale_epoch".into(),
                    message: format!("epoch {epoch} of {origin} is older than {current}"),
                    epoch: Some(current),
                };
                return json(409, &body);
            }
            Verdict::Duplicate => self.push_event(Event::Duplicate {
                origin: origin.clone(),
                epoch,
                seq,
                applied: ack.applied,
            }),
            Verdict::Applied {
                expected,
                new_epoch,
            } => {
                if let Some(previous) = new_epoch {
                    let origin = origin.clone();
                    self.push_event(Event::NewEpoch {
                        origin,
                        previous,
                        epoch,
                    });
                }
                if let Some(expected) = expected {
                    let origin = origin.clone();
                    self.push_event(Event::Gap {
                        origin,
                        epoch,
                        expected,
                        got: seq,
                    });
                }
                self.push_event(Event::BatchApplied {
                    origin: batch.origin,
                    epoch,
                    seq,
                    values: batch.values,
                });
            }
        }
        json(200, &ack)
    }

    fn values_document(&self) -> ValuesDocument<'_> {
        ValuesDocument {
            values: self.receiver.values(),
            skipped: self.receiver.skipped,
        }
    }
}

#[derive(Serialize)]
struct ValuesDocument<'a> {
    values: Vec<&'a StoredValue>,
    skipped: u64,
}

fn json(status: u16, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(body) => Response {
            status,
            content_type: JSON.into(),
            headers: vec![("Cache-Control".into(), "no-store".into())],
            body,
        },
        Err(e) => Response::new(500, format!("JSON encoding failed: {e}")),
    }
}

fn error(status: u16, code: &str, message: String) -> Response {
    let body = ErrorBody {
        error: code.into(),
        message,
        epoch: None,
    };
    json(status, &body)
}

fn not_allowed(allow: &str) -> Response {
    let mut r = error(405, "method_not_allowed", format!("use {allow}"));
    r.headers.push(("Allow".into(), allow.into()));
    r
}

/// The plain-HTTP listener's only answer (the manual's step before switching port 80 off):
/// `301` for `GET` and `HEAD`, `308` otherwise (the method and body are kept), to
/// `https://host[:port]/path`. A target that is not an absolute path is redirected to `/`.
pub fn redirect_to_https(request: &Request<'_>, host: &str, port: u16) -> Response {
    let path = request.path;
    let path = match path.starts_with('/') && path.bytes().all(|b| b.is_ascii_graphic()) {
        true => path,
        false => "/",
    };
    let host = match host.parse::<Ipv6Addr>() {
        Ok(ip) => format!("[{ip}]"),
        Err(_) => host.to_owned(),
    };
    let location = match port {
        443 => format!("https://{host}{path}"),
        _ => format!("https://{host}:{port}{path}"),
    };
    let status = match request.method {
        "GET" | "HEAD" => 301,
        _ => 308,
    };
    Response {
        status,
        content_type: "text/plain; charset=utf-8".into(),
        headers: vec![("Location".into(), location.clone())],
        body: format!("moved to {location}\n").into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Request<'_> {
        Request {
            method: "GET",
            path,
            content_type: None,
            body: b"",
            peer: None,
        }
    }

    #[test]
    fn redirects_keep_the_path_and_choose_the_status_by_method() {
        let r = redirect_to_https(&get("/eshare/v1/status?x=1"), "redy.local", 443);
        assert_eq!(r.status, 301);
        assert_eq!(
            r.headers,
            [(
                "Location".into(),
                "https://redy.local/eshare/v1/status?x=1".into()
            )]
        );
        let post = Request {
            method: "POST",
            ..get("/eshare/v1/batches")
        };
        let r = redirect_to_https(&post, "::1", 9443);
        assert_eq!(r.status, 308);
        assert_eq!(r.headers[0].1, "https://[::1]:9443/eshare/v1/batches");
        for odd in ["*", "http://evil/", "/a\r\nSet-Cookie: x", "/a b"] {
            let r = redirect_to_https(&get(odd), "h", 443);
            assert_eq!(r.headers[0].1, "https://h/");
        }
    }
}
