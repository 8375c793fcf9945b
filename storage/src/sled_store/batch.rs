//! Commit batching: concurrent commands share one redo record and one log
//! write.
//!
//! sled writes the log when a flush (or a sealed I/O buffer) asks it to, and
//! a store whose every command forced its own write could not grow durable
//! throughput with the number of clients. So commands queue here: the first
//! committer to find no leader becomes the leader, takes every queued
//! command (up to [`MAX_GROUP`]) and runs them one after another under the
//! store's writer mutex, while later arrivals queue for the next group. Each
//! command still checks what it depends on against the store plus the
//! writes of the commands before it in the group, exactly as if they had run
//! one by one; a command that fails changes nothing. The group's writes are
//! applied together behind one redo record (see the `sled_store` module
//! docs), and its committers then share a flush (see `group_commit`).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The most commands one group runs.
pub(crate) const MAX_GROUP: usize = 64;

#[derive(Debug)]
struct State<J, R> {
    /// Waiting commands, by ticket.
    queue: Vec<(u64, J)>,
    /// Finished commands' results, by ticket.
    results: Vec<(u64, R)>,
    next_ticket: u64,
    /// A leader is running a group.
    leading: bool,
}

/// The queue and the leader/follower hand-over (see the module docs).
#[derive(Debug)]
pub(crate) struct Batcher<J, R> {
    state: Mutex<State<J, R>>,
    done: Condvar,
}

impl<J, R> Default for Batcher<J, R> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                queue: Vec::new(),
                results: Vec::new(),
                next_ticket: 0,
                leading: false,
            }),
            done: Condvar::new(),
        }
    }
}

/// Clears `leading` even if running a group unwinds, so followers are not
/// left waiting for a leader that is gone.
struct Leading<'a, J, R> {
    batcher: &'a Batcher<J, R>,
}

impl<J, R> Drop for Leading<'_, J, R> {
    fn drop(&mut self) {
        let mut state = self.batcher.lock();
        state.leading = false;
        drop(state);
        self.batcher.done.notify_all();
    }
}

impl<J, R> Batcher<J, R> {
    fn lock(&self) -> MutexGuard<'_, State<J, R>> {
        // Every critical section leaves the state consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue `job` and return its result: run by this thread as the leader
    /// of a group (`run` gets the group's jobs in queue order and returns
    /// their results in the same order), or by another leader. `lost`
    /// answers for a job whose leader failed to report a result.
    pub(crate) fn submit(&self, job: J, run: impl Fn(Vec<J>) -> Vec<R>, lost: impl Fn() -> R) -> R {
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push((ticket, job));
        loop {
            if let Some(i) = state.results.iter().position(|(t, _)| *t == ticket) {
                return state.results.swap_remove(i).1;
            }
            if state.leading {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            if !state.queue.iter().any(|(t, _)| *t == ticket) {
                // Taken by a leader that stopped without a result.
                return lost();
            }
            // Lead the next group, which includes this job.
            state.leading = true;
            let take = state.queue.len().min(MAX_GROUP);
            let group: Vec<(u64, J)> = state.queue.drain(..take).collect();
            drop(state);
            let guard = Leading { batcher: self };
            let (tickets, jobs): (Vec<u64>, Vec<J>) = group.into_iter().unzip();
            let results = run(jobs);
            state = self.lock();
            state.results.extend(tickets.into_iter().zip(results));
            drop(state);
            drop(guard);
            state = self.lock();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_job_gets_its_own_result_and_groups_form() {
        let batcher: Arc<Batcher<u64, u64>> = Arc::new(Batcher::default());
        let groups = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8u64)
            .map(|t| {
                let batcher = Arc::clone(&batcher);
                let groups = Arc::clone(&groups);
                std::thread::spawn(move || {
                    for i in 0..200u64 {
                        let job = t * 1000 + i;
                        let got = batcher.submit(
                            job,
                            |jobs| {
                                groups.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_micros(200));
                                jobs.into_iter().map(|j| j * 2).collect()
                            },
                            || u64::MAX,
                        );
                        assert_eq!(got, job * 2);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let groups = groups.load(Ordering::SeqCst);
        assert!(groups < 1600, "{groups} groups for 1600 jobs");
    }

    #[test]
    fn a_leader_that_reports_nothing_does_not_hang_its_group() {
        let batcher: Batcher<u64, u64> = Batcher::default();
        assert_eq!(batcher.submit(1, |_| Vec::new(), || 7), 7);
        assert_eq!(batcher.submit(2, |jobs| jobs, || 7), 2);
    }
}
