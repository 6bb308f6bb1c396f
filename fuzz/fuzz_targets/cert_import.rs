//! Certificate import: PEM, DER and PKCS#12 (password "password") from any bytes. Whatever
//! imports exports and imports again to the same DER.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_certs::{CertStore, Identity};

fuzz_target!(|data: &[u8]| {
    let mut store = CertStore::new();
    if let Ok(entry) = store.import_pem("pem", data) {
        let ders: Vec<Vec<u8>> = entry.certificates().iter().map(|c| c.der().to_vec()).collect();
        let pem = store.export_pem("pem").expect("export");
        let mut again = CertStore::new();
        let back: Vec<Vec<u8>> =
            again.import_pem("again", pem.as_bytes()).expect("reimport").certificates().iter().map(|c| c.der().to_vec()).collect();
        assert_eq!(back, ders);
    }
    if store.import_der("der", data).is_ok() {
        assert_eq!(store.export_der("der").expect("export"), data);
    }
    let _ = store.import_pkcs12("p12", data, "password");
    let _ = Identity::from_pem(data);
});
