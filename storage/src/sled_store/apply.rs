//! The applier: a durable group's writes are applied on a second thread
//! while its committers wait for the flush.
//!
//! With [`Durability::Immediate`](super::Durability::Immediate) a command
//! is acknowledged once a flush covers its group's *redo record*: from then
//! on, a crash cannot lose it, because opening the store replays the record
//! (see the `sled_store` module docs). Applying the group's writes to their
//! trees does not have to happen before that flush, only before anyone
//! reads them. So the group's leader inserts the redo record, hands the
//! writes to this thread, and goes on to the flush; the writes are applied
//! (and the redo record removed) during the `fsync` that dominates a durable
//! command, instead of before it. A committer is acknowledged only after its
//! group is applied too, so a client always reads its own writes, and the
//! next group's leader waits for the previous group to be applied before it
//! validates anything, so every command still sees every command before it.
//!
//! Crash safety is unchanged: the redo record is inserted (on the leader
//! thread) before the hand-over, so it precedes every write of its group in
//! sled's log, and its removal follows them all.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;

use gpconnect_core::store::{StoreError, StoreResult};

use super::{META, Overlay, TREES, backend, tree_name};

/// A group's writes and the redo record that covers them.
struct Job {
    seq: u64,
    redo_key: Vec<u8>,
    writes: Overlay,
}

#[derive(Debug, Default)]
struct State {
    /// The last job handed over.
    submitted: u64,
    /// Every job up to this one is finished (applied, or failed).
    finished: u64,
    /// The first job that failed, and why: it and every later job are not
    /// applied (their redo records stay for the next open to replay).
    failed: Option<(u64, StoreError)>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    finished: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The applier thread and its hand-over state (see the module docs).
#[derive(Debug)]
pub(crate) struct Applier {
    shared: Arc<Shared>,
    sender: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Applier {
    /// Start the thread. `visible` is the store's visibility lock, held for
    /// writing while a group is applied so no reader sees half of it.
    pub(crate) fn start(
        trees: [sled::Tree; TREES],
        visible: Arc<RwLock<()>>,
    ) -> StoreResult<Applier> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            finished: Condvar::new(),
        });
        let (sender, receiver) = channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("gpconnect-sled-apply".to_owned())
            .spawn(move || run(&trees, &visible, &thread_shared, &receiver))
            .map_err(|e| backend("starting the applier thread", e))?;
        Ok(Applier {
            shared,
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Hand a group's writes over; returns the number to wait for. Call
    /// only under the writer mutex, after the group's redo record is in.
    pub(crate) fn submit(&self, redo_key: Vec<u8>, writes: Overlay) -> StoreResult<u64> {
        let mut state = self.shared.lock();
        let seq = state.submitted + 1;
        let sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        let sent = sender.as_ref().is_some_and(|s| {
            s.send(Job {
                seq,
                redo_key,
                writes,
            })
            .is_ok()
        });
        if !sent {
            return Err(StoreError::Backend(
                "sled: the applier thread is not running".to_owned(),
            ));
        }
        state.submitted = seq;
        Ok(seq)
    }

    /// Wait until job `seq` is finished; its error if it (or an earlier
    /// job) failed.
    pub(crate) fn wait(&self, seq: u64) -> StoreResult<()> {
        let mut state = self.shared.lock();
        while state.finished < seq {
            state = self
                .shared
                .finished
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        match &state.failed {
            Some((at, e)) if *at <= seq => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// Wait until every job handed over is finished.
    pub(crate) fn wait_idle(&self) -> StoreResult<()> {
        let submitted = self.shared.lock().submitted;
        self.wait(submitted)
    }

    /// Finish every job and stop the thread.
    pub(crate) fn stop(&self) -> StoreResult<()> {
        let result = self.wait_idle();
        drop(
            self.sender
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            // The thread cannot panic while holding nothing; if it did, its
            // guard already recorded the failure.
            let _ = thread.join();
        }
        result
    }
}

/// Marks the jobs as failed if the thread unwinds, so no committer waits
/// for an applier that is gone.
struct Unwinding<'a> {
    shared: &'a Shared,
    seq: u64,
    armed: bool,
}

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut state = self.shared.lock();
            state.failed.get_or_insert((
                self.seq,
                StoreError::Backend("sled: the applier thread panicked".to_owned()),
            ));
            state.finished = u64::MAX;
            drop(state);
            self.shared.finished.notify_all();
        }
    }
}

fn run(trees: &[sled::Tree; TREES], visible: &RwLock<()>, shared: &Shared, jobs: &Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        let mut guard = Unwinding {
            shared,
            seq: job.seq,
            armed: true,
        };
        let broken = shared.lock().failed.is_some();
        let result = if broken {
            Ok(())
        } else {
            let _visible = visible.write().unwrap_or_else(PoisonError::into_inner);
            apply(trees, &job)
        };
        guard.armed = false;
        let mut state = shared.lock();
        if let Err(e) = result {
            state.failed.get_or_insert((job.seq, e));
        }
        state.finished = job.seq;
        drop(state);
        shared.finished.notify_all();
    }
}

/// Apply a group's writes, then remove its redo record.
pub(crate) fn apply_writes(trees: &[sled::Tree; TREES], writes: &Overlay) -> StoreResult<()> {
    for (tree, writes) in writes.iter().enumerate() {
        for (k, v) in writes {
            match v {
                Some(v) => trees[tree].insert(&k[..], v.clone()).map(|_| ()),
                None => trees[tree].remove(&k[..]).map(|_| ()),
            }
            .map_err(|e| backend(&format!("writing tree `{}`", tree_name(tree)), e))?;
        }
    }
    Ok(())
}

fn apply(trees: &[sled::Tree; TREES], job: &Job) -> StoreResult<()> {
    apply_writes(trees, &job.writes)?;
    trees[META]
        .remove(&job.redo_key[..])
        .map_err(|e| backend("removing a redo record", e))?;
    Ok(())
}
