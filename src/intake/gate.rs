//! Bounds the memory that decoding takes: each upload waits until its peak need (read from
//! its headers) fits in the budget, so a burst of large photos queues instead of exhausting
//! memory, and one that alone needs more than the budget is refused.

use std::sync::Arc;

use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use super::{memory_needed, sanitize, CleanImage, IntakeError, IntakeLimits, Subject};

const MIB: u64 = 1024 * 1024;

#[derive(Clone)]
pub struct IntakeGate {
    /// One permit per MiB of the budget.
    budget: Arc<Semaphore>,
    budget_mib: u32,
    limits: Arc<IntakeLimits>,
}

impl IntakeGate {
    pub fn new(memory_budget_bytes: u64, limits: IntakeLimits) -> Self {
        let budget_mib = u32::try_from((memory_budget_bytes / MIB).max(1)).unwrap_or(u32::MAX);
        Self {
            budget: Arc::new(Semaphore::new(budget_mib as usize)),
            budget_mib,
            limits: Arc::new(limits),
        }
    }

    /// Sanitises `bytes`, a photo of `subject`, on a blocking thread once its memory fits in
    /// the budget. The original bytes are zeroed when this returns.
    pub async fn sanitize(
        &self,
        bytes: Zeroizing<Vec<u8>>,
        subject: Subject,
    ) -> Result<CleanImage, IntakeError> {
        let need = memory_needed(&bytes, subject, &self.limits)?;
        let need_mib = u32::try_from(need.div_ceil(MIB)).unwrap_or(u32::MAX);
        if need_mib > self.budget_mib {
            return Err(IntakeError::TooMuchImageData);
        }
        let _permits = self
            .budget
            .acquire_many(need_mib)
            .await
            .map_err(|_| IntakeError::Processing)?;
        let limits = Arc::clone(&self.limits);
        let started = std::time::Instant::now();
        let result = tokio::task::spawn_blocking(move || sanitize(&bytes, subject, &limits))
            .await
            .unwrap_or(Err(IntakeError::Processing));
        crate::platform::meters::intake_took(started.elapsed().as_secs_f64());
        result
    }
}
