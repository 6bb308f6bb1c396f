//! Every trust policy accepts what it should and refuses the rest, naming why.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use common::*;
use redy_certs::{SpkiPin, TimeSource, TrustPolicy};
use redy_tls::{CertificateError, ClientAuth, ClientConfig, Error, ServerConfig, TlsVersion};

fn refused(trust: TrustPolicy, name: &str) -> CertificateError {
    refused_with(client_config(trust), name)
}

fn refused_with(client: ClientConfig, name: &str) -> CertificateError {
    let link = Link::connect(&client, name, &server_config());
    match link.errors() {
        (Some(Error::Certificate(why)), Some(Error::AlertReceived(_))) => why,
        other => panic!("expected the client to refuse and alert the server, got {other:?}"),
    }
}

fn accepted(trust: TrustPolicy, name: &str) {
    let link = Link::connect(&client_config(trust), name, &server_config());
    assert_eq!(link.errors(), (None, None));
    assert!(link.client.handshake().is_some());
}

#[test]
fn chosen_ca_accepts_the_device_by_dns_name_and_by_ip() {
    accepted(trust_ca(), "redy.local");
    accepted(trust_ca(), "127.0.0.1");
}

#[test]
fn web_pki_and_other_cas_refuse_a_device_certificate() {
    assert_eq!(
        refused(TrustPolicy::WebPkiRoots, "redy.local"),
        CertificateError::UnknownIssuer
    );
    let other = TrustPolicy::CaCertificates(vec![fixture().other_ca.certificate().clone()]);
    assert_eq!(
        refused(other, "redy.local"),
        CertificateError::UnknownIssuer
    );
}

#[test]
fn wrong_dns_name_or_ip_is_refused() {
    assert_eq!(
        refused(trust_ca(), "other.local"),
        CertificateError::NotValidForName
    );
    assert_eq!(
        refused(trust_ca(), "192.168.1.137"),
        CertificateError::NotValidForName
    );
    assert_eq!(
        refused(trust_ca(), "::1"),
        CertificateError::NotValidForName
    );
}

#[test]
fn validity_is_checked_at_the_supplied_time() {
    let validity = fixture().server.certificate().validity();
    let after = at(validity.not_after as u64 + 1);
    let before = at(validity.not_before as u64 - 1);
    let with_time = |t| {
        ClientConfig::builder(trust_ca())
            .time_source(TimeSource::Fixed(t))
            .build()
            .unwrap()
    };
    assert_eq!(
        refused_with(with_time(after), "redy.local"),
        CertificateError::Expired
    );
    assert_eq!(
        refused_with(with_time(before), "redy.local"),
        CertificateError::NotValidYet
    );
    // A last-known-good time later than the certificate's end also refuses it.
    let lkg = redy_certs::LastKnownGood::new(after);
    let client = ClientConfig::builder(trust_ca())
        .time_source(TimeSource::LastKnownGood(lkg))
        .build()
        .unwrap();
    assert_eq!(
        refused_with(client, "redy.local"),
        CertificateError::Expired
    );
}

#[test]
fn chosen_server_certificate_is_compared_exactly_and_is_no_anchor() {
    let chosen = TrustPolicy::ServerCertificate(fixture().server.certificate().clone());
    accepted(chosen.clone(), "redy.local");
    // The name is not what is trusted, the certificate is.
    accepted(chosen, "any.name");
    // Another certificate from the same CA is refused: the chosen one is not an anchor.
    let sibling = TrustPolicy::ServerCertificate(fixture().sibling.certificate().clone());
    assert_eq!(
        refused(sibling, "redy.local"),
        CertificateError::NotTheChosenCertificate
    );
    // Choosing the CA certificate itself does not make it an anchor either.
    let ca_cert = TrustPolicy::ServerCertificate(fixture().ca.certificate().clone());
    assert_eq!(
        refused(ca_cert, "redy.local"),
        CertificateError::NotTheChosenCertificate
    );
    let expired = ClientConfig::builder(TrustPolicy::ServerCertificate(
        fixture().server.certificate().clone(),
    ))
    .time_source(TimeSource::Fixed(at(
        fixture().server.certificate().validity().not_after as u64 + 1,
    )))
    .build()
    .unwrap();
    assert_eq!(
        refused_with(expired, "redy.local"),
        CertificateError::Expired
    );
}

#[test]
fn spki_pins_accept_the_pinned_key_only() {
    let pin = fixture().server.certificate().spki_pin();
    accepted(
        TrustPolicy::SpkiPins(vec![SpkiPin::from_sha256([7; 32]), pin]),
        "redy.local",
    );
    let wrong = TrustPolicy::SpkiPins(vec![fixture().sibling.certificate().spki_pin()]);
    assert_eq!(refused(wrong, "redy.local"), CertificateError::PinMismatch);
    let err = ClientConfig::builder(TrustPolicy::SpkiPins(vec![]))
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("at least one pin")),
        "{err}"
    );
}

#[test]
fn trusting_any_server_skips_chain_name_and_time() {
    accepted(TrustPolicy::DangerousTrustAnyServer, "wrong.name");
    let far_future = ClientConfig::builder(TrustPolicy::DangerousTrustAnyServer)
        .time_source(TimeSource::Fixed(at(4_000_000_000)))
        .build()
        .unwrap();
    let link = Link::connect(&far_future, "192.0.2.1", &server_config());
    assert_eq!(link.errors(), (None, None));
}

#[test]
fn versions_are_chosen_and_mismatches_named() {
    for v in [TlsVersion::Tls12, TlsVersion::Tls13] {
        let client = ClientConfig::builder(trust_ca())
            .versions(v, v)
            .build()
            .unwrap();
        let link = Link::connect(&client, "redy.local", &server_config());
        assert_eq!(link.client.handshake().unwrap().version, v);
        assert_eq!(link.server.handshake().unwrap().version, v);
    }
    let client13 = ClientConfig::builder(trust_ca())
        .versions(TlsVersion::Tls13, TlsVersion::Tls13)
        .build()
        .unwrap();
    let server12 = ServerConfig::builder(fixture().server.clone())
        .versions(TlsVersion::Tls12, TlsVersion::Tls12)
        .build()
        .unwrap();
    let link = Link::connect(&client13, "redy.local", &server12);
    assert!(
        matches!(link.errors().1, Some(Error::PeerIncompatible(_))),
        "{:?}",
        link.errors()
    );
    let err = ClientConfig::builder(trust_ca())
        .versions(TlsVersion::Tls13, TlsVersion::Tls12)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("above maximum")),
        "{err}"
    );
}

#[test]
fn cipher_suites_are_chosen_and_unknown_names_refused() {
    let default = Link::connect(&client_config(trust_ca()), "redy.local", &server_config());
    let default_suite = default.client.handshake().unwrap().cipher_suite.clone();
    for (client_suites, server_suites) in [
        (vec!["TLS13_AES_128_GCM_SHA256"], vec![]),
        (vec![], vec!["TLS13_CHACHA20_POLY1305_SHA256"]),
        (
            vec!["TLS13_AES_128_GCM_SHA256", "TLS13_CHACHA20_POLY1305_SHA256"],
            vec![],
        ),
    ] {
        let client = ClientConfig::builder(trust_ca())
            .cipher_suites(client_suites.clone())
            .build()
            .unwrap();
        let server = ServerConfig::builder(fixture().server.clone())
            .cipher_suites(server_suites.clone())
            .build()
            .unwrap();
        let link = Link::connect(&client, "redy.local", &server);
        let want = client_suites.first().or(server_suites.first()).unwrap();
        assert_ne!(want, &default_suite, "the choice changes something");
        assert_eq!(&link.client.handshake().unwrap().cipher_suite, want);
        assert_eq!(&link.server.handshake().unwrap().cipher_suite, want);
    }
    let err = ClientConfig::builder(trust_ca())
        .cipher_suites(["TLS13_AES_128_GCM_SHA256", "TLS_RSA_WITH_RC4_128_MD5"])
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("unknown cipher suite TLS_RSA_WITH_RC4_128_MD5")
            && m.contains("TLS13_AES_128_GCM_SHA256")),
        "{err}"
    );
}

#[test]
fn alpn_is_negotiated() {
    let client = ClientConfig::builder(trust_ca())
        .alpn(["h2", "http/1.1"])
        .build()
        .unwrap();
    let server = ServerConfig::builder(fixture().server.clone())
        .alpn(["http/1.1"])
        .build()
        .unwrap();
    let link = Link::connect(&client, "redy.local", &server);
    assert_eq!(
        link.client.handshake().unwrap().alpn.as_deref(),
        Some(&b"http/1.1"[..])
    );
    let server_ftp = ServerConfig::builder(fixture().server.clone())
        .alpn(["ftp"])
        .build()
        .unwrap();
    let link = Link::connect(&client, "redy.local", &server_ftp);
    assert!(
        matches!(link.errors().1, Some(Error::PeerIncompatible(ref m)) if m.contains("ALPN")),
        "{:?}",
        link.errors()
    );
}

#[test]
fn mutual_tls_accepts_only_clients_of_the_domain() {
    let server = ServerConfig::builder(fixture().server.clone())
        .client_auth(ClientAuth::Required(trust_ca()))
        .build()
        .unwrap();
    let member = ClientConfig::builder(trust_ca())
        .identity(fixture().sibling.clone())
        .build()
        .unwrap();
    let link = Link::connect(&member, "redy.local", &server);
    assert_eq!(link.errors(), (None, None));
    let seen = link.server.peer_certificates();
    assert_eq!(seen.first(), Some(fixture().sibling.certificate()));

    let stranger = ClientConfig::builder(trust_ca())
        .identity(fixture().stranger.clone())
        .build()
        .unwrap();
    let link = Link::connect(&stranger, "redy.local", &server);
    assert_eq!(
        link.errors().1,
        Some(Error::Certificate(CertificateError::UnknownIssuer))
    );
    assert!(
        matches!(link.errors().0, Some(Error::AlertReceived(_))),
        "{:?}",
        link.errors()
    );

    let anonymous = client_config(trust_ca());
    let link = Link::connect(&anonymous, "redy.local", &server);
    assert_eq!(
        link.errors().1,
        Some(Error::Certificate(CertificateError::NoCertificate))
    );

    let pinned = ServerConfig::builder(fixture().server.clone())
        .client_auth(ClientAuth::Required(TrustPolicy::SpkiPins(vec![
            fixture().sibling.certificate().spki_pin(),
        ])))
        .build()
        .unwrap();
    assert_eq!(
        Link::connect(&member, "redy.local", &pinned).errors(),
        (None, None)
    );
    let link = Link::connect(&stranger, "redy.local", &pinned);
    assert_eq!(
        link.errors().1,
        Some(Error::Certificate(CertificateError::PinMismatch))
    );

    let err = ServerConfig::builder(fixture().server.clone())
        .client_auth(ClientAuth::Required(TrustPolicy::DangerousTrustAnyServer))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
}
