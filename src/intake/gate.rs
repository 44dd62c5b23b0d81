//! Caps how many uploads are decoded at once: each decode of a large photo needs tens of MB.

use std::sync::Arc;

use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use super::{sanitize, CleanImage, IntakeError, IntakeLimits};

#[derive(Clone)]
pub struct IntakeGate {
    permits: Arc<Semaphore>,
    limits: Arc<IntakeLimits>,
}

impl IntakeGate {
    pub fn new(concurrent_decodes: usize, limits: IntakeLimits) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrent_decodes.max(1))),
            limits: Arc::new(limits),
        }
    }

    /// Sanitises `bytes` on a blocking thread once a decode slot is free.
    /// The original bytes are zeroed when this returns.
    pub async fn sanitize(&self, bytes: Zeroizing<Vec<u8>>) -> Result<CleanImage, IntakeError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| IntakeError::Processing)?;
        let limits = Arc::clone(&self.limits);
        tokio::task::spawn_blocking(move || sanitize(&bytes, &limits))
            .await
            .unwrap_or(Err(IntakeError::Processing))
    }
}
