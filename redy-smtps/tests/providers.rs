//! The manual's provider table: complete, usable, found by name whatever the case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use redy_smtps::providers::{PROVIDERS, provider};

#[test]
fn every_entry_has_a_host_and_a_port() {
    assert_eq!(PROVIDERS.len(), 11);
    for p in PROVIDERS {
        assert!(!p.name.is_empty());
        assert!(
            p.host.contains('.') && !p.host.contains(' '),
            "{}: {}",
            p.name,
            p.host
        );
        assert!(
            p.implicit_tls_port.is_some() || p.starttls_port.is_some(),
            "{} has no port",
            p.name
        );
        assert!(p.implicit_tls_port.is_none_or(|port| port == 465));
        assert!(p.starttls_port.is_none_or(|port| port == 587));
    }
}

#[test]
fn names_are_unique_ignoring_case() {
    for (i, a) in PROVIDERS.iter().enumerate() {
        for b in &PROVIDERS[i + 1..] {
            assert!(!a.name.eq_ignore_ascii_case(b.name), "{}", a.name);
        }
    }
}

#[test]
fn the_manuals_table() {
    let rows = [
        ("Orange", "smtp.orange.fr", Some(465), Some(587)),
        ("SFR", "smtp.sfr.fr", Some(465), None),
        ("Free", "smtp.free.fr", Some(465), Some(587)),
        ("Bbox", "smtp.bbox.fr", Some(465), None),
        ("Laposte", "smtp.laposte.net", Some(465), Some(587)),
        ("Yahoo", "smtp.mail.yahoo.fr", Some(465), None),
        ("Aruba", "smtp.aruba.it", Some(465), None),
        ("GMX", "mail.gmx.com", Some(465), None),
        ("Outlook", "smtp-mail.outlook.com", None, Some(587)),
        ("Gmail", "smtp.gmail.com", Some(465), Some(587)),
        ("Mailo", "mail.mailo.com", Some(465), Some(587)),
    ];
    for (name, host, implicit, starttls) in rows {
        let p = provider(name).expect(name);
        assert_eq!(
            (p.host, p.implicit_tls_port, p.starttls_port),
            (host, implicit, starttls),
            "{name}"
        );
    }
}

#[test]
fn account_requirements_are_noted() {
    assert!(provider("Yahoo").unwrap().notes.contains("account key"));
    assert!(provider("GMX").unwrap().notes.contains("enabled"));
    let gmail = provider("Gmail").unwrap().notes;
    assert!(gmail.contains("two-factor") && gmail.contains("app password"));
    assert!(gmail.contains("XOAUTH2"));
}

#[test]
fn lookups_ignore_case_and_unknown_is_none() {
    for name in ["gmail", "GMAIL", "Gmail", "gMaIl", " gmail "] {
        assert_eq!(provider(name).unwrap().host, "smtp.gmail.com", "{name:?}");
    }
    assert_eq!(provider("sfr").unwrap().name, "SFR");
    assert_eq!(provider("gmx").unwrap().name, "GMX");
    assert!(provider("hotmail").is_none());
    assert!(provider("").is_none());
    assert!(provider("smtp.gmail.com").is_none());
}
