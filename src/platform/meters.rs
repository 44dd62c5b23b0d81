//! Metric names and the counts recorded where things happen. It imports nothing of the
//! service's own, so that every room can count without reaching up to the metrics server
//! (`web::metrics`), which serves them.

pub const DECISIONS: &str = "transfer_desk_decisions_total";
pub const FAILED_SIGN_INS: &str = "transfer_desk_failed_sign_ins_total";
pub const INTAKE_SECONDS: &str = "transfer_desk_intake_seconds";
pub const SUBMISSIONS: &str = "transfer_desk_submissions_total";

/// Counts a decision by its outcome (`approved`, `rejected`, `expired`).
pub fn decision(outcome: String) {
    metrics::counter!(DECISIONS, "outcome" => outcome).increment(1);
}

pub fn submission() {
    metrics::counter!(SUBMISSIONS).increment(1);
}

pub fn failed_sign_in() {
    metrics::counter!(FAILED_SIGN_INS).increment(1);
}

pub fn intake_took(seconds: f64) {
    metrics::histogram!(INTAKE_SECONDS).record(seconds);
}
