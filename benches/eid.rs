//! The cost of verifying one e-ID presentation: decrypting the JWE, checking the issuer's and
//! the holder's signatures, the disclosures and the status list (100 000 entries, 2 bits, from
//! memory, fetched and checked on every verification as nothing is cached). Single thread.
//! Prints the median and the 90th percentile over the runs; the target is ≤ 5 ms.
//!
//! cargo bench --bench eid   (EID_BENCH_RUNS=n to change the number of runs, default 200)

#[path = "../tests/it/eid/mod.rs"]
mod eid;

use std::time::{Duration, Instant};

use eid::desk::Session;
use eid::Tamper;

fn main() {
    let runs: usize = std::env::var("EID_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let session = Session::new();
    let answers: Vec<_> = (0..runs).map(|_| session.answer(Tamper::Honest)).collect();
    let response_size = answers[0].response().map_or(0, str::len);
    runtime
        .block_on(session.verify(&answers[0], true))
        .expect("the honest answer verifies");
    let mut times: Vec<Duration> = answers
        .iter()
        .map(|answer| {
            let start = Instant::now();
            let proven = runtime.block_on(session.verify(answer, true));
            let elapsed = start.elapsed();
            assert!(proven.is_ok(), "{proven:?}");
            elapsed
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    println!(
        "e-ID verification per presentation (single thread, {runs} runs, response {response_size} bytes, \
         status list of {} entries): median {:.2} ms, p90 {:.2} ms, min {:.2} ms (target ≤ 5 ms)",
        eid::wallet::STATUS_ENTRIES,
        at(0.5),
        at(0.9),
        at(0.0)
    );
}
