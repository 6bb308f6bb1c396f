//! The device identity has the fields the manual and the issue ask for.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::time::{Duration, SystemTime};

use redy_certs::{
    CA_VALIDITY_DAYS, DeviceCa, Error, Identity, SERVER_VALIDITY_DAYS, SubjectName, Wid, parse_pem,
};

const DAY: i64 = 86_400;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

fn names() -> Vec<SubjectName> {
    vec![
        "192.168.1.137".parse().unwrap(),
        "redy.local".parse().unwrap(),
    ]
}

#[test]
fn ca_is_a_p256_ca_with_path_length_zero_for_ten_years() {
    let now = 1_790_000_000;
    let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), at(now)).unwrap();
    let d = ca.certificate().details();
    assert_eq!(d.subject, "CN=REDY-12345-67890-CA, O=REDY");
    assert_eq!(d.issuer, d.subject);
    assert_eq!(d.basic_constraints, Some((true, Some(0))));
    assert_eq!((d.key.algorithm.as_str(), d.key.bits), ("EC", 256));
    assert_eq!(d.key.curve.as_deref(), Some("prime256v1"));
    assert!(
        d.key_usage.iter().any(|u| u == "Key Cert Sign"),
        "{:?}",
        d.key_usage
    );
    assert!(d.validity.contains(now as i64));
    assert_eq!(
        d.validity.not_after - d.validity.not_before,
        CA_VALIDITY_DAYS * DAY
    );
    assert_eq!(ca.file_name(), "REDY-12345-67890-CA.crt");
}

#[test]
fn server_certificate_is_issued_by_the_ca_with_both_names() {
    let now = 1_790_000_000;
    let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), at(now)).unwrap();
    let id = ca.issue_server_certificate(&names(), at(now)).unwrap();
    let d = id.certificate().details();
    assert_eq!(d.issuer, ca.certificate().details().subject);
    assert_eq!(d.subject, "CN=192.168.1.137, O=REDY");
    assert_eq!(d.basic_constraints, Some((false, None)));
    assert_eq!(
        d.subject_alt_names,
        ["IP Address:192.168.1.137", "DNS:redy.local"]
    );
    assert_eq!(d.key_usage, ["Digital Signature"]);
    assert_eq!(
        d.extended_key_usage,
        [
            "TLS Web Server Authentication",
            "TLS Web Client Authentication"
        ]
    );
    assert!(d.validity.contains(now as i64));
    assert!(d.validity.not_after - d.validity.not_before <= SERVER_VALIDITY_DAYS * DAY);
    assert_eq!(id.chain().len(), 2);
    assert_eq!(&id.chain()[1], ca.certificate());
}

#[test]
fn serials_are_random_128_bit_and_positive() {
    let now = at(1_790_000_000);
    let ca = DeviceCa::generate(&"1-2".parse().unwrap(), now).unwrap();
    let a = ca.issue_server_certificate(&names(), now).unwrap();
    let b = ca.issue_server_certificate(&names(), now).unwrap();
    let serial = |id: &Identity| id.certificate().details().serial.clone();
    assert_ne!(serial(&a), serial(&b));
    for s in [serial(&a), ca.certificate().details().serial.clone()] {
        assert_eq!(s.split(':').count(), 16, "{s}");
        assert!(
            u8::from_str_radix(&s[..2], 16).unwrap() < 0x80,
            "{s} must be positive"
        );
    }
}

#[test]
fn server_pem_round_trips_and_reissuing_keeps_the_ca() {
    let now = at(1_790_000_000);
    let ca = DeviceCa::generate(&"12345-67890".parse().unwrap(), now).unwrap();
    let first = ca.issue_server_certificate(&names(), now).unwrap();
    let pem = first.to_pem();
    let items = parse_pem(pem.as_bytes()).unwrap();
    assert_eq!(items.certificates.len(), 2);
    assert_eq!(items.keys.len(), 1);
    assert!(pem.contains("-----BEGIN PRIVATE KEY-----"));

    // The CA is reloaded from its files, then issues again: same CA, new leaf.
    let reloaded = DeviceCa::from_parts(
        redy_certs::Certificate::from_pem(ca.certificate().to_pem().as_bytes()).unwrap(),
        parse_pem(ca.key().to_pem().as_bytes())
            .unwrap()
            .keys
            .remove(0),
    )
    .unwrap();
    assert_eq!(reloaded.wid().to_string(), "12345-67890");
    let second = reloaded.issue_server_certificate(&names(), now).unwrap();
    assert_eq!(second.chain()[1], first.chain()[1]);
    assert_ne!(second.certificate(), first.certificate());
    assert_eq!(
        Identity::from_pem(second.to_pem().as_bytes())
            .unwrap()
            .certificate(),
        second.certificate()
    );
}

#[test]
fn a_device_booting_at_1970_still_gets_certificates() {
    let ca = DeviceCa::generate(&"1-2".parse().unwrap(), SystemTime::UNIX_EPOCH).unwrap();
    let id = ca
        .issue_server_certificate(&names(), SystemTime::UNIX_EPOCH)
        .unwrap();
    assert_eq!(id.certificate().validity().not_before, 0);
    assert!(id.certificate().validity().not_after <= ca.certificate().validity().not_after);
}

#[test]
fn server_validity_never_outlives_the_ca() {
    let ca_time = 1_790_000_000;
    let ca = DeviceCa::generate(&"1-2".parse().unwrap(), at(ca_time)).unwrap();
    let late = ca_time + (CA_VALIDITY_DAYS as u64 - 100) * DAY as u64;
    let id = ca.issue_server_certificate(&names(), at(late)).unwrap();
    assert_eq!(
        id.certificate().validity().not_after,
        ca.certificate().validity().not_after
    );
}

#[test]
fn bad_wids_names_and_parts_are_named_errors() {
    for bad in ["", "12345_67890", "a--b", "-1", "../x", &"1".repeat(33)] {
        assert_eq!(bad.parse::<Wid>(), Err(Error::InvalidWid(bad.to_owned())));
    }
    for bad in ["", "bad name", "a..b", "x\ny"] {
        assert_eq!(
            bad.parse::<SubjectName>(),
            Err(Error::InvalidName(bad.to_owned()))
        );
    }
    assert_eq!("::1".parse::<SubjectName>().unwrap().to_string(), "::1");
    let now = at(1_790_000_000);
    let ca = DeviceCa::generate(&"1-2".parse().unwrap(), now).unwrap();
    assert_eq!(
        ca.issue_server_certificate(&[], now).unwrap_err(),
        Error::NoNames
    );
    let leaf = ca.issue_server_certificate(&names(), now).unwrap();
    let not_ca = DeviceCa::from_parts(leaf.certificate().clone(), leaf.key().clone()).unwrap_err();
    assert!(matches!(not_ca, Error::NotCa(_)), "{not_ca}");
    let mismatch = DeviceCa::from_parts(ca.certificate().clone(), leaf.key().clone()).unwrap_err();
    assert!(matches!(mismatch, Error::KeyMismatch { .. }), "{mismatch}");
}
