//! eShare v1 batch decoding from arbitrary bytes. Properties: no panic; a batch that decodes
//! re-encodes, and that encoding decodes to the same batch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redy_eshare::share::Batch;

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = Batch::decode(data) {
        let body = batch.encode().expect("a decoded batch encodes");
        assert_eq!(Batch::decode(&body).expect("its encoding decodes"), batch);
    }
});
