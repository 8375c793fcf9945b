//! Smoke tests of the load generator: it runs, books what it says it
//! booked, re-books when its slots run out, and reports its figures.

mod support;

use std::process::Command;

use gpconnect_core::checks::headers::Interaction;
use serde_json::Value;
use support::*;

fn loadgen(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .args(["--json", "--gpconnect", binary()])
        .env("GPCONNECT_LOG", "warn")
        .output()
        .expect("run loadgen");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "loadgen {args:?}: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[track_caller]
fn assert_sane_figures(report: &Value) {
    let l = &report["booking_latency_ms"];
    let (p50, p99, max) = (
        l["p50"].as_f64().expect("p50"),
        l["p99"].as_f64().expect("p99"),
        l["max"].as_f64().expect("max"),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{report}");
    assert!(report["bookings_per_s"].as_f64().expect("rate") > 0.0);
    assert!(report["nproc"].as_u64().expect("nproc") >= 1);
    assert!(report["cpu"].is_string());
}

#[test]
fn loadgen_starts_its_own_server_books_the_count_and_rebooks_when_slots_run_out() {
    // One schedule of the generated practice: 840 slots for 900 bookings,
    // so each of the 4 clients cancels and re-books 15 times.
    let report = loadgen(&["--bookings", "900", "--clients", "4", "--schedules", "1"]);
    assert_eq!(report["bookings"], 900, "{report}");
    assert_eq!(report["cancels"], 60, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["clients"], 4);
    assert_eq!(report["durability"], "immediate");
    assert_eq!(report["free_slots_found"], 840);
    assert!(
        report["target"]
            .as_str()
            .is_some_and(|t| t.ends_with("/L00001/STU3/1/gpconnect")),
        "{report}"
    );
    assert_sane_figures(&report);
}

#[test]
fn a_synced_server_books_every_request() {
    // `--durability synced` adds fdatasync to each group's flush.
    let report = loadgen(&[
        "--bookings",
        "200",
        "--clients",
        "4",
        "--schedules",
        "1",
        "--durability",
        "synced",
    ]);
    assert_eq!(report["bookings"], 200, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["durability"], "synced");
    assert_sane_figures(&report);
}

#[test]
fn loadgen_against_a_running_server_makes_real_bookings() {
    let s = Server::demo();
    let report = loadgen(&[
        "--url",
        &s.base,
        "--bookings",
        "120",
        "--clients",
        "3",
        "--on-exhaustion",
        "stop",
    ]);
    assert_eq!(report["bookings"], 120, "{report}");
    assert_eq!(report["cancels"], 0, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_sane_figures(&report);
    // The server has them: patients 2 and 3 share the 120 bookings.
    let count = |patient: &str| {
        let r = s
            .stu3(
                Interaction::RetrievePatientAppointments,
                "GET",
                &format!("/Patient/{patient}/Appointment"),
            )
            .query(&format!("start=ge{}&start=le{}", uk_date(0), uk_date(14)))
            .send();
        ok_json(&r, 200)["entry"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(count("2") + count("3"), 120);
}

#[test]
fn loadgen_refuses_bad_arguments() {
    for args in [
        &["--clients", "0"][..],
        &["--bookings", "10", "--duration", "1"],
        &["--url", "http://127.0.0.1:9", "--practice", "B1"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
            .args(args)
            .output()
            .expect("run loadgen");
        assert!(!out.status.success(), "{args:?}");
    }
}
