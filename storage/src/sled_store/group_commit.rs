//! Group commit: committers whose commands are waiting to become durable
//! share one flush.
//!
//! A sled flush (write out the log buffers, then `fsync`) costs about the
//! same whether it covers one command or fifty, and `fsync` dominates a
//! durable command. So committers do not each flush: after its command's
//! writes are applied, a committer takes the next *commit sequence number*. If no flush
//! is running it becomes the leader: it notes the highest sequence number
//! handed out so far, flushes, and publishes that number as *flushed*. A
//! committer that finds a flush running waits on the condition variable; a
//! flush covers it only if the flush started after it took its number,
//! because only then had its writes been applied before the flush began
//! (the flush makes every log write reserved before it started durable). So
//! a follower whose number is above the published one becomes the next
//! leader, and its flush covers everyone who arrived during the previous
//! one. With N clients, one `fsync` acknowledges up to N commands, and
//! durable throughput grows with the number of clients.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use gpconnect_core::store::{StoreError, StoreResult};

#[derive(Debug, Default)]
struct State {
    /// Sequence numbers handed out (the last one).
    committed: u64,
    /// Every sequence number up to this is durable.
    flushed: u64,
    /// A leader is flushing.
    flushing: bool,
}

/// The shared state of the leader/follower protocol (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    flushed: Condvar,
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every unlock, so a panic elsewhere
        // while holding it (none is expected) does not invalidate it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Call after a command's writes were applied: returns once a flush that started
    /// after the commit has finished. `flush` is the durable flush (sled's
    /// `Db::flush`).
    pub(crate) fn wait_durable(&self, flush: impl Fn() -> sled::Result<usize>) -> StoreResult<()> {
        let mut state = self.lock();
        state.committed += 1;
        let mine = state.committed;
        loop {
            if state.flushed >= mine {
                return Ok(());
            }
            if state.flushing {
                state = self
                    .flushed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Lead: everything numbered so far committed before this point.
            state.flushing = true;
            let target = state.committed;
            drop(state);
            let result = flush();
            state = self.lock();
            state.flushing = false;
            if result.is_ok() {
                state.flushed = state.flushed.max(target);
            }
            self.flushed.notify_all();
            if let Err(e) = result {
                // Followers wake up, find themselves not covered, and one of
                // them retries the flush as the next leader.
                return Err(StoreError::Backend(format!(
                    "sled: flushing committed transactions: {e}"
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn concurrent_committers_share_flushes() {
        let gc = Arc::new(GroupCommit::default());
        let flushes = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let gc = Arc::clone(&gc);
                let flushes = Arc::clone(&flushes);
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        gc.wait_durable(|| {
                            flushes.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_micros(500));
                            Ok(0)
                        })
                        .expect("flush");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let n = flushes.load(Ordering::SeqCst);
        assert!(n < 1600, "{n} flushes for 1600 commits");
        let state = gc.lock();
        assert_eq!(state.flushed, 1600);
    }

    #[test]
    fn a_failed_flush_is_reported_and_the_next_committer_retries() {
        let gc = GroupCommit::default();
        let err = gc.wait_durable(|| Err(sled::Error::Unsupported("disk gone".into())));
        assert!(matches!(err, Err(StoreError::Backend(m)) if m.contains("disk gone")));
        gc.wait_durable(|| Ok(0)).expect("second flush");
        assert_eq!(gc.lock().flushed, 2);
    }
}
