//! The crypto backend chosen by the crate features: hashing and randomness.
//!
//! With both features enabled aws-lc-rs is used, so enabling `ring` never changes a default.

#[cfg(feature = "aws-lc-rs")]
use aws_lc_rs as backend;
#[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
use ring as backend;

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
compile_error!(
    "redy-certs needs a crypto backend: enable the `aws-lc-rs` (default) or `ring` feature"
);

use backend::digest;
use backend::rand::{SecureRandom, SystemRandom};

use crate::Error;

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, data).as_ref());
    out
}

pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref());
    out
}

pub(crate) fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| Error::Random)?;
    Ok(out)
}
