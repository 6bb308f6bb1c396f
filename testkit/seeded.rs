//! Seeded test iterations shared by the fault-injection tests of several crates (included with
//! `#[path]`): a small deterministic generator and a runner that replays one seed on demand.

use std::collections::BTreeMap;

/// xorshift64*: deterministic, so that a failing seed replays.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Runs `iteration` for seeds 0..count (or only the seed in `REDY_FAULT_SEED`); panics with
/// every failing seed and why. Returns how many iterations ended each way.
pub fn run_seeds(
    count: u64,
    iteration: impl Fn(u64) -> Result<&'static str, String>,
) -> BTreeMap<&'static str, u64> {
    let seeds: Vec<u64> = match std::env::var("REDY_FAULT_SEED") {
        Ok(seed) => vec![seed.parse().expect("REDY_FAULT_SEED: a number")],
        Err(_) => (0..count).collect(),
    };
    let mut tally = BTreeMap::new();
    let mut failures = Vec::new();
    for seed in seeds {
        match iteration(seed) {
            Ok(what) => *tally.entry(what).or_insert(0) += 1,
            Err(why) => failures.push(format!("seed {seed}: {why}")),
        }
    }
    eprintln!("{tally:?}");
    assert!(
        failures.is_empty(),
        "{} failing seeds (replay one with REDY_FAULT_SEED=N):\n{}",
        failures.len(),
        failures.join("\n")
    );
    tally
}
