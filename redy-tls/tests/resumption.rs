//! Resumption scopes: sessions resume inside their scope, over many consecutive connections
//! and in both TLS versions, and never across scopes; a server session can require it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use common::*;
use redy_tls::{ClientConfig, Error, ServerConfig, TlsSession, TlsVersion};

const VERSIONS: [TlsVersion; 2] = [TlsVersion::Tls12, TlsVersion::Tls13];

fn configs(v: TlsVersion) -> (ClientConfig, ServerConfig) {
    let client = ClientConfig::builder(trust_ca())
        .versions(v, v)
        .build()
        .unwrap();
    (client, server_config())
}

fn connect(client: &ClientConfig, server: &ServerConfig) -> Link {
    let link = Link::connect(client, "redy.local", server);
    assert_eq!(link.errors(), (None, None));
    link
}

#[test]
fn a_hundred_consecutive_connections_resume_in_one_scope() {
    for v in VERSIONS {
        let (client, server) = configs(v);
        assert!(
            !connect(&client, &server).resumed(),
            "{v}: the first connection is a full handshake"
        );
        for i in 1..=100 {
            let link = connect(&client, &server);
            assert!(link.resumed(), "{v}: connection {i} did not resume");
            assert_eq!(link.client.handshake().unwrap().version, v);
        }
    }
}

#[test]
fn client_scopes_do_not_share_sessions() {
    for v in VERSIONS {
        let (client, server) = configs(v);
        connect(&client, &server);
        let other = client.new_scope();
        assert!(
            !connect(&other, &server).resumed(),
            "{v}: a new client scope starts empty"
        );
        assert!(
            connect(&other, &server).resumed(),
            "{v}: and then resumes its own"
        );
        assert!(
            connect(&client, &server).resumed(),
            "{v}: the first scope still resumes its own"
        );
    }
}

#[test]
fn server_scopes_do_not_share_sessions() {
    for v in VERSIONS {
        let (client, server) = configs(v);
        connect(&client, &server);
        let other_server = server.new_scope();
        assert!(
            !connect(&client, &other_server).resumed(),
            "{v}: another server scope cannot resume it"
        );
    }
}

#[test]
fn a_data_connection_must_resume_the_control_session() {
    for v in VERSIONS {
        let (client, server) = configs(v);
        // Without a control session first, the data connection is refused.
        let data = TlsSession::server(&server).unwrap().require_resumption();
        let mut link = Link::new(TlsSession::client(&client, "redy.local").unwrap(), data);
        link.pump();
        assert_eq!(link.errors().1, Some(Error::ResumptionRequired), "{v}");
        assert!(link.errors().1.unwrap().to_string().contains("must resume"));

        let _control = connect(&client, &server);
        for _ in 0..20 {
            let data = TlsSession::server(&server).unwrap().require_resumption();
            let mut link = Link::new(TlsSession::client(&client, "redy.local").unwrap(), data);
            link.pump();
            assert_eq!(link.errors(), (None, None), "{v}");
            assert!(link.resumed());
        }

        // A client of another scope (another FTP session, say) cannot open data connections here.
        let intruder = client.new_scope();
        let _its_control = connect(&intruder, &server.new_scope());
        let data = TlsSession::server(&server).unwrap().require_resumption();
        let mut link = Link::new(TlsSession::client(&intruder, "redy.local").unwrap(), data);
        link.pump();
        assert_eq!(link.errors().1, Some(Error::ResumptionRequired), "{v}");
    }
}

#[test]
fn sessions_of_a_scope_without_tickets_issue_none() {
    let (client, server) = configs(TlsVersion::Tls13);
    connect(&client, &server); // the client now holds the full handshake's two tickets
    let quiet = server.without_tickets();
    let resumed: Vec<bool> = (0..3).map(|_| connect(&client, &quiet).resumed()).collect();
    // Each resumption uses up a ticket and brings no new one: the third is a full handshake.
    assert_eq!(resumed, [true, true, false]);
    // Sessions of the scope itself issue tickets again (after one more full handshake).
    let resumed: Vec<bool> = (0..3)
        .map(|_| connect(&client, &server).resumed())
        .collect();
    assert_eq!(resumed, [false, true, true]);
}

#[test]
fn a_scope_counts_the_tls13_tickets_it_holds() {
    let (client, server) = configs(TlsVersion::Tls13);
    assert_eq!(client.tls13_tickets("redy.local"), 0);
    connect(&client, &server);
    assert_eq!(
        client.tls13_tickets("redy.local"),
        2,
        "the full handshake's two tickets"
    );
    assert_eq!(
        client.tls13_tickets("other.local"),
        0,
        "counted per server name"
    );
    assert_eq!(
        client.new_scope().tls13_tickets("redy.local"),
        0,
        "and per scope"
    );
    let quiet = server.without_tickets();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let resumed = connect(&client, &quiet).resumed();
        seen.push((resumed, client.tls13_tickets("redy.local")));
    }
    // The count says beforehand whether the next connection can resume.
    assert_eq!(seen, [(true, 1), (true, 0), (false, 0)]);
    // A handshake with a server that issues tickets refills the count.
    connect(&client, &server);
    assert_eq!(client.tls13_tickets("redy.local"), 2);
    // TLS 1.2 sessions are not tickets of this count: they resume again and again.
    let (client12, server12) = configs(TlsVersion::Tls12);
    connect(&client12, &server12);
    assert_eq!(client12.tls13_tickets("redy.local"), 0);
    assert!(connect(&client12, &server12).resumed());
}
