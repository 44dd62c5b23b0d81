//! Upload slots: at most [`SLOTS`] bodies with documents are read at once, and a client (an
//! IPv4 address, an IPv6 /64) sends at most a few of them. Bodies that keep to the minimum
//! rate may run until the deadline, so eight addresses with two each would hold every slot
//! for ten minutes; the pool stays fair when it is full instead:
//!
//! - a client with no body being read takes the slot of the slowest body past its grace
//!   (which then reads as too slow), rather than wait behind it;
//! - while the pool is half full, IPv6 clients count by their /48, so that the many /64s of
//!   one network are one client.
//!
//! A client with a body being read waits for a free slot, as everyone did before.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Time an upload gets before its rate counts (TLS, a slow start on a mobile line).
pub(super) const GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Bodies with documents read at once in one instance (each up to 45 MiB in memory).
pub const SLOTS: usize = 16;

/// How a body in a slot is getting on; its reader reports to it and learns from it that its
/// slot was given to another client.
#[derive(Debug)]
pub struct Progress {
    since: Instant,
    received: AtomicU64,
    evicted: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Progress {
    fn new() -> Self {
        Progress {
            since: Instant::now(),
            received: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            waker: Mutex::new(None),
        }
    }

    pub fn received(&self, bytes: u64) {
        self.received.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn is_evicted(&self) -> bool {
        self.evicted.load(Ordering::SeqCst)
    }

    /// Wakes `waker` when the slot is taken away; `true` when it already was.
    pub fn wake_on_eviction(&self, waker: &Waker) -> bool {
        *self.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(waker.clone());
        self.is_evicted()
    }

    fn evict(&self) {
        self.evicted.store(true, Ordering::SeqCst);
        if let Some(waker) = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            waker.wake();
        }
    }

    /// Bytes a second since the slot was taken.
    fn rate(&self, now: Instant) -> f64 {
        let seconds = now.duration_since(self.since).as_secs_f64().max(0.001);
        self.received.load(Ordering::Relaxed) as f64 / seconds
    }

    fn past_grace(&self, now: Instant) -> bool {
        now.duration_since(self.since) >= GRACE
    }
}

/// One body of a client: waiting for a slot, or being read.
struct Body {
    client: String,
    network: String,
    reading: Option<Arc<Progress>>,
}

impl Body {
    fn of(&self, client: &str, network: &str, pressure: bool) -> bool {
        if pressure {
            self.network == network
        } else {
            self.client == client
        }
    }
}

#[derive(Default)]
struct Pool {
    next: u64,
    bodies: HashMap<u64, Body>,
}

impl Pool {
    fn reading(&self) -> usize {
        self.bodies.values().filter(|b| b.reading.is_some()).count()
    }

    fn under_pressure(&self, size: usize) -> bool {
        self.reading() * 2 >= size
    }
}

/// What a waiting body may do now.
enum Turn {
    Read(Arc<Progress>),
    /// Wait for a slot to be freed, or until this time, when a body passes its grace.
    Wait(Option<Instant>),
}

/// The instance's upload slots (Rocket state).
#[derive(Clone)]
pub struct UploadSlots {
    pool: Arc<Mutex<Pool>>,
    freed: Arc<Notify>,
    size: usize,
}

impl Default for UploadSlots {
    fn default() -> Self {
        Self::new(SLOTS)
    }
}

/// A body's slot (or its place in the queue for one); given back when dropped.
pub struct Slot {
    slots: UploadSlots,
    id: u64,
    progress: Option<Arc<Progress>>,
}

impl Slot {
    /// Waits until the body may be read: a slot is free, or the slowest body gives way.
    pub async fn turn(&mut self) {
        while self.progress.is_none() {
            let freed = self.slots.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            match self.slots.turn_of(self.id) {
                Turn::Read(progress) => self.progress = Some(progress),
                Turn::Wait(Some(until)) => {
                    tokio::select! {
                        _ = freed => {}
                        _ = tokio::time::sleep_until(until) => {}
                    }
                }
                Turn::Wait(None) => freed.await,
            }
        }
    }

    /// What the body's reader reports to, once it is its turn.
    pub fn progress(&self) -> Option<Arc<Progress>> {
        self.progress.clone()
    }
}

impl UploadSlots {
    pub fn new(size: usize) -> Self {
        UploadSlots {
            pool: Arc::new(Mutex::new(Pool::default())),
            freed: Arc::new(Notify::new()),
            size: size.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place in the queue for a body from `client` (its address); `None` when the client
    /// already sends `most` bodies.
    pub fn queue(&self, client: &str, most: usize) -> Option<Slot> {
        let network = network(client);
        let key = crate::platform::counters::client_key(client);
        let mut pool = self.lock();
        let pressure = pool.under_pressure(self.size);
        let sending = pool
            .bodies
            .values()
            .filter(|b| b.of(&key, &network, pressure))
            .count();
        if sending >= most {
            return None;
        }
        pool.next += 1;
        let id = pool.next;
        let body = Body {
            client: key,
            network,
            reading: None,
        };
        pool.bodies.insert(id, body);
        Some(Slot {
            slots: self.clone(),
            id,
            progress: None,
        })
    }

    fn turn_of(&self, id: u64) -> Turn {
        let now = Instant::now();
        let mut pool = self.lock();
        if pool.reading() >= self.size {
            let pressure = pool.under_pressure(self.size);
            let Some(me) = pool.bodies.get(&id) else {
                return Turn::Wait(None);
            };
            let reads_already = pool
                .bodies
                .values()
                .any(|b| b.reading.is_some() && b.of(&me.client, &me.network, pressure));
            if reads_already {
                return Turn::Wait(None);
            }
            let readers = pool
                .bodies
                .iter()
                .filter_map(|(id, b)| b.reading.as_ref().map(|p| (*id, p)));
            let (judged, in_grace): (Vec<_>, Vec<_>) =
                readers.partition(|(_, progress)| progress.past_grace(now));
            let slowest = judged
                .into_iter()
                .min_by(|(_, a), (_, b)| a.rate(now).total_cmp(&b.rate(now)))
                .map(|(id, _)| id);
            let Some(slowest) = slowest else {
                let graced = in_grace.iter().map(|(_, p)| p.since + GRACE).min();
                return Turn::Wait(graced);
            };
            if let Some(progress) = pool.bodies.remove(&slowest).and_then(|b| b.reading) {
                progress.evict();
                tracing::info!("gave the slot of the slowest upload to a client without one");
            }
        }
        let progress = Arc::new(Progress::new());
        match pool.bodies.get_mut(&id) {
            Some(body) => {
                body.reading = Some(progress.clone());
                Turn::Read(progress)
            }
            None => Turn::Wait(None),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().bodies.remove(&self.id);
        self.slots.freed.notify_waiters();
    }
}

/// The network an address belongs to under pressure: an IPv6 address by its /48, any other
/// as its client key.
fn network(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        _ => crate::platform::counters::client_key(address),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    impl UploadSlots {
        async fn take(&self, client: &str, most: usize) -> Option<Slot> {
            let mut slot = self.queue(client, most)?;
            slot.turn().await;
            Some(slot)
        }
    }

    #[tokio::test]
    async fn a_client_gets_a_few_turns_and_gets_them_back() {
        let slots = UploadSlots::new(16);
        let first = slots.take("203.0.113.7", 2).await.unwrap();
        let _second = slots.take("203.0.113.7", 2).await.unwrap();
        assert!(slots.take("203.0.113.7", 2).await.is_none());
        assert!(
            slots.take("198.51.100.1", 2).await.is_some(),
            "others are not held up"
        );
        drop(first);
        assert!(slots.take("203.0.113.7", 2).await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_without_a_body_takes_the_slowest_ones_slot_once_its_grace_is_over() {
        let slots = UploadSlots::new(4);
        let mut held = Vec::new();
        for (client, rate) in [("192.0.2.1", 4096), ("192.0.2.1", 100), ("192.0.2.2", 2048)] {
            let slot = slots.take(client, 2).await.unwrap();
            slot.progress().unwrap().received(rate * 20);
            held.push(slot);
        }
        let fast = slots.take("192.0.2.2", 2).await.unwrap();
        fast.progress().unwrap().received(1 << 20);
        let started = Instant::now();
        let newcomer = slots.take("198.51.100.9", 2).await.unwrap();
        assert!(started.elapsed() >= GRACE, "no body is judged in its grace");
        assert!(newcomer.progress().is_some());
        let evicted: Vec<bool> = held
            .iter()
            .map(|s| s.progress().unwrap().is_evicted())
            .collect();
        assert_eq!(evicted, [false, true, false], "the slowest gave way");
        assert!(!fast.progress().unwrap().is_evicted());
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_with_a_body_being_read_waits_for_a_free_slot() {
        let slots = UploadSlots::new(2);
        let first = slots.take("192.0.2.1", 2).await.unwrap();
        let _other = slots.take("192.0.2.2", 2).await.unwrap();
        tokio::time::advance(GRACE * 2).await;
        let waiting = slots.take("192.0.2.1", 2);
        tokio::pin!(waiting);
        let timeout = tokio::time::timeout(Duration::from_secs(60), &mut waiting).await;
        assert!(timeout.is_err(), "it waited");
        assert!(!first.progress().unwrap().is_evicted());
        drop(first);
        assert!(waiting.await.is_some(), "and got the freed slot");
    }

    #[tokio::test(start_paused = true)]
    async fn under_pressure_the_64s_of_one_ipv6_network_are_one_client() {
        let slots = UploadSlots::new(4);
        let _a = slots.take("2001:db8:1:1::1", 2).await.unwrap();
        let _b = slots.take("2001:db8:1:2::1", 2).await.unwrap();
        assert!(
            slots.take("2001:db8:1:3::1", 2).await.is_none(),
            "a third /64 of the /48 while half the slots are taken"
        );
        assert!(slots.take("2001:db8:2:1::1", 2).await.is_some());
    }

    #[test]
    fn networks_are_ipv6_48s_and_whole_ipv4_addresses() {
        assert_eq!(network("2001:db8:1:2:aaaa::1"), "2001:db8:1::/48");
        assert_eq!(network("203.0.113.7"), "203.0.113.7");
        assert_eq!(network("::ffff:203.0.113.7"), "203.0.113.7");
    }
}
