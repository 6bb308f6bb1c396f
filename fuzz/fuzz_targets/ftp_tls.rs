//! The FTPS client and server machines on their real TLS paths (control and data connections,
//! the data sessions resuming the control one), wired in memory by the fault-injection harness
//! of `redy-ftps/tests/duo`, with a fault the fuzzer places: a flipped byte, a broken
//! connection or a stalled sender at any byte of either direction. Property: the transfer ends
//! with the bytes intact and success reported, or with an error reported — never success with
//! wrong or missing bytes, never no outcome.
#![no_main]

#[path = "../../redy-ftps/tests/duo/mod.rs"]
#[allow(dead_code)]
mod duo;
#[path = "../../redy-ftps/tests/pki/mod.rs"]
mod pki;
#[path = "../../testkit/seeded.rs"]
#[allow(dead_code)]
mod seeded;

use std::time::Duration;

use arbitrary::Arbitrary;
use duo::{Dir, Fault, FaultKind};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Case {
    upload: bool,
    size: u16,
    to_client: bool,
    at: u16,
    kind: u8,
    mask: u8,
    seed: u64,
}

fuzz_target!(|case: Case| {
    let body: Vec<u8> = (0..usize::from(case.size)).map(|i| (i * 7 + 3) as u8).collect();
    let fault = Fault {
        dir: if case.to_client { Dir::ToClient } else { Dir::ToServer },
        at: u64::from(case.at),
        kind: match case.kind % 3 {
            0 => FaultKind::Flip(case.mask | 1),
            1 => FaultKind::Cut,
            _ => FaultKind::Stall,
        },
    };
    if let Err(broken) = duo::transfer_with_fault(&body, case.upload, fault, case.seed, Duration::from_secs(1_200)) {
        panic!("{broken}");
    }
});
