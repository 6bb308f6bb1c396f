//! The server side: accepting connections, and one task per connection running the HTTP server
//! machine and answering each request from the node (or with a redirect to HTTPS).

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redy_certs::Wid;
use redy_eshare::http::{Headers, Limits, Link, RequestHead, Server, ServerEvent};
use redy_eshare::share::{self, Request, Response};
use redy_tls::{ServerConfig, TlsSession};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::wire::Wire;
use super::{MAX_CONNECTIONS, Shared, now};

/// What a listener answers.
#[derive(Clone, Debug)]
pub(super) enum Role {
    /// The eShare endpoints, from the node.
    Node,
    /// Clear text that only redirects to `https://host:port`.
    Redirect { host: String, port: u16 },
}

/// Accepts connections until the task is dropped, which drops (and so closes) them all.
pub(super) async fn accept(
    listener: TcpListener,
    tls: Option<ServerConfig>,
    shared: Arc<Shared>,
    role: Role,
    limits: Limits,
) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, most likely: give the open connections time to end.
                eprintln!("eshare: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if connections.len() >= MAX_CONNECTIONS {
            continue; // dropped: closed at once
        }
        let _ = stream.set_nodelay(true);
        let link = match &tls {
            Some(config) => match TlsSession::server(config) {
                Ok(session) => Link::tls(session),
                Err(e) => {
                    eprintln!("eshare: TLS session: {e}");
                    continue;
                }
            },
            None => Link::insecure_plain(),
        };
        let server = Server::new(link, limits.clone(), Instant::now());
        connections.spawn(serve(
            Wire::new(stream, server),
            shared.clone(),
            role.clone(),
        ));
    }
}

/// Serves one connection until it closes, fails or times out.
async fn serve(mut wire: Wire<Server>, shared: Arc<Shared>, role: Role) {
    let mut head: Option<RequestHead> = None;
    let mut body = Vec::new();
    // Which site the client's certificate names, looked up once after the handshake.
    let mut peer: Option<Option<Wid>> = None;
    loop {
        while let Some(event) = wire.machine.poll_event() {
            match event {
                ServerEvent::Request(h) => {
                    head = Some(h);
                    body.clear();
                }
                ServerEvent::BodyData => {
                    // Bounded by the limits' max_body (at most share::MAX_BODY_BYTES).
                    let data = wire.machine.body();
                    body.extend_from_slice(data);
                    let n = data.len();
                    wire.machine.consume_body(n, Instant::now());
                }
                ServerEvent::BodyEnd => {
                    let Some(h) = head.take() else { continue };
                    let response = match &role {
                        Role::Node => {
                            let peer = peer.get_or_insert_with(|| {
                                let chain = wire.machine.peer_certificates();
                                shared.lock().authorize_peer(&chain)
                            });
                            answer(&shared, &h, &body, peer.as_ref())
                        }
                        Role::Redirect { host, port } => {
                            share::redirect_to_https(&request(&h, &body, None), host, *port)
                        }
                    };
                    if respond(&mut wire, &h, response).await.is_err() {
                        return;
                    }
                }
                ServerEvent::Closed | ServerEvent::Error(_) => {
                    // A refusal (400, 413, 431) or the close_notify is still to be sent.
                    let _ = wire.flush().await;
                    return;
                }
                _ => {}
            }
        }
        if wire.turn().await.is_err() {
            return;
        }
    }
}

fn request<'a>(h: &'a RequestHead, body: &'a [u8], peer: Option<&'a Wid>) -> Request<'a> {
    Request {
        method: &h.method,
        path: &h.target,
        content_type: h.headers.get_str("content-type"),
        body,
        peer,
    }
}

fn answer(shared: &Shared, h: &RequestHead, body: &[u8], peer: Option<&Wid>) -> Response {
    let response = shared.lock().handle_request(&request(h, body, peer), now());
    // An applied batch queued events; a full outbox may have room again.
    shared.wake.notify_one();
    response
}

/// Sends a response; the body goes out as far as the send buffer allows, flushed in between.
async fn respond(wire: &mut Wire<Server>, h: &RequestHead, r: Response) -> io::Result<()> {
    let mut headers = Headers::new();
    if !r.content_type.is_empty() {
        headers.push("Content-Type", r.content_type.as_bytes());
    }
    for (name, value) in &r.headers {
        headers.push(name, value.as_bytes());
    }
    headers.push("Cache-Control", b"no-store");
    // A HEAD answer has no body; its length is left out rather than computed.
    let body: &[u8] = match h.method.as_str() {
        "HEAD" => b"",
        _ => &r.body,
    };
    let to_io = |e| io::Error::other(e);
    wire.machine
        .respond(
            r.status,
            reason(r.status),
            &headers,
            Some(body.len() as u64),
        )
        .map_err(to_io)?;
    let mut rest = body;
    while !rest.is_empty() {
        match wire.machine.write_body(rest).map_err(to_io)? {
            0 => wire.flush().await?,
            n => rest = &rest[n..],
        }
    }
    wire.flush().await
}

/// The reason phrase of the statuses the node and the redirect answer with.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        503 => "Service Unavailable",
        _ => "",
    }
}
