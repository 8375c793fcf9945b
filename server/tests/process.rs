//! End to end: the `gpconnect` process itself — concurrent bookings racing
//! for one slot (R16), hostile bytes on the socket, graceful shutdown on
//! SIGTERM with requests in flight and the bookings still there after a
//! restart, `gpconnect import` then `serve`, and `gpconnect token`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use gpconnect_core::checks::headers::Interaction;
use serde_json::Value;
use support::*;

// ---------------------------------------------------------------------------
// R16: booking is atomic

#[test]
fn r16_two_clients_racing_for_one_slot_get_one_201_and_one_409() {
    let s = Server::demo();
    let slots: Vec<FreeSlot> = free_slots(&s, 9).into_iter().take(20).collect();
    assert_eq!(slots.len(), 20);
    let barrier = Arc::new(Barrier::new(2));
    let outcomes: Vec<Vec<(u16, Option<String>)>> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..2)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let slots = &slots;
                let s = &s;
                scope.spawn(move || {
                    // Each client has its own keep-alive connection, opened
                    // before the race starts.
                    let warm = s
                        .stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
                        .send();
                    assert_eq!(warm.status, 200);
                    slots
                        .iter()
                        .map(|slot| {
                            let req = s
                                .stu3(Interaction::BookAppointment, "POST", "/Appointment")
                                .json(&book_body(&[slot]));
                            barrier.wait();
                            let r = req.send();
                            assert_no_store(&r);
                            let id = (r.status == 201)
                                .then(|| r.json()["id"].as_str().map(str::to_owned))
                                .flatten();
                            if r.status == 409 {
                                assert_outcome(&r, 409, "DUPLICATE_REJECTED");
                            }
                            (r.status, id)
                        })
                        .collect()
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().expect("client"))
            .collect()
    });
    let retrieve = s
        .stu3(
            Interaction::RetrievePatientAppointments,
            "GET",
            "/Patient/2/Appointment",
        )
        .query(&format!("start=ge{}&start=le{}", uk_date(9), uk_date(9)))
        .send();
    let all = ok_json(&retrieve, 200);
    let entries = all["entry"].as_array().cloned().unwrap_or_default();
    for (n, slot) in slots.iter().enumerate() {
        let (a, b) = (&outcomes[0][n], &outcomes[1][n]);
        let mut statuses = [a.0, b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "slot {}: {a:?} {b:?}", slot.id);
        let id = a.1.clone().or_else(|| b.1.clone()).expect("the 201's id");
        // The winner's appointment reads back, holding the slot.
        let r = s
            .stu3(
                Interaction::ReadAppointment,
                "GET",
                &format!("/Appointment/{id}"),
            )
            .send();
        let v = ok_json(&r, 200);
        assert_eq!(v["slot"][0]["reference"], format!("Slot/{}", slot.id));
        // Exactly one appointment holds the slot.
        let holders = entries
            .iter()
            .filter(|e| e["resource"]["slot"][0]["reference"] == format!("Slot/{}", slot.id))
            .count();
        assert_eq!(holders, 1, "slot {}", slot.id);
    }
    assert_eq!(entries.len(), 20);
    assert!(!free_slots(&s, 9).iter().any(|f| slots.contains(f)));
}

// ---------------------------------------------------------------------------
// Hostile input

#[test]
fn the_server_survives_garbage_bytes_huge_headers_and_broken_requests() {
    let s = Server::demo();
    let long = Duration::from_secs(5);
    let path = format!("{STU3_ROOT}/metadata");
    let metadata_head = raw_headers("GET", &path, Interaction::GetCapabilityStatement, s.addr);

    // Garbage bytes: 400 or a closed connection, never a hang or a crash.
    let garbage: Vec<u8> = (0..16 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let raw = raw_exchange(s.addr, &garbage, long);
    assert!(
        raw.is_empty() || raw_status(&raw).is_some_and(|c| c >= 400),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    // A 1 MiB header value and 10,000 headers: refused (431 or closed).
    let huge = format!(
        "{metadata_head}X-Huge: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let raw = raw_exchange(s.addr, huge.as_bytes(), long);
    assert!(
        raw.is_empty() || raw_status(&raw).is_some_and(|c| c >= 400),
        "{}",
        String::from_utf8_lossy(&raw[..raw.len().min(200)])
    );
    let many: String = (0..10_000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let raw = raw_exchange(
        s.addr,
        format!("{metadata_head}{many}Connection: close\r\n\r\n").as_bytes(),
        long,
    );
    assert!(raw.is_empty() || raw_status(&raw).is_some_and(|c| c >= 400));
    // A 200 KiB request target.
    let raw = raw_exchange(
        s.addr,
        format!(
            "GET {path}?x={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "b".repeat(200 * 1024)
        )
        .as_bytes(),
        long,
    );
    assert!(raw.is_empty() || raw_status(&raw).is_some_and(|c| c >= 400));
    // A lying Content-Length (longer than what is sent) from a client
    // that then goes away: the server waits for the rest, then drops it.
    {
        let mut liar = TcpStream::connect(s.addr).expect("connect");
        liar.write_all(
            format!(
                "{}Content-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n{{\"resourceType\":",
                raw_headers(
                    "POST",
                    &format!("{STU3_ROOT}/Appointment"),
                    Interaction::BookAppointment,
                    s.addr
                )
            )
            .as_bytes(),
        )
        .expect("write");
    }
    // Invalid chunked encoding.
    let raw = raw_exchange(
        s.addr,
        format!(
            "{}Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
            raw_headers(
                "POST",
                &format!("{STU3_ROOT}/Appointment"),
                Interaction::BookAppointment,
                s.addr
            )
        )
        .as_bytes(),
        long,
    );
    assert!(raw.is_empty() || raw_status(&raw).is_some_and(|c| c >= 400));
    // Non-UTF-8 bytes in an SSP header value: to the engine it is absent.
    let mut bytes = metadata_head
        .replace("Ssp-From: 200000000359", "Ssp-From: 2000\u{0}")
        .into_bytes();
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        bytes[at] = 0xff;
    }
    bytes.extend_from_slice(b"Connection: close\r\n\r\n");
    let raw = raw_exchange(s.addr, &bytes, long);
    assert_eq!(
        raw_status(&raw),
        Some(400),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    // A connection opened and dropped mid-headers.
    {
        let mut half = TcpStream::connect(s.addr).expect("connect");
        half.write_all(b"GET /A00001/STU3/1/gpconnect/metadata HTTP/1.1\r\nHost:")
            .expect("write");
    }
    // Two pipelined requests on one connection: two answers, in order.
    let pipelined = format!("{metadata_head}\r\n{metadata_head}Connection: close\r\n\r\n");
    let raw = raw_exchange(s.addr, pipelined.as_bytes(), long);
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");

    // Still serving, still the same process.
    assert!(s_is_running(&s));
    ok_json(
        &s.stu3(Interaction::ReadPatient, "GET", "/Patient/2").send(),
        200,
    );
}

fn s_is_running(s: &Server) -> bool {
    // `kill -0` checks the process exists without signalling it.
    Command::new("kill")
        .args(["-0", &s.pid().to_string()])
        .status()
        .expect("kill -0")
        .success()
}

// ---------------------------------------------------------------------------
// Graceful shutdown

/// Reads one HTTP/1.1 response (headers and a Content-Length body) from
/// `stream`.
fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            other => panic!(
                "connection ended mid-headers ({other:?}): {}",
                String::from_utf8_lossy(&buf)
            ),
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let status = raw_status(&buf).expect("status line");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .expect("Content-Length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn sigterm_lets_requests_in_flight_finish_exits_0_and_a_restart_keeps_every_acknowledged_booking() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut s = Server::start_in(&data, &["--demo"]);
    let slots = free_slots(&s, 10);
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();

    // 1. A few bookings before anything happens.
    for slot in &slots[..3] {
        let (v, _) = booked(&s, &[slot]);
        acknowledged
            .lock()
            .expect("lock")
            .push((v["id"].as_str().expect("id").to_owned(), slot.id.clone()));
    }

    // 2. A booking whose body is half sent when SIGTERM arrives.
    let in_flight_slot = slots[3].clone();
    let body = serde_json::to_vec(&book_body(&[&in_flight_slot])).expect("json");
    let mut in_flight = TcpStream::connect(s.addr).expect("connect");
    in_flight
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let head = format!(
        "{}Content-Type: application/fhir+json\r\nContent-Length: {}\r\n\r\n",
        raw_headers(
            "POST",
            &format!("{STU3_ROOT}/Appointment"),
            Interaction::BookAppointment,
            s.addr
        ),
        body.len()
    );
    in_flight.write_all(head.as_bytes()).expect("head");
    let (first, rest) = body.split_at(body.len() / 2);
    in_flight.write_all(first).expect("first half");

    // 3. Two clients booking as fast as they can over keep-alive.
    let busy_slots: Vec<FreeSlot> = slots[4..].to_vec();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammer = |part: usize| {
        let acknowledged = Arc::clone(&acknowledged);
        let stop = Arc::clone(&stop);
        let mine: Vec<FreeSlot> = busy_slots.iter().skip(part).step_by(2).cloned().collect();
        let base = s.base.clone();
        let addr = s.addr;
        std::thread::spawn(move || {
            let agent = agent();
            let mut done = 0;
            for slot in mine {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let body = serde_json::to_vec(&book_body(&[&slot])).expect("json");
                let token = token_for(Interaction::BookAppointment, None);
                let result = agent
                    .post(format!("{base}{STU3_ROOT}/Appointment"))
                    .header("Ssp-TraceID", TRACE_ID)
                    .header("Ssp-From", "200000000359")
                    .header("Ssp-To", ASID)
                    .header(
                        "Ssp-InteractionID",
                        Interaction::BookAppointment.interaction_id(),
                    )
                    .header("Authorization", format!("Bearer {token}"))
                    .header("Content-Type", "application/fhir+json")
                    .send(&body[..]);
                // After SIGTERM the server closes connections: an error is
                // an unacknowledged booking, which is allowed.
                let Ok(mut response) = result else { break };
                let status = response.status().as_u16();
                let Ok(text) = response.body_mut().read_to_string() else {
                    break;
                };
                assert_eq!(status, 201, "{text}");
                let v: Value = serde_json::from_str(&text).expect("json");
                acknowledged
                    .lock()
                    .expect("lock")
                    .push((v["id"].as_str().expect("id").to_owned(), slot.id.clone()));
                done += 1;
            }
            let _ = addr;
            done
        })
    };
    let clients = [hammer(0), hammer(1)];
    std::thread::sleep(Duration::from_millis(300));

    // 4. SIGTERM.
    let status = Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    // The half-sent request holds the server open; new connections are
    // refused.
    assert!(s.is_running(), "exited with a request in flight");
    assert!(
        TcpStream::connect_timeout(&s.addr, Duration::from_secs(2)).is_err(),
        "the listener still accepts after SIGTERM"
    );
    // 5. The in-flight request completes.
    in_flight.write_all(rest).expect("second half");
    let (status, text) = read_response(&mut in_flight);
    assert_eq!(status, 201, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    acknowledged.lock().expect("lock").push((
        v["id"].as_str().expect("id").to_owned(),
        in_flight_slot.id.clone(),
    ));
    drop(in_flight);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let hammered: usize = clients.into_iter().map(|c| c.join().expect("client")).sum();
    assert!(hammered > 0, "the clients booked nothing before SIGTERM");

    // 6. Exit 0, with every acknowledged booking in the audit log (R84).
    let exit = s.wait_exit(Duration::from_secs(30));
    assert!(
        exit.success(),
        "exit status {exit:?}; log:\n{}",
        s.log_text()
    );
    drop(s);
    let audited_201s = std::fs::read_to_string(data.join("audit.jsonl"))
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .filter(|l| l["status"] == 201)
        .count();
    assert_eq!(
        audited_201s,
        acknowledged.lock().expect("lock").len(),
        "every acknowledged booking is audited"
    );

    // 7. Restart on the same data (the same command line, --demo and all):
    // every acknowledged booking is there and still holds its slot.
    let s = Server::start_in(&data, &["--demo"]);
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() >= 5);
    let still_free = free_slots(&s, 10);
    for (id, slot_id) in &acknowledged {
        let r = s
            .stu3(
                Interaction::ReadAppointment,
                "GET",
                &format!("/Appointment/{id}"),
            )
            .send();
        let v = ok_json(&r, 200);
        assert_eq!(v["status"], "booked");
        assert_eq!(v["slot"][0]["reference"], format!("Slot/{slot_id}"));
        assert!(
            !still_free.iter().any(|f| &f.id == slot_id),
            "slot {slot_id} of acknowledged appointment {id} is free again after the restart"
        );
    }
    let taken = slots
        .iter()
        .find(|f| acknowledged.iter().any(|(_, s)| s == &f.id))
        .expect("a booked slot");
    assert_outcome(&book(&s, &[taken]), 409, "DUPLICATE_REJECTED");
}

// ---------------------------------------------------------------------------
// gpconnect import, gpconnect token

#[test]
fn import_the_example_practice_then_serve_it_without_the_demo() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let example = repo_root().join("examples/practice.json");
    let import = |expect_written_zero: bool| {
        let out = Command::new(binary())
            .arg("import")
            .arg("--data")
            .arg(&data)
            .arg(&example)
            .env("GPCONNECT_LOG", "warn")
            .output()
            .expect("gpconnect import");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.starts_with("A00001: "), "{stdout}");
        assert_eq!(
            stdout.contains(": 0 written"),
            expect_written_zero,
            "{stdout}"
        );
    };
    import(false);
    // Importing the same file again changes nothing.
    import(true);

    let s = Server::start_in(&data, &[]);
    let r = s
        .stu3(Interaction::ReadOrganization, "GET", "/Organization/23")
        .send();
    assert_eq!(ok_json(&r, 200)["name"], "The Trevelyan Practice");
    let r = s.stu3(Interaction::ReadPatient, "GET", "/Patient/3").send();
    assert_eq!(ok_json(&r, 200)["id"], "3");
    // The example's diary (4 March 2030) and its booked appointment.
    let r = s
        .stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
        .query("start=ge2030-03-04&end=le2030-03-04&status=free&_include=Slot%3Aschedule")
        .send();
    let v = ok_json(&r, 200);
    let ids: Vec<&str> = v["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Slot")
        .filter_map(|e| e["resource"]["id"].as_str())
        .collect();
    assert!(ids.contains(&"14-1-0"), "{ids:?}");
    assert!(!ids.contains(&"14-1-1"), "not bookable: {ids:?}");
    assert!(!ids.contains(&"14-1-5"), "busy: {ids:?}");
    let r = s
        .stu3(Interaction::ReadAppointment, "GET", "/Appointment/1")
        .send();
    assert_eq!(ok_json(&r, 200)["status"], "booked");
    // No demo: its extra schedules are not there.
    let r = s
        .stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
        .query(&slot_query(2))
        .send();
    assert!(ok_json(&r, 200).get("entry").is_none());
}

fn gpconnect_token(args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .arg("token")
        .args(args)
        .env("GPCONNECT_LOG", "warn")
        .output()
        .expect("gpconnect token")
}

#[test]
fn the_printed_token_is_accepted() {
    let s = Server::demo();
    let token = |args: &[&str]| {
        let out = gpconnect_token(args);
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let token = text.trim().to_owned();
        assert_eq!(token.split('.').count(), 3, "{token}");
        assert!(token.ends_with('.'), "unsigned: {token}");
        token
    };
    let org_read = token(&["--scope", "organization/*.read"]);
    let r = s
        .stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .token(&org_read)
        .send();
    ok_json(&r, 200);
    let r = s
        .stu3(Interaction::ReadLocation, "GET", "/Location/17")
        .token(&org_read)
        .send();
    ok_json(&r, 200);
    // The default scope is patient/*.read.
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&token(&["--org", "C12345"]))
        .send();
    ok_json(&r, 200);
    let slots = free_slots(&s, 11);
    let r = s
        .stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .json(&book_body(&[&slots[0]]))
        .token(&token(&["--scope", "patient/*.write"]))
        .send();
    ok_json(&r, 201);
    // A read token does not book.
    let r = s
        .stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .json(&book_body(&[&slots[1]]))
        .token(&token(&[]))
        .send();
    assert_outcome(&r, 400, "BAD_REQUEST");
    // A DSTU2 token for a patient's record reads it (getcarerecord).
    let dstu2 = token(&["--nhs-number", "9000000009"]);
    let r = s
        .dstu2(
            Interaction::GetCareRecord,
            "POST",
            "/Patient/$gpc.getcarerecord",
        )
        .json(&care_record_body("9000000009", "SUM"))
        .header("Content-Type", "application/json+fhir")
        .token(&dstu2)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_no_store(&r);
    assert_eq!(
        r.json()["entry"][0]["resource"]["resourceType"],
        "Composition"
    );
    // Its claims carry DSTU2 identifier systems, so to the STU3 profile
    // its requesting_organization is an invalid resource (§3.3: 422).
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&dstu2)
        .send();
    assert_outcome(&r, 422, "INVALID_RESOURCE");
    // An unknown scope is refused by the command.
    let out = gpconnect_token(&["--scope", "everything"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown scope"),
        "{out:?}"
    );
}
