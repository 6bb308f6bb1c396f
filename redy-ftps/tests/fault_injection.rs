//! Fault injection: the redy FTPS client and server machines in memory, 1,000 seeded
//! iterations of a session with one upload or download, where one byte of one direction is
//! flipped, the connection carrying it breaks there, or its sender stalls. Each iteration must
//! end with the bytes intact and success reported, or with an error reported: success with
//! wrong or missing bytes, or no outcome at all, fails the test and prints the seed.
//!
//! Replay one seed: `REDY_FAULT_SEED=123 cargo test -p redy-ftps --test fault_injection`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod duo;
mod pki;
#[path = "../../testkit/seeded.rs"]
mod seeded;

use std::time::Duration;

use duo::{Dir, Duo, Fault, FaultKind};
use redy_ftps::client::Outcome;
use seeded::{Rng, run_seeds};

/// Virtual time an iteration may take: more than every deadline of both machines.
const PATIENCE: Duration = Duration::from_secs(1_200);

/// What one seeded iteration did, or why it failed the test.
fn iteration(seed: u64) -> Result<&'static str, String> {
    let mut rng = Rng::new(seed);
    let size = match rng.below(4) {
        0 => rng.below(100),
        1 => rng.below(20_000),
        _ => rng.below(400_000),
    } as usize;
    let body: Vec<u8> = (0..size).map(|_| rng.next() as u8).collect();
    let upload = rng.below(2) == 0;
    // Roughly what crosses each way in such a session, so that faults land everywhere.
    let span = 6_000 + size as u64;
    let fault = Fault {
        dir: if rng.below(2) == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        },
        at: rng.below(span),
        kind: match rng.below(3) {
            0 => FaultKind::Flip(1 + rng.below(255) as u8),
            1 => FaultKind::Cut,
            _ => FaultKind::Stall,
        },
    };
    duo::transfer_with_fault(&body, upload, fault, seed, PATIENCE)
}

#[test]
fn a_thousand_faulty_sessions_end_intact_or_in_an_error() {
    let tally = run_seeds(1_000, iteration);
    // The faults must leave room for both endings, or the test proves little.
    assert!(
        tally.get("transferred intact").is_some_and(|n| *n > 50),
        "{tally:?}"
    );
    assert!(
        tally.values().sum::<u64>() > tally["transferred intact"],
        "{tally:?}"
    );
}

#[test]
fn without_a_fault_both_directions_transfer_intact() {
    for (seed, upload) in [(1, true), (2, false)] {
        let mut duo = Duo::new(None, seed);
        let body: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let id = if upload {
            let id = duo.client.store("f.bin", 0, duo.now).unwrap();
            duo.uploads.insert(id, body.clone());
            id
        } else {
            duo.files.insert("/f.bin".into(), body.clone());
            duo.client.retrieve("f.bin", 0, duo.now).unwrap()
        };
        assert!(duo.run_until_done(id, Duration::from_secs(10)));
        assert!(
            matches!(duo.outcomes.get(&id), Some(Ok(Outcome::Transferred { .. }))),
            "{:?} {:?}",
            duo.outcomes.get(&id),
            duo.client_error
        );
        match upload {
            true => assert!(duo.files["/f.bin"] == body),
            false => assert!(duo.downloads[&id] == body),
        }
    }
}
