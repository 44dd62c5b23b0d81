//! Uploads that cannot hold the service hostage: a body that arrives slower than a minimum
//! rate (after a short grace) or takes longer than a total deadline is cut off, and so is one
//! whose slot was given to another client (`slots`). Without this, 16 connections trickling
//! a byte every few seconds held every upload slot and no one else could submit.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::slots::{Progress, GRACE};
pub use crate::platform::config::limits::UploadPace as Pace;

/// The error a cut-off body reads as; `is_too_slow` recognises it after multer wrapped it.
const TOO_SLOW: &str = "the upload was too slow or took too long";

pub fn is_too_slow(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.to_string().contains(TOO_SLOW) {
            return true;
        }
        current = error.source();
    }
    false
}

/// A body reader that fails once the body falls behind [`Pace`].
pub struct PacedReader<R> {
    inner: R,
    pace: Pace,
    started: Instant,
    received: u64,
    /// When the next byte is due at the latest.
    due: Pin<Box<Sleep>>,
    /// The slot's, when the body holds one.
    progress: Option<Arc<Progress>>,
}

impl<R> PacedReader<R> {
    pub fn new(inner: R, pace: Pace, progress: Option<Arc<Progress>>) -> Self {
        let started = Instant::now();
        let mut reader = PacedReader {
            inner,
            pace,
            started,
            received: 0,
            due: Box::pin(tokio::time::sleep_until(started)),
            progress,
        };
        reader.set_due();
        reader
    }

    fn evicted(&self) -> bool {
        self.progress.as_ref().is_some_and(|p| p.is_evicted())
    }

    /// Whether the slot was given away; if not yet, `cx` is woken when it is.
    fn evicted_or_wake(&self, cx: &Context<'_>) -> bool {
        self.progress
            .as_ref()
            .is_some_and(|p| p.wake_on_eviction(cx.waker()))
    }

    /// The latest time the next byte may arrive: the grace, plus the time the minimum rate
    /// allows for what came so far, never past the deadline.
    fn next_due(&self) -> Instant {
        let rate = self.pace.min_bytes_per_second.max(1);
        let allowed = GRACE + Duration::from_secs_f64((self.received + 1) as f64 / rate as f64);
        self.started + allowed.min(self.pace.deadline)
    }

    fn set_due(&mut self) {
        let due = self.next_due();
        self.due.as_mut().reset(due);
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for PacedReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.evicted() {
            return Poll::Ready(Err(too_slow()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let read = (buf.filled().len() - before) as u64;
                self.received += read;
                if let Some(progress) = &self.progress {
                    progress.received(read);
                }
                if self.started.elapsed() > self.pace.deadline {
                    return Poll::Ready(Err(too_slow()));
                }
                self.set_due();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending if self.evicted_or_wake(cx) => Poll::Ready(Err(too_slow())),
            Poll::Pending => match self.due.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(too_slow())),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

fn too_slow() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, TOO_SLOW)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test(start_paused = true)]
    async fn a_trickling_body_is_cut_off_after_the_grace() {
        let (mut writer, reader) = tokio::io::duplex(64);
        let pace = Pace {
            min_bytes_per_second: 1024,
            deadline: Duration::from_secs(600),
        };
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for _ in 0..100 {
                if writer.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        let mut paced = PacedReader::new(reader, pace, None);
        let mut body = Vec::new();
        let error = paced.read_to_end(&mut body).await.unwrap_err();
        assert!(is_too_slow(&error));
        assert!(body.len() < 10, "cut off within the grace: {}", body.len());
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_whose_slot_was_given_to_another_client_is_cut_off() {
        let slots = super::super::slots::UploadSlots::new(1);
        let mut held = slots.queue("192.0.2.1", 2).unwrap();
        held.turn().await;
        let (mut writer, reader) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while writer.write_all(&[7u8; 4096]).await.is_ok() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let mut paced = PacedReader::new(reader, Pace::default(), held.progress());
        let reading = tokio::spawn(async move { paced.read_to_end(&mut Vec::new()).await });
        let mut newcomer = slots.queue("198.51.100.9", 2).unwrap();
        newcomer.turn().await;
        let error = reading.await.unwrap().unwrap_err();
        assert!(is_too_slow(&error));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_at_a_fair_rate_is_read_whole() {
        let (mut writer, reader) = tokio::io::duplex(64 * 1024);
        let pace = Pace {
            min_bytes_per_second: 1024,
            deadline: Duration::from_secs(600),
        };
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for _ in 0..20 {
                writer.write_all(&[7u8; 4096]).await.unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let mut body = Vec::new();
        PacedReader::new(reader, pace, None)
            .read_to_end(&mut body)
            .await
            .unwrap();
        assert_eq!(body.len(), 20 * 4096);
    }
}
