//! Crash test: a child process (this test binary, re-executed with
//! `GPCONNECT_CRASH_CHILD_DIR` set) opens a durable `SledStore` and books
//! and cancels continuously from two threads, printing each command to
//! stdout only after it returned. The parent kills it with SIGKILL at a
//! random moment, reopens the store and checks: it opens; every
//! acknowledged booking and cancel is present; no slot is held by two
//! appointments; slot states agree with the appointments; and ids and
//! versions handed out after the crash are above every acknowledged one.
//!
//! 20 cycles by default; `GPCONNECT_CRASH_CYCLES=N` runs N:
//!
//! ```text
//! GPCONNECT_CRASH_CYCLES=200 cargo test -p gpconnect-storage --test crash -- --nocapture
//! ```

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use gpconnect_core::store::*;
use gpconnect_storage::{Durability, SledOptions, SledStore};

const CHILD_ENV: &str = "GPCONNECT_CRASH_CHILD_DIR";
/// Set (to anything) for a child that opens the store `Durability::Synced`.
const SYNCED_ENV: &str = "GPCONNECT_CRASH_CHILD_SYNCED";
const SLOTS: usize = 60;

fn options(durability: Durability) -> SledOptions {
    SledOptions {
        // Small blocks: reservations happen (and get interrupted) often.
        counter_reserve_block: 16,
        ..SledOptions::with_durability(durability)
    }
}

/// The child: book and cancel until killed. A no-op in a normal test run.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let durability = if std::env::var_os(SYNCED_ENV).is_some() {
        Durability::Synced
    } else {
        Durability::Immediate
    };
    let store =
        Arc::new(SledStore::open(&dir, options(durability)).expect("child opens the store"));
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let say = |out: &Mutex<std::io::Stdout>, line: String| {
        let out = out.lock().expect("stdout lock");
        let mut out = out.lock();
        out.write_all(line.as_bytes()).expect("write");
        out.flush().expect("flush");
    };
    say(&out, "@@OPEN\n".to_owned());
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let store = Arc::clone(&store);
            let out = Arc::clone(&out);
            std::thread::spawn(move || {
                let mut rng = Rng::from_time();
                rng.next_u64();
                for _ in 0..t {
                    rng.next_u64();
                }
                let mut mine: Vec<AppointmentRecord> = Vec::new();
                loop {
                    let len = 1 + rng.below(3);
                    let first = rng.below(SLOTS - len + 1);
                    let ids: Vec<String> = (first..first + len).map(|n| slot_id(0, n)).collect();
                    match book_current(&*store, &ids, "2") {
                        Ok(a) => {
                            say(
                                &out,
                                format!("@@BOOK {} {} {}\n", a.id, a.version, a.slot_ids.join(",")),
                            );
                            mine.push(a);
                        }
                        Err(StoreError::SlotUnavailable { .. }) => {}
                        Err(e) => panic!("child booking failed: {e:?}"),
                    }
                    if mine.len() > 3 && rng.below(2) == 0 {
                        let a = mine.swap_remove(rng.below(mine.len()));
                        let c = cancel(&*store, &a).expect("child cancels its own booking");
                        say(&out, format!("@@CANCEL {} {}\n", c.id, c.version));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().ok();
    }
}

#[derive(Debug, Clone)]
struct Acked {
    version: u64,
    slots: Vec<String>,
    cancelled: Option<u64>,
}

fn cycles() -> usize {
    std::env::var("GPCONNECT_CRASH_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
}

#[test]
fn acknowledged_bookings_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store = SledStore::open(dir.path(), options(Durability::Immediate)).expect("open");
        store.import(ODS, practice(1, SLOTS)).expect("import");
        store.close().expect("close");
    }
    let exe = std::env::current_exe().expect("test binary");
    let slot_ids: Vec<String> = (0..SLOTS).map(|n| slot_id(0, n)).collect();
    let mut acked: HashMap<String, Acked> = HashMap::new();
    let mut max_id = 0u64;
    let mut max_version = 0u64;
    let mut rng = Rng::from_time();
    let cycles = cycles();
    let started = Instant::now();
    let mut total_lines = 0usize;
    let mut cycles_with_bookings = 0usize;
    for cycle in 0..cycles {
        let mut child = Command::new(&exe);
        // Every other cycle the child adds fdatasync (the same promise to
        // a killed process, another write path to recover from).
        if cycle % 2 == 1 {
            child.env(SYNCED_ENV, "1");
        }
        let mut child = child
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("child stdout");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        // One cycle in five dies while starting (during open and recovery);
        // the others at a random moment after the store opened.
        let early = rng.below(5) == 0;
        let delay = if early {
            rng.below(250)
        } else {
            let deadline = Instant::now() + Duration::from_secs(30);
            while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                let open = line.contains("@@OPEN");
                lines.push(line);
                if open {
                    break;
                }
            }
            rng.below(400)
        };
        std::thread::sleep(Duration::from_millis(delay as u64));
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap the child");
        reader.join().expect("reader");
        lines.extend(rx.try_iter());
        let mut booked_now = 0;
        let mut opened = 0;
        for line in &lines {
            // libtest may print "test crash_child ... " before the first line.
            let Some(at) = line.find("@@") else { continue };
            let parts: Vec<&str> = line[at + 2..].split(' ').collect();
            match parts.as_slice() {
                ["BOOK", id, version, slots] => {
                    let version: u64 = version.parse().expect("version");
                    max_id = max_id.max(id.parse().expect("numeric id"));
                    max_version = max_version.max(version);
                    let previous = acked.insert(
                        (*id).to_owned(),
                        Acked {
                            version,
                            slots: slots.split(',').map(str::to_owned).collect(),
                            cancelled: None,
                        },
                    );
                    assert!(previous.is_none(), "appointment id {id} acknowledged twice");
                    booked_now += 1;
                }
                ["OPEN"] => opened += 1,
                ["CANCEL", id, version] => {
                    let version: u64 = version.parse().expect("version");
                    max_version = max_version.max(version);
                    acked
                        .get_mut(*id)
                        .expect("cancel of an acknowledged booking")
                        .cancelled = Some(version);
                }
                other => panic!("unexpected child output {other:?}"),
            }
        }
        total_lines += lines.len();
        if std::env::var_os("GPCONNECT_CRASH_VERBOSE").is_some() {
            eprintln!(
                "cycle {cycle}: early {early}, delay {delay} ms, opened {opened}, booked {booked_now}"
            );
        }
        if booked_now > 0 {
            cycles_with_bookings += 1;
        }

        let store = SledStore::open(dir.path(), options(Durability::Immediate))
            .unwrap_or_else(|e| panic!("cycle {cycle}: the store does not reopen: {e}"));
        for (id, a) in &acked {
            let stored = store
                .appointment(ODS, id)
                .expect("read")
                .unwrap_or_else(|| panic!("cycle {cycle}: acknowledged Appointment/{id} is lost"));
            assert_eq!(
                stored.slot_ids, a.slots,
                "cycle {cycle}: Appointment/{id} slots"
            );
            match (a.cancelled, stored.status) {
                (Some(v), AppointmentStatus::Cancelled) => {
                    assert_eq!(stored.version, v, "cycle {cycle}: Appointment/{id}")
                }
                (Some(_), AppointmentStatus::Booked) => {
                    panic!("cycle {cycle}: acknowledged cancel of Appointment/{id} is lost")
                }
                (None, AppointmentStatus::Booked) => {
                    assert_eq!(stored.version, a.version, "cycle {cycle}: Appointment/{id}")
                }
                // Cancelled just before the kill, not yet acknowledged.
                (None, AppointmentStatus::Cancelled) => assert!(stored.version > a.version),
            }
        }
        // Every appointment the child committed, acknowledged or not.
        let appointments = store
            .patient_appointments(
                ODS,
                "2",
                base() - jiff::SignedDuration::from_hours(24),
                base() + jiff::SignedDuration::from_hours(48),
            )
            .expect("patient appointments");
        let all: Vec<String> = appointments.iter().map(|a| a.id.clone()).collect();
        for id in acked.keys() {
            assert!(
                all.contains(id),
                "cycle {cycle}: Appointment/{id} missing from the patient index"
            );
        }
        check_slot_invariants(&store, &slot_ids, &all)
            .unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));

        // Ids and versions after the crash are fresh: above everything the
        // child acknowledged (and, after an unclean restart, everything it
        // may have committed).
        let highest_committed = all
            .iter()
            .filter_map(|id| id.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        let free: Vec<String> = slot_ids
            .iter()
            .filter(|s| {
                store
                    .slot(ODS, s)
                    .ok()
                    .flatten()
                    .is_some_and(|s| s.status == SlotStatus::Free)
            })
            .take(1)
            .cloned()
            .collect();
        if !free.is_empty() {
            let a = book_current(&store, &free, "3").expect("parent booking");
            let n: u64 = a.id.parse().expect("numeric id");
            assert!(
                n > max_id && n > highest_committed,
                "cycle {cycle}: id {n} reused (acked up to {max_id}, committed up to {highest_committed})"
            );
            assert!(
                a.version > max_version,
                "cycle {cycle}: version {} reused (acked up to {max_version})",
                a.version
            );
            max_id = n;
            let c = cancel(&store, &a).expect("parent cancel");
            assert!(c.version > a.version);
            max_version = c.version;
        }
        // Free the slots the dead child held, so the next one can book.
        for a in appointments
            .iter()
            .filter(|a| a.status == AppointmentStatus::Booked)
        {
            let c = cancel(&store, a).expect("parent cancels a left-over booking");
            if let Some(acked) = acked.get_mut(&a.id) {
                acked.cancelled = Some(c.version);
            }
            max_version = c.version;
        }
        store.close().expect("close");
    }
    eprintln!(
        "{cycles} SIGKILL cycles in {:?}: {} acknowledged bookings ({} cancelled), {cycles_with_bookings} cycles with bookings, {total_lines} lines",
        started.elapsed(),
        acked.len(),
        acked.values().filter(|a| a.cancelled.is_some()).count(),
    );
    assert!(
        cycles_with_bookings * 3 >= cycles,
        "the child booked in too few cycles ({cycles_with_bookings} of {cycles})"
    );
}
