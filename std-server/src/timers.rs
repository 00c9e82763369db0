//! Per-worker deadline queues.
//!
//! Every timer of one kind has the same duration, so arming in time order keeps the queue sorted:
//! a FIFO `VecDeque` is a priority queue here, arming and expiring are O(1), and nothing scans the
//! connections. Disarming is lazy: a connection remembers the deadline it currently wants, and an
//! entry that no longer matches is dropped when it reaches the front. Stale entries are compacted
//! away when they outnumber the live connections, so a busy keep-alive connection (one entry per
//! request) cannot grow the queue without bound.

use std::collections::VecDeque;

/// One armed timer: which connection (slot and unique id) and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub deadline_ms: u64,
    pub token: usize,
    pub conn_id: u64,
}

/// A FIFO of deadlines of one fixed duration.
#[derive(Debug)]
pub struct DeadlineQueue {
    duration_ms: u64,
    entries: VecDeque<Expiry>,
}

impl DeadlineQueue {
    pub fn new(duration_ms: u64) -> Self {
        Self {
            duration_ms,
            entries: VecDeque::new(),
        }
    }

    /// Arms a timer `duration` from `now_ms`; returns the deadline the connection must remember.
    pub fn arm(&mut self, now_ms: u64, token: usize, conn_id: u64) -> u64 {
        let deadline_ms = now_ms.saturating_add(self.duration_ms);
        self.entries.push_back(Expiry {
            deadline_ms,
            token,
            conn_id,
        });
        deadline_ms
    }

    /// The earliest pending deadline (possibly stale).
    /// Arms an entry for a deadline computed elsewhere: `now + duration` of this queue's kind, so
    /// entries stay in deadline order.
    pub fn arm_at(&mut self, deadline_ms: u64, token: usize, conn_id: u64) {
        self.entries.push_back(Expiry {
            deadline_ms,
            token,
            conn_id,
        });
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.entries.front().map(|e| e.deadline_ms)
    }

    /// Removes and returns the front entry if it is due.
    pub fn pop_due(&mut self, now_ms: u64) -> Option<Expiry> {
        if self.entries.front()?.deadline_ms <= now_ms {
            self.entries.pop_front()
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops entries `live` says are stale, keeping order; call when `len()` is well above the
    /// number of connections.
    pub fn compact(&mut self, mut live: impl FnMut(&Expiry) -> bool) {
        self.entries.retain(|e| live(e));
    }
}

/// The kinds of per-connection timers; each has one fixed duration, hence one FIFO queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// header_timeout, as the core's connection arms it.
    Header = 0,
    /// keepalive_timeout, as the core's connection arms it.
    Idle = 1,
    /// No write progress while a response is pending (the transport's own).
    Send = 2,
    /// The lingering close after an error (the transport's own).
    Linger = 3,
}

pub const TIMER_KINDS: [TimerKind; 4] = [
    TimerKind::Header,
    TimerKind::Idle,
    TimerKind::Send,
    TimerKind::Linger,
];

pub struct Timers {
    header: DeadlineQueue,
    idle: DeadlineQueue,
    send: DeadlineQueue,
    linger: DeadlineQueue,
}

impl Timers {
    /// One queue per kind, each with its kind's fixed duration.
    pub fn new(header_ms: u64, idle_ms: u64, send_ms: u64, linger_ms: u64) -> Self {
        Self {
            header: DeadlineQueue::new(header_ms),
            idle: DeadlineQueue::new(idle_ms),
            send: DeadlineQueue::new(send_ms),
            linger: DeadlineQueue::new(linger_ms),
        }
    }

    pub fn queue(&mut self, kind: TimerKind) -> &mut DeadlineQueue {
        match kind {
            TimerKind::Header => &mut self.header,
            TimerKind::Idle => &mut self.idle,
            TimerKind::Send => &mut self.send,
            TimerKind::Linger => &mut self.linger,
        }
    }

    pub fn next_deadline(&self) -> Option<u64> {
        [&self.header, &self.idle, &self.send, &self.linger]
            .iter()
            .filter_map(|q| q.next_deadline())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_and_due() {
        let mut q = DeadlineQueue::new(100);
        let a = q.arm(0, 1, 10);
        let b = q.arm(50, 2, 11);
        assert_eq!((a, b), (100, 150));
        assert_eq!(q.next_deadline(), Some(100));
        assert_eq!(q.pop_due(99), None);
        assert_eq!(q.pop_due(100).map(|e| e.token), Some(1));
        assert_eq!(q.pop_due(149), None);
        assert_eq!(q.pop_due(500).map(|e| e.conn_id), Some(11));
        assert_eq!(q.pop_due(500), None);
    }

    #[test]
    fn compact_keeps_live_entries_in_order() {
        let mut q = DeadlineQueue::new(10);
        for i in 0..10 {
            q.arm(i, i as usize, i);
        }
        q.compact(|e| e.conn_id % 3 == 0);
        assert_eq!(q.len(), 4);
        let order: Vec<u64> =
            std::iter::from_fn(|| q.pop_due(u64::MAX).map(|e| e.conn_id)).collect();
        assert_eq!(order, vec![0, 3, 6, 9]);
    }
}
