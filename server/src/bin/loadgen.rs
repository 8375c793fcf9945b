//! `loadgen`: books appointments over HTTP with K concurrent clients and
//! reports bookings per second and latency percentiles.
//!
//! ```text
//! cargo run --release -p gpconnect-server --bin loadgen -- --clients 8 --bookings 20000
//! cargo run --release -p gpconnect-server --bin loadgen -- --url http://127.0.0.1:8080 --duration 10
//! ```
//!
//! - **Target.** With `--url` it drives a running server (the demo practice
//!   A00001 unless `--practice`/`--asid` say otherwise). Without it, it
//!   starts `gpconnect serve --demo --durability D` (the `gpconnect` binary
//!   next to its own, or `--gpconnect`) on a fresh temporary directory and,
//!   because the demo's 3,360 future slots last well under a second at the
//!   target rate, imports a generated load practice `L00001` (ASID
//!   900000000002) with enough ten-minute slots for the run (`--schedules`;
//!   by default enough for `--bookings`), and books there. The directory is
//!   removed afterwards.
//! - **Slots.** Free slots are fetched first with A1 (one search per UK day,
//!   today through +14 days), those starting within two minutes dropped,
//!   and dealt round-robin to the clients, so no two clients ever want the
//!   same slot: every booking should be a 201.
//! - **When a client runs out of slots** (`--on-exhaustion`): `rebook`
//!   (default) cancels its oldest booking (A5, with `If-Match`), which frees
//!   that slot (R42), and books it again; cancels are counted and timed
//!   separately and do not count as bookings. `stop` ends that client.
//! - **Clients.** One thread and one keep-alive connection each (ureq), a
//!   fresh JWT per request (§3.1), the five SSP headers, a JSON body.
//!   Latency is measured per request, from sending to having read the
//!   whole answer.
//!
//! - **`--in-process`** books through `Engine::handle` directly, with the
//!   same store, durability, audit log and requests, but no HTTP and no
//!   server process: the difference from an HTTP run is what HTTP costs.
//!
//! It prints bookings/s, p50/p99/max latency, errors by status, K, the
//! durability, the machine (`nproc`, the CPU model), and the CPU time the
//! server process and loadgen itself spent per booking (from
//! `/proc/PID/stat`, when loadgen started the server), which on a shared
//! machine says more than the rate; `--json` prints the same as one JSON
//! object.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use gpconnect_core::checks::datetime::{format_uk_local, uk_start_of_day, uk_today};
use gpconnect_core::checks::headers::Interaction;
use gpconnect_core::clock::SystemClock;
use gpconnect_core::engine::token::TokenSpec;
use gpconnect_core::engine::{Engine, EngineConfig, HttpRequest};
use gpconnect_core::foundations::LocalPds;
use gpconnect_core::store::PracticeStore;
use gpconnect_server::audit::AuditLog;
use gpconnect_server::serve::{DurabilityArg, PracticePds, import_files, open_store, software};
use jiff::{SignedDuration, Span, Timestamp};
use serde_json::{Value, json};

/// The allocator the `gpconnect` binary uses, so `--in-process` runs the
/// engine as the server does, and the client threads cost less CPU beside
/// the server they measure.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The demo practice.
const DEMO_ODS: &str = "A00001";
const DEMO_ASID: &str = "900000000001";
/// The generated load practice.
const LOAD_ODS: &str = "L00001";
const LOAD_ASID: &str = "900000000002";
/// Ten-minute slots 08:00–18:00 per schedule per day.
const SLOTS_PER_DAY: i64 = 60;
/// Days of slots in the generated practice (tomorrow through +14).
const LOAD_DAYS: i64 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OnExhaustion {
    /// Cancel the client's oldest booking and book its slot again.
    Rebook,
    /// The client stops.
    Stop,
}

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Book GP Connect appointments over HTTP with K concurrent clients and report bookings/s and latency"
)]
struct Args {
    /// A running server (`http://HOST:PORT`). Without it, loadgen starts
    /// `gpconnect serve --demo` on a temporary directory.
    #[arg(long)]
    url: Option<String>,
    /// Concurrent clients (threads, one keep-alive connection each).
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Bookings to make (all clients together). Default 20000 unless
    /// --duration is given.
    #[arg(long)]
    bookings: Option<u64>,
    /// Book for this many seconds instead of a count.
    #[arg(long)]
    duration: Option<f64>,
    /// Durability of the server loadgen starts (ignored with --url).
    #[arg(long, value_enum, default_value = "immediate")]
    durability: DurabilityArg,
    /// What a client does when its slots run out.
    #[arg(long, value_enum, default_value = "rebook")]
    on_exhaustion: OnExhaustion,
    /// The practice to book at (default: A00001 with --url, the generated
    /// L00001 otherwise).
    #[arg(long)]
    practice: Option<String>,
    /// The practice's ASID (Ssp-To), needed with --practice on --url.
    #[arg(long)]
    asid: Option<String>,
    /// Schedules in the generated load practice (840 slots each). Default:
    /// enough for --bookings; 60 (50,400 slots) with --duration.
    #[arg(long)]
    schedules: Option<u64>,
    /// The gpconnect binary to start (default: next to this one).
    #[arg(long)]
    gpconnect: Option<PathBuf>,
    /// Book through the engine in this process (no HTTP, no server
    /// process) to separate the engine's cost from HTTP's.
    #[arg(long, conflicts_with = "url")]
    in_process: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What loadgen started: a server process (killed on drop) or an engine in
/// this process; its directory is removed on drop.
struct Own {
    child: Option<Child>,
    dir: PathBuf,
}

impl Drop for Own {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A slot to book.
#[derive(Debug, Clone)]
struct Slot {
    id: String,
    start: String,
    end: String,
    location: String,
}

/// What one client measured.
#[derive(Debug, Default)]
struct ClientResult {
    booking_micros: Vec<u32>,
    cancel_micros: Vec<u32>,
    errors: Vec<String>,
}

fn run(args: Args) -> Result<bool, String> {
    if args.clients == 0 {
        return Err("--clients must be at least 1".to_owned());
    }
    let target_bookings = match (args.bookings, args.duration) {
        (Some(_), Some(_)) => return Err("give --bookings or --duration, not both".to_owned()),
        (Some(n), None) => Some(n),
        (None, Some(_)) => None,
        (None, None) => Some(20_000),
    };
    let durability_name = args.durability.name();
    let mut own: Option<Own> = None;
    let mut server_pid: Option<u32> = None;
    let (transport, ods, asid, durability, server) = match &args.url {
        Some(url) => {
            let ods = args.practice.clone().unwrap_or_else(|| DEMO_ODS.to_owned());
            let asid = match (&args.asid, ods.as_str()) {
                (Some(a), _) => a.clone(),
                (None, DEMO_ODS) => DEMO_ASID.to_owned(),
                (None, _) => return Err("--asid is needed with --practice".to_owned()),
            };
            (
                Transport::Http(url.trim_end_matches('/').to_owned()),
                ods,
                asid,
                "as configured on the server".to_owned(),
                "external".to_owned(),
            )
        }
        None => {
            let schedules = args.schedules.unwrap_or_else(|| {
                let per_schedule = (SLOTS_PER_DAY * LOAD_DAYS) as u64;
                target_bookings.map_or(60, |n| n.div_ceil(per_schedule) + 1)
            });
            let dir = temp_dir()?;
            let practice = dir.join("load-practice.json");
            std::fs::write(&practice, load_practice(Timestamp::now(), schedules)?)
                .map_err(|e| format!("{}: {e}", practice.display()))?;
            let (transport, server) = if args.in_process {
                let engine = in_process_engine(&dir, &practice, &args)?;
                own = Some(Own { child: None, dir });
                (
                    transport_engine(engine),
                    format!(
                        "in process: Engine::handle over the sled store, no HTTP ({schedules} schedules)"
                    ),
                )
            } else {
                let (child, base) = start_server(&args, &dir, &practice)?;
                server_pid = Some(child.id());
                own = Some(Own {
                    child: Some(child),
                    dir,
                });
                (
                    Transport::Http(base),
                    format!(
                        "started by loadgen: gpconnect serve --demo --durability {durability_name} --import <{schedules} schedules>"
                    ),
                )
            };
            let ods = args.practice.clone().unwrap_or_else(|| LOAD_ODS.to_owned());
            let asid = args.asid.clone().unwrap_or_else(|| {
                if ods == DEMO_ODS {
                    DEMO_ASID.to_owned()
                } else {
                    LOAD_ASID.to_owned()
                }
            });
            (transport, ods, asid, durability_name.to_owned(), server)
        }
    };
    let target = Target {
        transport,
        root: format!("/{ods}/STU3/1/gpconnect"),
        asid,
    };

    let fetch_started = Instant::now();
    let slots = fetch_free_slots(&target, target_bookings)?;
    let fetch_secs = fetch_started.elapsed().as_secs_f64();
    if slots.is_empty() {
        return Err(format!("no free slots at {}", target.display()));
    }
    let mut per_client: Vec<VecDeque<Slot>> = vec![VecDeque::new(); args.clients];
    let wanted = target_bookings.map_or(usize::MAX, |n| n as usize);
    for (n, slot) in slots.iter().take(wanted).enumerate() {
        per_client[n % args.clients].push_back(slot.clone());
    }
    let quota: Vec<Option<u64>> = (0..args.clients)
        .map(|c| {
            target_bookings.map(|n| {
                let k = args.clients as u64;
                n / k + u64::from((c as u64) < n % k)
            })
        })
        .collect();

    let deadline = args.duration.map(Duration::from_secs_f64);
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(args.clients + 1));
    let handles: Vec<_> = per_client
        .into_iter()
        .zip(quota)
        .map(|(slots, quota)| {
            let target = target.clone();
            let stop = Arc::clone(&stop);
            let barrier = Arc::clone(&barrier);
            let on_exhaustion = args.on_exhaustion;
            std::thread::spawn(move || {
                client(&target, slots, quota, on_exhaustion, &stop, &barrier)
            })
        })
        .collect();
    barrier.wait();
    let began = Instant::now();
    let server_cpu_before = server_pid.and_then(process_cpu_secs);
    let own_cpu_before = process_cpu_secs(std::process::id());
    if let Some(limit) = deadline {
        std::thread::sleep(limit);
        stop.store(true, Ordering::Relaxed);
    }
    let results: Vec<ClientResult> = handles
        .into_iter()
        .map(|h| h.join().map_err(|_| "a client thread panicked".to_owned()))
        .collect::<Result<_, _>>()?;
    let elapsed = began.elapsed().as_secs_f64();
    let server_cpu = server_pid
        .and_then(process_cpu_secs)
        .zip(server_cpu_before)
        .map(|(after, before)| after - before);
    let own_cpu = process_cpu_secs(std::process::id())
        .zip(own_cpu_before)
        .map(|(after, before)| after - before);
    drop(own);

    let mut bookings: Vec<u32> = results
        .iter()
        .flat_map(|r| r.booking_micros.iter().copied())
        .collect();
    let mut cancels: Vec<u32> = results
        .iter()
        .flat_map(|r| r.cancel_micros.iter().copied())
        .collect();
    let errors: Vec<&String> = results.iter().flat_map(|r| &r.errors).collect();
    bookings.sort_unstable();
    cancels.sort_unstable();
    let mut error_kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    for e in &errors {
        *error_kinds
            .entry(e.split(':').next().unwrap_or(e))
            .or_default() += 1;
    }
    let ms = |micros: Option<u32>| micros.map_or(0.0, |m| f64::from(m) / 1000.0);
    let (nproc, cpu) = machine();
    let requests = (bookings.len() + cancels.len() + errors.len()).max(1) as f64;
    let per_request_micros = |cpu: Option<f64>| cpu.map(|c| c * 1e6 / requests);
    let report = json!({
        "target": target.display(),
        "server": server,
        "durability": durability,
        "clients": args.clients,
        "bookings": bookings.len(),
        "cancels": cancels.len(),
        "errors": errors.len(),
        "error_kinds": error_kinds,
        "elapsed_s": elapsed,
        "bookings_per_s": bookings.len() as f64 / elapsed,
        "requests_per_s": (bookings.len() + cancels.len() + errors.len()) as f64 / elapsed,
        "booking_latency_ms": {
            "p50": ms(percentile(&bookings, 50.0)),
            "p99": ms(percentile(&bookings, 99.0)),
            "max": ms(bookings.last().copied()),
        },
        "cancel_latency_ms": {
            "p50": ms(percentile(&cancels, 50.0)),
            "p99": ms(percentile(&cancels, 99.0)),
            "max": ms(cancels.last().copied()),
        },
        "free_slots_found": slots.len(),
        "slot_fetch_s": fetch_secs,
        "on_exhaustion": format!("{:?}", args.on_exhaustion).to_lowercase(),
        "nproc": nproc,
        "cpu": cpu,
        "server_cpu_s": server_cpu,
        "loadgen_cpu_s": own_cpu,
        "server_cpu_us_per_request": per_request_micros(server_cpu),
        "loadgen_cpu_us_per_request": per_request_micros(own_cpu),
    });
    if args.json {
        println!("{report}");
    } else {
        print_report(&report);
        for e in errors.iter().take(5) {
            println!("  e.g. {e}");
        }
    }
    Ok(errors.is_empty())
}

fn print_report(r: &Value) {
    let f = |v: &Value| v.as_f64().unwrap_or_default();
    println!("gpconnect loadgen");
    println!(
        "  target       {} ({})",
        r["target"].as_str().unwrap_or_default(),
        r["server"].as_str().unwrap_or_default()
    );
    println!(
        "  machine      nproc {}, {}",
        r["nproc"],
        r["cpu"].as_str().unwrap_or_default()
    );
    println!(
        "  clients      {} (one keep-alive connection each)",
        r["clients"]
    );
    println!(
        "  durability   {}",
        r["durability"].as_str().unwrap_or_default()
    );
    println!(
        "  slots        {} free found in {:.2} s; on exhaustion: {}",
        r["free_slots_found"],
        f(&r["slot_fetch_s"]),
        r["on_exhaustion"].as_str().unwrap_or_default()
    );
    println!(
        "  bookings     {} in {:.2} s = {:.0} bookings/s",
        r["bookings"],
        f(&r["elapsed_s"]),
        f(&r["bookings_per_s"])
    );
    let l = &r["booking_latency_ms"];
    println!(
        "  latency      p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        f(&l["p50"]),
        f(&l["p99"]),
        f(&l["max"])
    );
    if r["cancels"].as_u64().unwrap_or_default() > 0 {
        let c = &r["cancel_latency_ms"];
        println!(
            "  cancels      {} (to free slots for re-booking): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            r["cancels"],
            f(&c["p50"]),
            f(&c["p99"]),
            f(&c["max"])
        );
    }
    println!("  errors       {} {}", r["errors"], r["error_kinds"]);
    let cpu = |key: &str| r[key].as_f64().map(|v| format!("{v:.0} us"));
    if let Some(own) = cpu("loadgen_cpu_us_per_request") {
        match cpu("server_cpu_us_per_request") {
            Some(server) => println!(
                "  CPU/request  server {server}, loadgen {own} (user+system time over the run)"
            ),
            None => println!("  CPU/request  loadgen {own} (user+system time over the run)"),
        }
    }
}

/// User + system CPU seconds of process `pid` so far (`/proc/PID/stat`,
/// fields 14 and 15, in USER_HZ = 100 ticks a second).
fn process_cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: fields after its ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// The `p`th percentile (nearest rank) of sorted `v`.
fn percentile(v: &[u32], p: f64) -> Option<u32> {
    if v.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v.get(rank.clamp(1, v.len()) - 1).copied()
}

/// `nproc` and the CPU model from /proc/cpuinfo.
fn machine() -> (usize, String) {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    (nproc, cpu)
}

// ---------------------------------------------------------------------------
// Talking to the server

/// How requests reach the engine.
#[derive(Clone)]
enum Transport {
    /// Over HTTP to `http://HOST:PORT`.
    Http(String),
    /// Straight into an engine in this process, auditing like the server.
    Engine(Arc<Engine>, Arc<AuditLog>),
}

fn transport_engine((engine, audit): (Arc<Engine>, Arc<AuditLog>)) -> Transport {
    Transport::Engine(engine, audit)
}

#[derive(Clone)]
struct Target {
    transport: Transport,
    /// The STU3 service root path (`/L00001/STU3/1/gpconnect`).
    root: String,
    /// `Ssp-To`.
    asid: String,
}

impl Target {
    fn display(&self) -> String {
        match &self.transport {
            Transport::Http(base) => format!("{base}{}", self.root),
            Transport::Engine(..) => format!("(in process){}", self.root),
        }
    }
}

/// One client's connection: a keep-alive HTTP agent, or nothing.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .accept("")
        .accept_encoding("")
        .user_agent("gpconnect-loadgen")
        .timeout_global(Some(Duration::from_secs(60)))
        .max_idle_connections_per_host(1)
        .build()
        .new_agent()
}

/// Tokens, one per interaction, re-minted every [`TOKEN_REFRESH`]: GP
/// Connect consumers mint one per request (§3.1), but the provider cannot
/// tell, and minting (claims JSON, base64, self-validation) would otherwise
/// be a good share of the load generator's own CPU on a small machine.
#[derive(Debug, Default)]
struct Tokens {
    minted: Vec<(Interaction, Instant, String)>,
}

/// How long a cached token is reused (they are valid for 300 s).
const TOKEN_REFRESH: Duration = Duration::from_secs(30);

impl Tokens {
    fn bearer(&mut self, interaction: Interaction) -> Result<&str, String> {
        let now = Instant::now();
        let fresh = |at: &Instant| now.duration_since(*at) < TOKEN_REFRESH;
        let pos = self
            .minted
            .iter()
            .position(|(i, at, _)| *i == interaction && fresh(at));
        let pos = match pos {
            Some(pos) => pos,
            None => {
                let token = TokenSpec::for_interaction(interaction, "B82001", Timestamp::now())
                    .encode()
                    .map_err(|e| format!("minting a token: {e}"))?;
                self.minted.retain(|(i, _, _)| *i != interaction);
                self.minted
                    .push((interaction, now, format!("Bearer {token}")));
                self.minted.len() - 1
            }
        };
        Ok(self.minted[pos].2.as_str())
    }
}

/// One call: method, path under the service root, query, extra headers,
/// body.
struct Call<'a> {
    interaction: Interaction,
    method: &'a str,
    rel: &'a str,
    query: &'a str,
    extra: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

/// Send `call` with the five SSP headers and a token from `tokens`; the
/// status, ETag and body of the answer.
fn exchange(
    agent: &ureq::Agent,
    tokens: &mut Tokens,
    target: &Target,
    call: Call<'_>,
) -> Result<(u16, Option<String>, Vec<u8>), String> {
    let authorization = tokens.bearer(call.interaction)?.to_owned();
    let mut headers: Vec<(&str, String)> = vec![
        (
            "Ssp-TraceID",
            "09a01679-2564-0fb4-5129-aecc81ea2706".to_owned(),
        ),
        ("Ssp-From", "200000000359".to_owned()),
        ("Ssp-To", target.asid.clone()),
        (
            "Ssp-InteractionID",
            call.interaction.interaction_id().to_owned(),
        ),
        ("Authorization", authorization),
    ];
    headers.extend(call.extra);
    let path = format!("{}{}", target.root, call.rel);
    match &target.transport {
        Transport::Http(base) => {
            let url = if call.query.is_empty() {
                format!("{base}{path}")
            } else {
                format!("{base}{path}?{}", call.query)
            };
            let mut builder = ureq::http::Request::builder().method(call.method).uri(url);
            for (k, v) in &headers {
                builder = builder.header(*k, v.as_str());
            }
            let request = builder.body(call.body).map_err(|e| e.to_string())?;
            let response = agent.run(request).map_err(|e| format!("transport: {e}"))?;
            let status = response.status().as_u16();
            let etag = response
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response
                .into_body()
                .with_config()
                .limit(256 * 1024 * 1024)
                .read_to_vec()
                .map_err(|e| format!("transport: {e}"))?;
            Ok((status, etag, body))
        }
        Transport::Engine(engine, audit) => {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = engine.handle(&HttpRequest {
                method: call.method,
                path: &path,
                query: call.query,
                headers: &headers,
                body: &call.body,
            });
            audit.record(&response.audit);
            let etag = response.header("ETag").map(str::to_owned);
            Ok((response.status, etag, response.body))
        }
    }
}

/// The free slots from today through +14 days that start more than two
/// minutes from now (A1, one UK day at a time), stopping after the day
/// that brings the count to `enough`.
fn fetch_free_slots(target: &Target, enough: Option<u64>) -> Result<Vec<Slot>, String> {
    let agent = agent();
    let mut tokens = Tokens::default();
    let now = Timestamp::now();
    let soon = now + SignedDuration::from_mins(2);
    let today = uk_today(now);
    let mut slots = Vec::new();
    for d in 0..=14 {
        if enough.is_some_and(|n| slots.len() as u64 >= n) {
            break;
        }
        let day = today
            .checked_add(Span::new().days(d))
            .map_err(|e| e.to_string())?;
        let query = format!("start=ge{day}&end=le{day}&status=free&_include=Slot%3Aschedule");
        let (status, _, body) = exchange(
            &agent,
            &mut tokens,
            target,
            Call {
                interaction: Interaction::SearchFreeSlots,
                method: "GET",
                rel: "/Slot",
                query: &query,
                extra: Vec::new(),
                body: Vec::new(),
            },
        )?;
        if status != 200 {
            return Err(format!(
                "slot search {query}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let bundle: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let resources: Vec<&Value> = bundle["entry"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|e| &e["resource"])
            .collect();
        // Schedule id → its Location reference.
        let locations: std::collections::HashMap<&str, &str> = resources
            .iter()
            .filter(|r| r["resourceType"] == "Schedule")
            .filter_map(|r| {
                let location = r["actor"].as_array()?.iter().find_map(|a| {
                    a["reference"]
                        .as_str()
                        .filter(|r| r.starts_with("Location/"))
                })?;
                Some((r["id"].as_str()?, location))
            })
            .collect();
        let location_of = |schedule: &str| {
            schedule
                .strip_prefix("Schedule/")
                .and_then(|id| locations.get(id))
                .map(|l| (*l).to_owned())
        };
        for r in resources.iter().filter(|r| r["resourceType"] == "Slot") {
            let (Some(id), Some(start), Some(end), Some(schedule)) = (
                r["id"].as_str(),
                r["start"].as_str(),
                r["end"].as_str(),
                r["schedule"]["reference"].as_str(),
            ) else {
                continue;
            };
            let starts: Timestamp = start.parse().map_err(|e| format!("{start}: {e}"))?;
            if starts <= soon {
                continue;
            }
            let Some(location) = location_of(schedule) else {
                continue;
            };
            slots.push(Slot {
                id: id.to_owned(),
                start: start.to_owned(),
                end: end.to_owned(),
                location,
            });
        }
    }
    Ok(slots)
}

/// The book request (A2): the same JSON every time but for the slot, its
/// times and Location, and the patient, so it is formatted rather than
/// built as a tree (the ids and times need no JSON escaping).
fn book_body(slot: &Slot, patient: &str, created: &str) -> Vec<u8> {
    format!(
        concat!(
            r#"{{"resourceType":"Appointment","#,
            r#""meta":{{"profile":["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1"]}},"#,
            r#""contained":[{{"resourceType":"Organization","id":"1","#,
            r#""meta":{{"profile":["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"]}},"#,
            r#""identifier":[{{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"B82001"}}],"#,
            r#""name":"Consumer Surgery","telecom":[{{"system":"phone","value":"0300 303 5678"}}]}}],"#,
            r##""extension":[{{"url":"https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1","valueReference":{{"reference":"#1"}}}}],"##,
            r#""status":"booked","description":"Load test booking","start":"{start}","end":"{end}","#,
            r#""slot":[{{"reference":"Slot/{slot}"}}],"created":"{created}","#,
            r#""participant":[{{"actor":{{"reference":"Patient/{patient}"}},"status":"accepted"}},"#,
            r#"{{"actor":{{"reference":"{location}"}},"status":"accepted"}}]}}"#
        ),
        start = slot.start,
        end = slot.end,
        slot = slot.id,
        created = created,
        patient = patient,
        location = slot.location,
    )
    .into_bytes()
}

/// One client: book its slots (and, per `on_exhaustion`, cancel and re-book
/// them) until its quota is met, `stop` is set, or it has nothing to do.
fn client(
    target: &Target,
    mut free: VecDeque<Slot>,
    quota: Option<u64>,
    on_exhaustion: OnExhaustion,
    stop: &AtomicBool,
    barrier: &Barrier,
) -> ClientResult {
    let agent = agent();
    let mut tokens = Tokens::default();
    let mut result = ClientResult::default();
    // Booked by this client: (slot, ETag, the Appointment as returned),
    // parsed only when it is cancelled.
    let mut held: VecDeque<(Slot, String, Vec<u8>)> = VecDeque::new();
    // Open the connection before the clock starts.
    let warm = exchange(
        &agent,
        &mut tokens,
        target,
        Call {
            interaction: Interaction::GetCapabilityStatement,
            method: "GET",
            rel: "/metadata",
            query: "",
            extra: Vec::new(),
            body: Vec::new(),
        },
    );
    barrier.wait();
    if let Err(e) = warm {
        result.errors.push(format!("warm-up: {e}"));
        return result;
    }
    let created = format_uk_local(Timestamp::now());
    let mut n: u64 = 0;
    loop {
        if stop.load(Ordering::Relaxed) || quota.is_some_and(|q| n >= q) {
            break;
        }
        let slot = match free.pop_front() {
            Some(slot) => slot,
            None => {
                if on_exhaustion == OnExhaustion::Stop {
                    break;
                }
                let Some((slot, etag, body)) = held.pop_front() else {
                    break;
                };
                let mut appointment: Value = serde_json::from_slice(&body).unwrap_or_default();
                let id = appointment["id"].as_str().unwrap_or_default().to_owned();
                appointment["status"] = json!("cancelled");
                if let Some(ext) = appointment["extension"].as_array_mut() {
                    ext.push(json!({
                        "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1",
                        "valueString": "Load test: freeing the slot"
                    }));
                }
                let rel = format!("/Appointment/{id}");
                let sent = Instant::now();
                let outcome = exchange(
                    &agent,
                    &mut tokens,
                    target,
                    Call {
                        interaction: Interaction::CancelAppointment,
                        method: "PUT",
                        rel: &rel,
                        query: "",
                        extra: vec![
                            ("Content-Type", "application/fhir+json".to_owned()),
                            ("If-Match", etag),
                        ],
                        body: appointment.to_string().into_bytes(),
                    },
                );
                let micros = elapsed_micros(sent);
                match outcome {
                    Ok((200, _, _)) => result.cancel_micros.push(micros),
                    Ok((status, _, body)) => {
                        result.errors.push(format!(
                            "cancel {status}: {}",
                            String::from_utf8_lossy(&body)
                        ));
                        continue;
                    }
                    Err(e) => {
                        result.errors.push(format!("cancel {e}"));
                        break;
                    }
                }
                slot
            }
        };
        let patient = if n % 2 == 0 { "2" } else { "3" };
        let body = book_body(&slot, patient, &created);
        let sent = Instant::now();
        let outcome = exchange(
            &agent,
            &mut tokens,
            target,
            Call {
                interaction: Interaction::BookAppointment,
                method: "POST",
                rel: "/Appointment",
                query: "",
                extra: vec![("Content-Type", "application/fhir+json".to_owned())],
                body,
            },
        );
        let micros = elapsed_micros(sent);
        n += 1;
        match outcome {
            Ok((201, Some(etag), body)) => {
                result.booking_micros.push(micros);
                if on_exhaustion == OnExhaustion::Rebook {
                    held.push_back((slot, etag, body));
                }
            }
            Ok((status, _, body)) => result
                .errors
                .push(format!("book {status}: {}", String::from_utf8_lossy(&body))),
            Err(e) => {
                result.errors.push(format!("book {e}"));
                break;
            }
        }
    }
    result
}

fn elapsed_micros(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------
// Starting a server

/// A fresh directory under the system's temporary directory.
fn temp_dir() -> Result<PathBuf, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir =
        std::env::temp_dir().join(format!("gpconnect-loadgen-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// `gpconnect serve --demo --durability D --import PRACTICE` on `dir`; the
/// process and its base URL.
fn start_server(args: &Args, dir: &Path, practice: &Path) -> Result<(Child, String), String> {
    let binary = match &args.gpconnect {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("gpconnect"),
    };
    let durability = args.durability.name();
    let mut child = Command::new(&binary)
        .arg("serve")
        .arg("--data")
        .arg(dir.join("data"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--durability",
            durability,
        ])
        .arg("--import")
        .arg(practice)
        .env("GPCONNECT_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        return Err("no stdout".to_owned());
    };
    let mut lines = BufReader::new(stdout);
    let mut first = String::new();
    let read = lines.read_line(&mut first);
    let Some(base) = first.trim().strip_prefix("gpconnect listening on ") else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("the server did not start: {first:?} {read:?}"));
    };
    let base = base.to_owned();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = lines.read_to_end(&mut sink);
    });
    Ok((child, base))
}

/// The engine `gpconnect serve` would build, over a sled store in `dir`
/// holding `practice`, with its audit log.
fn in_process_engine(
    dir: &Path,
    practice: &Path,
    args: &Args,
) -> Result<(Arc<Engine>, Arc<AuditLog>), String> {
    let durability = args.durability.durability();
    let store = Arc::new(open_store(&dir.join("data"), durability).map_err(|e| e.to_string())?);
    import_files(&*store, &[practice.to_path_buf()]).map_err(|e| e.to_string())?;
    let pds = PracticePds::new(
        Arc::clone(&store) as Arc<dyn PracticeStore>,
        LocalPds::default(),
    );
    let engine = Engine::new(
        store as Arc<dyn PracticeStore>,
        Arc::new(SystemClock),
        Arc::new(pds),
        EngineConfig::new(software()),
    )
    .map_err(|e| e.to_string())?;
    let audit = AuditLog::open(&dir.join("audit.jsonl")).map_err(|e| e.to_string())?;
    Ok((Arc::new(engine), Arc::new(audit)))
}

/// The load practice as an import bundle (docs/import.md): the example
/// practice's organisation, surgery, practitioner and active patients under
/// ODS L00001 / ASID 900000000002, with `schedules` schedules of ten-minute
/// slots 08:00–18:00 UK time for the 14 days after `now`'s UK day.
fn load_practice(now: Timestamp, schedules: u64) -> Result<Vec<u8>, String> {
    let example: Value = serde_json::from_str(include_str!("../../../examples/practice.json"))
        .map_err(|e| format!("examples/practice.json: {e}"))?;
    let mut entries: Vec<Value> = Vec::new();
    for entry in example["entry"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let r = &entry["resource"];
        let keep = matches!(
            (r["resourceType"].as_str(), r["id"].as_str()),
            (Some("Organization" | "Location" | "Practitioner"), _)
                | (Some("Patient"), Some("2" | "3"))
        );
        if !keep {
            continue;
        }
        let mut r = r.clone();
        if r["resourceType"] == "Organization" {
            // Switched on, without the example's booking window and
            // slot-count limits.
            if let Some(ext) = r["extension"].as_array_mut() {
                ext.retain(|e| e["url"].as_str().is_some_and(|u| u.ends_with("-enabled")));
            }
            r["identifier"] = json!([{
                "extension": [{"url": "urn:gpconnect:fhir:extension:asid", "valueString": LOAD_ASID}],
                "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                "value": LOAD_ODS
            }]);
            r["name"] = json!("Load Test Practice");
        }
        entries.push(json!({ "resource": r }));
    }
    let today = uk_today(now);
    let horizon_start = uk_start_of_day(today).map_err(|e| e.to_string())?;
    let horizon_end = horizon_start + SignedDuration::from_hours(24 * (LOAD_DAYS + 1));
    for s in 0..schedules {
        entries.push(json!({"resource": {
            "resourceType": "Schedule",
            "id": format!("L{s}"),
            "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Schedule-1"]},
            "extension": [{
                "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-PractitionerRole-1",
                "valueCodeableConcept": {"coding": [{
                    "system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1",
                    "code": "R0260",
                    "display": "General Medical Practitioner"
                }]}
            }],
            "serviceCategory": {"text": "General GP Appointments"},
            "actor": [{"reference": "Practitioner/2"}, {"reference": "Location/17"}],
            "planningHorizon": {"start": format_uk_local(horizon_start), "end": format_uk_local(horizon_end)}
        }}));
    }
    for day in 1..=LOAD_DAYS {
        let date = today
            .checked_add(Span::new().days(day))
            .map_err(|e| e.to_string())?;
        let midnight = uk_start_of_day(date).map_err(|e| e.to_string())?;
        for s in 0..schedules {
            for n in 0..SLOTS_PER_DAY {
                let start = midnight + SignedDuration::from_mins(8 * 60 + 10 * n);
                let end = start + SignedDuration::from_mins(10);
                entries.push(json!({"resource": {
                    "resourceType": "Slot",
                    "id": format!("L{s}-{day}-{n}"),
                    "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Slot-1"]},
                    "extension": [
                        {"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2", "valueCode": "In-person"},
                        {"url": "urn:gpconnect:fhir:extension:bookable", "valueBoolean": true}
                    ],
                    "serviceType": [{"text": "General GP Appointment"}],
                    "schedule": {"reference": format!("Schedule/L{s}")},
                    "status": "free",
                    "start": format_uk_local(start),
                    "end": format_uk_local(end)
                }}));
            }
        }
    }
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": entries});
    Ok(bundle.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn the_load_practice_imports_with_every_slot() {
        let now: Timestamp = "2026-11-26T10:00:00Z".parse().expect("time");
        let bytes = load_practice(now, 2).expect("bundle");
        let store = gpconnect_core::store::memory::MemoryStore::new();
        let report = gpconnect_core::import::import_practice(
            &store,
            &bytes,
            gpconnect_core::fhir::Format::Json,
        )
        .expect("a valid practice");
        assert_eq!(report.ods_code, LOAD_ODS);
        use gpconnect_core::store::PracticeStore;
        let practice = store.practice(LOAD_ODS).expect("read").expect("imported");
        assert_eq!(practice.asid, LOAD_ASID);
        assert!(practice.settings.appointments_enabled);
        assert!(practice.settings.slot_limits.is_empty());
        let slot = store
            .slot(LOAD_ODS, "L1-14-59")
            .expect("read")
            .expect("slot");
        assert!(slot.bookable);
        let slot = store.slot(LOAD_ODS, "L0-1-0").expect("read").expect("slot");
        assert_eq!(format_uk_local(slot.start), "2026-11-27T08:00:00+00:00");
    }
}
