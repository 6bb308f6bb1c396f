//! The certificate store: imports, exports, limits and named errors on bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use redy_certs::{
    CertStore, Certificate, DeviceCa, Error, Identity, MAX_ENTRIES, MAX_IMPORT_BYTES, SubjectName,
    parse_pem,
};

/// Two device CAs and one server identity from each, made once.
fn pool() -> &'static [(DeviceCa, Identity)] {
    static POOL: OnceLock<Vec<(DeviceCa, Identity)>> = OnceLock::new();
    POOL.get_or_init(|| {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        ["11111-11111", "22222-22222"]
            .iter()
            .map(|wid| {
                let ca = DeviceCa::generate(&wid.parse().unwrap(), now).unwrap();
                let names: Vec<SubjectName> = vec!["redy.local".parse().unwrap()];
                let id = ca.issue_server_certificate(&names, now).unwrap();
                (ca, id)
            })
            .collect()
    })
}

fn certs() -> Vec<Certificate> {
    pool()
        .iter()
        .flat_map(|(ca, id)| [ca.certificate().clone(), id.certificate().clone()])
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Export then import gives the same DER, in PEM (with any line endings) and in DER.
    #[test]
    fn export_then_import_gives_the_same_der(
        picks in proptest::collection::vec(0usize..4, 1..5),
        crlf in any::<bool>(),
        name in "[a-zA-Z0-9 ._-]{1,64}",
    ) {
        let all = certs();
        let chain: Vec<Certificate> = picks.iter().map(|&i| all[i].clone()).collect();
        let mut store = CertStore::new();
        store.insert(&name, redy_certs::Entry::new(chain.clone(), None).unwrap()).unwrap();

        let mut pem = store.export_pem(&name).unwrap();
        if crlf {
            pem = pem.replace('\n', "\r\n");
        }
        let mut again = CertStore::new();
        prop_assert_eq!(again.import_pem("again", pem.as_bytes()).unwrap().certificates(), &chain[..]);

        let der = store.export_der(&name).unwrap();
        prop_assert_eq!(again.import_der("der", &der).unwrap().certificate(), &chain[0]);
    }
}

#[test]
fn identity_round_trips_with_its_key() {
    let (_, id) = &pool()[0];
    let mut store = CertStore::new();
    store.import_pem("server", id.to_pem().as_bytes()).unwrap();
    let pem = store.export_pem_with_key("server").unwrap();
    assert_eq!(
        Identity::from_pem(pem.as_bytes()).unwrap().chain(),
        id.chain()
    );
    assert!(!store.export_pem("server").unwrap().contains("PRIVATE KEY"));
    assert_eq!(
        store
            .get("server")
            .unwrap()
            .identity()
            .unwrap()
            .certificate(),
        id.certificate()
    );
}

#[test]
fn garbage_truncated_and_mismatched_inputs_name_the_cause() {
    let mut store = CertStore::new();
    assert_eq!(
        store.import_pem("a", b"hello world").unwrap_err(),
        Error::NoPem
    );
    let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        store.import_pem("a", broken.as_bytes()).unwrap_err(),
        Error::Pem(_)
    ));
    let unterminated = "-----BEGIN CERTIFICATE-----\nAAAA\n";
    assert!(matches!(
        store.import_pem("a", unterminated.as_bytes()).unwrap_err(),
        Error::Pem(_)
    ));

    let der = pool()[0].0.certificate().der().to_vec();
    let truncated = store.import_der("a", &der[..der.len() - 10]).unwrap_err();
    assert!(
        matches!(truncated, Error::Certificate(ref m) if m.contains("does not parse")),
        "{truncated}"
    );
    let mut trailing = der.clone();
    trailing.push(0);
    let err = store.import_der("a", &trailing).unwrap_err();
    assert!(
        matches!(err, Error::Certificate(ref m) if m.contains("1 bytes after")),
        "{err}"
    );

    // A key that is not the certificate's.
    let (ca_a, _) = &pool()[0];
    let (_, id_b) = &pool()[1];
    let mixed = ca_a.certificate().to_pem() + &id_b.key().to_pem();
    let err = store.import_pem("mixed", mixed.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        Error::KeyMismatch {
            subject: "CN=REDY-11111-11111-CA, O=REDY".into()
        }
    );
    assert!(err.to_string().contains("does not match"), "{err}");

    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert_eq!(
        store.import_pem("e", encrypted.as_bytes()).unwrap_err(),
        Error::EncryptedPemKey
    );
    assert_eq!(
        store.list().count(),
        0,
        "failed imports leave nothing behind"
    );
}

#[test]
fn limits_are_enforced() {
    let mut store = CertStore::new();
    let big = vec![b'A'; MAX_IMPORT_BYTES + 1];
    assert_eq!(
        store.import_pem("big", &big).unwrap_err(),
        Error::TooLarge {
            size: MAX_IMPORT_BYTES + 1,
            limit: MAX_IMPORT_BYTES
        }
    );
    let pem = pool()[0].0.certificate().to_pem();
    for bad in ["", "a\nb", &"x".repeat(65)] {
        assert_eq!(
            store.import_pem(bad, pem.as_bytes()).unwrap_err(),
            Error::InvalidEntryName(bad.into())
        );
    }
    for i in 0..MAX_ENTRIES {
        store
            .import_pem(&format!("ca {i}"), pem.as_bytes())
            .unwrap();
    }
    assert_eq!(
        store.import_pem("one more", pem.as_bytes()).unwrap_err(),
        Error::StoreFull { limit: MAX_ENTRIES }
    );
    assert_eq!(
        store.import_pem("ca 0", pem.as_bytes()).unwrap_err(),
        Error::DuplicateEntry("ca 0".into())
    );
    store.remove("ca 0").unwrap();
    assert_eq!(
        store.get("ca 0").unwrap_err(),
        Error::NoSuchEntry("ca 0".into())
    );
    let names: Vec<&str> = store.list().map(|(n, _)| n).take(2).collect();
    assert_eq!(names, ["ca 1", "ca 10"]);
}

#[test]
fn details_show_fingerprints_and_pin() {
    let (ca, _) = &pool()[0];
    let text = ca.certificate().details().to_string();
    for field in [
        "Serial Number:",
        "Issuer: CN=REDY-11111-11111-CA",
        "Not After :",
        "Public Key: EC (256 bit, prime256v1)",
        "Basic Constraints: CA:TRUE, pathlen:0",
        "SHA256 Fingerprint:",
        "SHA1 Fingerprint:",
        "SPKI Pin: sha256//",
    ] {
        assert!(text.contains(field), "missing {field:?} in\n{text}");
    }
    let pem_items = parse_pem(ca.certificate().to_pem().as_bytes()).unwrap();
    assert_eq!(
        pem_items.certificates[0].spki_pin(),
        ca.certificate().spki_pin()
    );
}
