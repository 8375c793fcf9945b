//! End-to-end test support: start the real `gpconnect` binary on a free
//! port over a temporary data directory, and talk to it over HTTP/1.1 with
//! a real client (ureq, keep-alive, no automatic gzip), building GP Connect
//! requests with the five SSP headers and a fresh token per interaction.
//!
//! Every test file includes this module and uses a different subset of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use gpconnect_core::checks::headers::Interaction;
use gpconnect_core::engine::token::TokenSpec;
use gpconnect_core::fhir::{Format, Limits, decode};
use gpconnect_core::stu3;
use serde_json::{Value, json};

/// The demo practice.
pub const ODS: &str = "A00001";
/// The demo practice's ASID.
pub const ASID: &str = "900000000001";
/// The consumer organisation every token names.
pub const CONSUMER_ODS: &str = "B82001";
/// STU3 service root of the demo practice.
pub const STU3_ROOT: &str = "/A00001/STU3/1/gpconnect";
/// DSTU2 service root of the demo practice.
pub const DSTU2_ROOT: &str = "/A00001/DSTU2/0/gpconnect";
/// The trace id every request carries.
pub const TRACE_ID: &str = "09a01679-2564-0fb4-5129-aecc81ea2706";

/// The `gpconnect` binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_gpconnect")
}

/// The repository root (the workspace).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("server/ has a parent")
        .to_path_buf()
}

/// A running `gpconnect serve`, killed (and reaped) on drop.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    /// The bound address.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The data directory.
    pub data: PathBuf,
    /// stderr of the server (JSON logs), for failure messages.
    pub log: PathBuf,
    agent: ureq::Agent,
    // Kept last: dropped after the child is gone.
    _tmp: Option<tempfile::TempDir>,
}

/// A keep-alive HTTP client that reports every status (no error on 4xx and
/// 5xx), sends no default `Accept` and no `Accept-Encoding`, and never
/// decompresses (ureq is built without its gzip feature), so the tests see
/// the bytes and headers the server sent.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .accept("")
        .accept_encoding("")
        .user_agent("gpconnect-e2e")
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

impl Server {
    /// `gpconnect serve --demo` on a fresh temporary data directory.
    pub fn demo() -> Server {
        Server::start_with(&["--demo"])
    }

    /// `gpconnect serve` on a fresh temporary data directory with `extra`
    /// arguments.
    pub fn start_with(extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().join("data");
        let mut server = Server::start_in(&data, extra);
        server._tmp = Some(tmp);
        server
    }

    /// `gpconnect serve --data DATA` (kept after the server is dropped)
    /// with `extra` arguments; the log goes next to `data`.
    pub fn start_in(data: &Path, extra: &[&str]) -> Server {
        let log = data.with_extension("log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let mut child = Command::new(binary())
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("GPCONNECT_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("spawn gpconnect serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        let read = lines.read_line(&mut first);
        let Some(url) = first.trim().strip_prefix("gpconnect listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "first stdout line {first:?} ({read:?}); server log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        let base = url.to_owned();
        let addr: SocketAddr = base
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("not an http://ADDR line: {first:?}"));
        // Keep draining stdout (the demo prints example requests) so the
        // server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = lines.read_to_end(&mut sink);
        });
        Server {
            child: Some(child),
            addr,
            base,
            data: data.to_path_buf(),
            log,
            agent: agent(),
            _tmp: None,
        }
    }

    /// The server's OS process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Send SIGTERM and wait (up to 30 s) for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success(), "kill -TERM failed");
        self.wait_exit(Duration::from_secs(30))
    }

    /// Wait for the process to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().expect("try_wait").is_none())
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A request for `interaction` on the demo practice's STU3 root.
    pub fn stu3(&self, interaction: Interaction, method: &str, rel: &str) -> Req {
        Req::new(self, interaction, method, &format!("{STU3_ROOT}{rel}"))
    }

    /// A request for `interaction` on the demo practice's DSTU2 root.
    pub fn dstu2(&self, interaction: Interaction, method: &str, rel: &str) -> Req {
        Req::new(self, interaction, method, &format!("{DSTU2_ROOT}{rel}"))
    }

    /// A request for `interaction` on an absolute `path`.
    pub fn path(&self, interaction: Interaction, method: &str, path: &str) -> Req {
        Req::new(self, interaction, method, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A fresh token for `interaction`, issued now by a user of
/// [`CONSUMER_ODS`]; DSTU2 tokens name the demo practice (metadata) or the
/// patient `nhs` (getcarerecord).
pub fn token_for(interaction: Interaction, nhs: Option<&str>) -> String {
    let mut spec = TokenSpec::for_interaction(interaction, CONSUMER_ODS, jiff::Timestamp::now());
    if interaction == Interaction::GetCareRecord {
        spec = spec.with_requested_patient(nhs.unwrap_or("9000000009"));
    } else if interaction == Interaction::GetConformance {
        spec = spec.with_requested_organization(ODS);
    }
    spec.encode().expect("token")
}

/// The claims of a fresh token for `interaction` (to break on purpose).
pub fn claims_for(interaction: Interaction) -> Value {
    TokenSpec::for_interaction(interaction, CONSUMER_ODS, jiff::Timestamp::now()).claims()
}

/// One HTTP request under construction.
#[derive(Debug, Clone)]
pub struct Req {
    agent: ureq::Agent,
    base: String,
    /// Verb.
    pub method: String,
    /// Absolute path.
    pub path: String,
    /// Raw query (already encoded).
    pub query: String,
    /// Header lines, in order, duplicates allowed.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Req {
    /// A request for `interaction` with every SSP header valid and a token
    /// minted for it now.
    pub fn new(server: &Server, interaction: Interaction, method: &str, path: &str) -> Req {
        let token = token_for(interaction, None);
        Req {
            agent: server.agent.clone(),
            base: server.base.clone(),
            method: method.to_owned(),
            path: path.to_owned(),
            query: String::new(),
            headers: vec![
                ("Ssp-TraceID".to_owned(), TRACE_ID.to_owned()),
                ("Ssp-From".to_owned(), "200000000359".to_owned()),
                ("Ssp-To".to_owned(), ASID.to_owned()),
                (
                    "Ssp-InteractionID".to_owned(),
                    interaction.interaction_id().to_owned(),
                ),
                ("Authorization".to_owned(), format!("Bearer {token}")),
            ],
            body: Vec::new(),
        }
    }

    /// Sets `name`, replacing every value of it.
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds one more `name` line.
    pub fn add_header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Removes `name`.
    pub fn without(mut self, name: &str) -> Req {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    /// The query string (sent as is).
    pub fn query(mut self, q: &str) -> Req {
        self.query = q.to_owned();
        self
    }

    /// `Authorization: Bearer {token}`.
    pub fn token(self, token: &str) -> Req {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    /// A JSON body with `Content-Type: application/fhir+json`.
    pub fn json(mut self, body: &Value) -> Req {
        self.body = serde_json::to_vec(body).expect("json");
        self.header("Content-Type", "application/fhir+json")
    }

    /// `body` with `content_type`.
    pub fn raw_body(mut self, content_type: &str, body: &[u8]) -> Req {
        self.body = body.to_vec();
        self.header("Content-Type", content_type)
    }

    /// The full URL.
    pub fn url(&self) -> String {
        if self.query.is_empty() {
            format!("{}{}", self.base, self.path)
        } else {
            format!("{}{}?{}", self.base, self.path, self.query)
        }
    }

    /// Send it and read the whole answer.
    pub fn send(&self) -> Resp {
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(self.url());
        for (k, v) in &self.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let result = if self.method == "POST" || self.method == "PUT" {
            let request = builder.body(self.body.clone()).expect("request");
            self.agent.run(request)
        } else {
            let request = builder.body(()).expect("request");
            self.agent.run(request)
        };
        let response = result.unwrap_or_else(|e| panic!("{} {}: {e}", self.method, self.url()));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .into_body()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .expect("response body");
        Resp {
            status,
            headers,
            body,
        }
    }
}

/// A response as received.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Header lines (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes, as sent (still gzipped if the server gzipped them).
    pub body: Vec<u8>,
}

impl Resp {
    /// The first value of `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    /// The body gunzipped (it must be gzip).
    #[track_caller]
    pub fn gunzipped(&self) -> Vec<u8> {
        gunzip(&self.body)
    }
}

/// Decompress gzip bytes.
#[track_caller]
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

/// Compress bytes with gzip.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// Every response, success or error, must say `Cache-Control: no-store`.
#[track_caller]
pub fn assert_no_store(r: &Resp) {
    assert_eq!(
        r.header_all("Cache-Control"),
        vec!["no-store"],
        "{} {:?}",
        r.status,
        r.headers
    );
}

/// An STU3 JSON success with `status`.
#[track_caller]
pub fn ok_json(r: &Resp, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    assert_no_store(r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+json;charset=utf-8")
    );
    r.json()
}

/// An STU3 XML success with `status`, decoded as `T`.
#[track_caller]
pub fn ok_xml<T: gpconnect_core::fhir::FhirResource>(r: &Resp, status: u16) -> T {
    assert_eq!(r.status, status, "{}", r.text());
    assert_no_store(r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+xml;charset=utf-8")
    );
    decode(&r.body, Format::Xml, Limits::REQUEST)
        .unwrap_or_else(|e| panic!("not the expected XML resource ({e}): {}", r.text()))
}

/// An STU3 JSON OperationOutcome with `status` and Spine `code`.
#[track_caller]
pub fn assert_outcome(r: &Resp, status: u16, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    assert_no_store(r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+json;charset=utf-8"),
        "{}",
        r.text()
    );
    let v = r.json();
    assert_eq!(v["resourceType"], "OperationOutcome", "{v}");
    assert_eq!(
        v["meta"]["profile"][0],
        "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"
    );
    let coding = &v["issue"][0]["details"]["coding"];
    assert_eq!(coding.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(coding[0]["code"], code, "{v}");
    assert_eq!(
        coding[0]["system"],
        "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1"
    );
    assert!(coding[0]["display"].is_string(), "{v}");
    assert_eq!(v["issue"][0]["severity"], "error");
    v
}

/// An STU3 XML OperationOutcome with `status` and Spine `code`.
#[track_caller]
pub fn assert_xml_outcome(r: &Resp, status: u16, code: &str) {
    let oo: stu3::OperationOutcome = ok_xml(
        &Resp {
            status,
            ..r.clone()
        },
        status,
    );
    assert_eq!(r.status, status, "{}", r.text());
    let sent = oo
        .issue
        .first()
        .and_then(|i| i.details.as_ref())
        .and_then(|d| d.coding.first())
        .and_then(|c| c.code.as_ref())
        .map(|c| c.as_str().to_owned());
    assert_eq!(sent.as_deref(), Some(code), "{}", r.text());
}

/// A DSTU2 JSON OperationOutcome with `status` and Spine `code`.
#[track_caller]
pub fn assert_dstu2_outcome(r: &Resp, status: u16, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    assert_no_store(r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json+fhir;charset=utf-8"),
        "{}",
        r.text()
    );
    let v = r.json();
    assert_eq!(v["resourceType"], "OperationOutcome", "{v}");
    assert_eq!(
        v["meta"]["profile"][0],
        "http://fhir.nhs.net/StructureDefinition/gpconnect-operationoutcome-1"
    );
    let coding = &v["issue"][0]["details"]["coding"][0];
    assert_eq!(coding["code"], code, "{v}");
    assert_eq!(
        coding["system"],
        "http://fhir.nhs.net/ValueSet/gpconnect-error-or-warning-code-1"
    );
    assert!(coding["display"].is_string(), "{v}");
    v
}

// ---------------------------------------------------------------------------
// Demo practice data

/// A free slot as A1 returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeSlot {
    /// `Slot.id`.
    pub id: String,
    /// `Slot.start` (UK local time with offset).
    pub start: String,
    /// `Slot.end`.
    pub end: String,
    /// `Schedule/{id}`.
    pub schedule: String,
    /// `Location/{id}`: the schedule's surgery.
    pub location: String,
}

/// The UK date `days` after today, `yyyy-mm-dd`.
pub fn uk_date(days: i64) -> String {
    gpconnect_core::checks::datetime::uk_today(jiff::Timestamp::now())
        .checked_add(jiff::Span::new().days(days))
        .expect("date")
        .to_string()
}

/// The A1 query for free slots on the UK day `days` after today.
pub fn slot_query(days: i64) -> String {
    let day = uk_date(days);
    format!("start=ge{day}&end=le{day}&status=free&_include=Slot%3Aschedule")
}

/// The free slots of the UK day `days` after today (A1 over HTTP), in
/// start order.
pub fn free_slots(server: &Server, days: i64) -> Vec<FreeSlot> {
    let r = server
        .stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
        .query(&slot_query(days))
        .send();
    let v = ok_json(&r, 200);
    let resources: Vec<&Value> = v["entry"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| &e["resource"])
        .collect();
    let location_of = |schedule: &str| -> String {
        resources
            .iter()
            .filter(|r| r["resourceType"] == "Schedule")
            .find(|r| format!("Schedule/{}", r["id"].as_str().unwrap_or_default()) == schedule)
            .and_then(|r| {
                r["actor"].as_array()?.iter().find_map(|a| {
                    a["reference"]
                        .as_str()
                        .filter(|r| r.starts_with("Location/"))
                        .map(str::to_owned)
                })
            })
            .unwrap_or_else(|| panic!("{schedule} has no Location in the searchset"))
    };
    let mut slots: Vec<FreeSlot> = resources
        .iter()
        .filter(|r| r["resourceType"] == "Slot")
        .map(|r| FreeSlot {
            location: location_of(r["schedule"]["reference"].as_str().unwrap_or_default()),
            id: r["id"].as_str().expect("id").to_owned(),
            start: r["start"].as_str().expect("start").to_owned(),
            end: r["end"].as_str().expect("end").to_owned(),
            schedule: r["schedule"]["reference"]
                .as_str()
                .expect("schedule")
                .to_owned(),
        })
        .collect();
    slots.sort_by(|a, b| (&a.start, &a.id).cmp(&(&b.start, &b.id)));
    slots
}

/// The free slot `id` (of day `days`).
#[track_caller]
pub fn slot(server: &Server, days: i64, id: &str) -> FreeSlot {
    free_slots(server, days)
        .into_iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("slot {id} is not free on day {days}"))
}

/// The book request (A2) for patient 2 at the slots' Location, in `slots`
/// (start of the first, end of the last).
pub fn book_body(slots: &[&FreeSlot]) -> Value {
    book_body_for("2", slots)
}

/// The book request for `patient` in `slots`.
pub fn book_body_for(patient: &str, slots: &[&FreeSlot]) -> Value {
    let first = slots.first().expect("a slot");
    let last = slots.last().expect("a slot");
    json!({
        "resourceType": "Appointment",
        "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1"]},
        "contained": [{
            "resourceType": "Organization",
            "id": "1",
            "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"]},
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": CONSUMER_ODS}],
            "name": "Consumer Surgery",
            "telecom": [{"system": "phone", "value": "0300 303 5678"}]
        }],
        "extension": [{
            "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1",
            "valueReference": {"reference": "#1"}
        }],
        "status": "booked",
        "description": "Free text description.",
        "start": first.start,
        "end": last.end,
        "slot": slots.iter().map(|s| json!({"reference": format!("Slot/{}", s.id)})).collect::<Vec<_>>(),
        "created": gpconnect_core::checks::datetime::format_uk_local(jiff::Timestamp::now()),
        "comment": "Free text comment.",
        "participant": [
            {"actor": {"reference": format!("Patient/{patient}")}, "status": "accepted"},
            {"actor": {"reference": first.location}, "status": "accepted"}
        ]
    })
}

/// Book `slots` for patient 2; the raw response.
pub fn book(server: &Server, slots: &[&FreeSlot]) -> Resp {
    server
        .stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .json(&book_body(slots))
        .send()
}

/// Book `slots` for patient 2; the created Appointment and its ETag.
#[track_caller]
pub fn booked(server: &Server, slots: &[&FreeSlot]) -> (Value, String) {
    let r = book(server, slots);
    let v = ok_json(&r, 201);
    let etag = r.header("ETag").expect("ETag").to_owned();
    (v, etag)
}

/// `appointment` turned into a cancel request (A5).
pub fn cancelled(mut appointment: Value) -> Value {
    appointment["status"] = json!("cancelled");
    if let Some(ext) = appointment["extension"].as_array_mut() {
        ext.push(json!({
            "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1",
            "valueString": "Patient no longer needs it"
        }));
    }
    appointment
}

/// The register request (F4) for a person on the demo PDS.
pub fn register_body(nhs: &str, family: &str, given: &str, birth_date: &str) -> Value {
    json!({
        "resourceType": "Parameters",
        "parameter": [{
            "name": "registerPatient",
            "resource": {
                "resourceType": "Patient",
                "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1"]},
                "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
                "name": [{"use": "official", "family": family, "given": [given]}],
                "gender": "female",
                "birthDate": birth_date
            }
        }]
    })
}

/// A getcarerecord Parameters body for `nhs` and `section`.
pub fn care_record_body(nhs: &str, section: &str) -> Value {
    json!({
        "resourceType": "Parameters",
        "parameter": [
            {"name": "patientNHSNumber", "valueIdentifier": {"system": "http://fhir.nhs.net/Id/nhs-number", "value": nhs}},
            {"name": "recordSection", "valueCodeableConcept": {"coding": [
                {"system": "http://fhir.nhs.net/ValueSet/gpconnect-record-section-1", "code": section}
            ]}}
        ]
    })
}

// ---------------------------------------------------------------------------
// Raw HTTP, for what a well-behaved client cannot send

/// Write `request` bytes to the server on a fresh connection and read
/// until the server closes; what came back. Panics if the server neither
/// answers-and-closes nor closes within `limit`. Requests should say
/// `Connection: close`.
pub fn raw_exchange(addr: SocketAddr, request: &[u8], limit: Duration) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(limit)).expect("timeout");
    stream.set_write_timeout(Some(limit)).expect("timeout");
    // The server may answer and close before it has read everything. The
    // write side stays open: hyper drops a connection whose client
    // half-closes before the answer is written.
    let _ = stream.write_all(request);
    let mut out = Vec::new();
    if let Err(e) = stream.read_to_end(&mut out) {
        // A reset is the server closing on us; silence is a hang.
        assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "no answer and no close within {limit:?}; got {:?}",
            String::from_utf8_lossy(&out[..out.len().min(300)])
        );
    }
    out
}

/// The status code of a raw HTTP/1.1 response.
pub fn raw_status(response: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(response);
    let line = text.lines().next()?;
    let mut parts = line.split(' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// A GET request line plus the valid SSP headers for `interaction`, as raw
/// HTTP/1.1 text (without the terminating blank line).
pub fn raw_headers(method: &str, path: &str, interaction: Interaction, addr: SocketAddr) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nSsp-TraceID: {TRACE_ID}\r\nSsp-From: 200000000359\r\nSsp-To: {ASID}\r\nSsp-InteractionID: {}\r\nAuthorization: Bearer {}\r\n",
        interaction.interaction_id(),
        token_for(interaction, None)
    )
}
