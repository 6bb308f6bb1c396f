//! The server side: accepting connections, and one task per connection running the HTTP server
//! machine and answering each request from the node (or with a redirect to HTTPS).

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use redy_certs::Wid;
use redy_eshare::http::{Limits, Link, Server};
use redy_eshare::share::{self, Response};
use redy_tls::{ServerConfig, TlsSession};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::exchange::{Exchange, Step, begin_response, request};
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
    let mut exchange = Exchange::new();
    // Which site the client's certificate names, looked up once after the handshake.
    let mut peer: Option<Option<Wid>> = None;
    loop {
        while let Some(event) = wire.machine.poll_event() {
            let response = match exchange.on_event(event, &mut wire.machine) {
                Step::Nothing => continue,
                Step::End => {
                    // A refusal (400, 413, 431) or the close_notify is still to be sent.
                    let _ = wire.flush().await;
                    return;
                }
                Step::Complete(h, body) => {
                    let response = match &role {
                        Role::Node => {
                            let peer = peer.get_or_insert_with(|| {
                                let chain = wire.machine.peer_certificates();
                                shared.lock().authorize_peer(&chain)
                            });
                            let mut node = shared.lock();
                            let r = node.handle_request(&request(h, body, peer.as_ref()), now());
                            // A batch queued events: the dispatcher hands them to the caller,
                            // unless nobody reads them.
                            match shared.events_wanted.load(Ordering::Relaxed) {
                                true => {
                                    drop(node);
                                    shared.wake.notify_one();
                                }
                                false => while node.poll_event().is_some() {},
                            }
                            r
                        }
                        Role::Redirect { host, port } => {
                            share::redirect_to_https(&request(h, body, None), host, *port)
                        }
                    };
                    (h.method == "HEAD", response)
                }
            };
            if respond(&mut wire, response.0, &response.1).await.is_err() {
                return;
            }
        }
        if wire.turn().await.is_err() {
            return;
        }
    }
}

/// Sends a response; the body goes out as far as the send buffer allows, flushed in between.
async fn respond(wire: &mut Wire<Server>, head_only: bool, r: &Response) -> io::Result<()> {
    let mut rest = begin_response(&mut wire.machine, head_only, r).map_err(io::Error::other)?;
    while !rest.is_empty() {
        match wire.machine.write_body(rest).map_err(io::Error::other)? {
            0 => wire.flush().await?,
            n => rest = &rest[n..],
        }
    }
    wire.flush().await
}
