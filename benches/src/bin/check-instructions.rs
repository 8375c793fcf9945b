//! Compare a run of the `instructions` bench with the committed baseline
//! (`benches/instructions-baseline.json`), or refresh that baseline.
//!
//! ```text
//! cargo bench -p gpconnect-benches --features instructions --bench instructions \
//!     -- --output-format=json > target/instructions.json
//! cargo run --release -p gpconnect-benches --features instructions \
//!     --bin check-instructions -- target/instructions.json
//! ```
//!
//! The input is gungraun's `--output-format=json`: one summary object a
//! line. Fails (exit 1) when a bench's instruction count (callgrind `Ir`)
//! exceeds its baseline by more than the baseline's `tolerance_percent`,
//! when a bench has no baseline, or when a baseline bench did not run.
//! With `GPCONNECT_BLESS=1` it writes the run's counts as the new baseline
//! instead (keeping the tolerance).

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde_json::{Value, json};

/// The committed baseline, beside this package's `Cargo.toml`.
const BASELINE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/instructions-baseline.json");

/// Tolerance of a baseline written without one (see
/// `BENCHMARKS.md` (Instruction counts) for why 25%).
const DEFAULT_TOLERANCE_PERCENT: u64 = 25;

/// Bench id (`group::function::id`) to instruction count.
type Counts = BTreeMap<String, u64>;

/// The committed figures.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Baseline {
    /// How far above its baseline a count may go before the check fails.
    tolerance_percent: u64,
    /// Toolchain the counts were measured with (for the reader of a
    /// failure: counts move with rustc, dependencies and valgrind).
    measured_with: String,
    instructions: Counts,
}

impl Baseline {
    fn parse(text: &str) -> Result<Baseline, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let tolerance_percent = v["tolerance_percent"]
            .as_u64()
            .ok_or("`tolerance_percent` must be a whole number")?;
        let measured_with = v["measured_with"].as_str().unwrap_or_default().to_owned();
        let instructions = v["instructions"]
            .as_object()
            .ok_or("`instructions` must be an object")?
            .iter()
            .map(|(id, n)| {
                n.as_u64()
                    .map(|n| (id.clone(), n))
                    .ok_or_else(|| format!("`instructions.{id}` must be a whole number"))
            })
            .collect::<Result<Counts, String>>()?;
        Ok(Baseline {
            tolerance_percent,
            measured_with,
            instructions,
        })
    }

    fn to_json(&self) -> String {
        let text = serde_json::to_string_pretty(&json!({
            "tolerance_percent": self.tolerance_percent,
            "measured_with": self.measured_with,
            "instructions": self.instructions,
        }))
        .unwrap_or_default();
        text + "\n"
    }

    /// The largest count `base` may grow to.
    fn limit(&self, base: u64) -> u64 {
        base.saturating_add(base.saturating_mul(self.tolerance_percent) / 100)
    }
}

/// The `Ir` of every bench in gungraun's JSON lines output. Lines that are
/// not JSON objects (anything a bench printed) are skipped.
fn parse_run(text: &str) -> Result<Counts, String> {
    let mut counts = Counts::new();
    for line in text.lines().map(str::trim) {
        if !line.starts_with('{') {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| format!("bad summary line: {e}"))?;
        let id = bench_id(&v).ok_or_else(|| format!("summary without a bench id: {line}"))?;
        let ir = instructions(&v).ok_or_else(|| format!("{id}: summary without callgrind Ir"))?;
        if counts.insert(id.clone(), ir).is_some() {
            return Err(format!("{id} appears twice in the run"));
        }
    }
    if counts.is_empty() {
        return Err(
            "no bench summaries in the input (was it run with --output-format=json?)".into(),
        );
    }
    Ok(counts)
}

/// `group::function::id`: the summary's module path without the bench
/// file's name, and the `#[bench::id]`.
fn bench_id(v: &Value) -> Option<String> {
    let module = v["module_path"].as_str()?;
    let module = module.split_once("::").map_or(module, |(_, rest)| rest);
    Some(match v["id"].as_str() {
        Some(id) => format!("{module}::{id}"),
        None => module.to_owned(),
    })
}

/// The new run's callgrind `Ir` total.
fn instructions(v: &Value) -> Option<u64> {
    let profile = v["profiles"]
        .as_array()?
        .iter()
        .find(|p| p["tool"] == "Callgrind")?;
    let metrics = &profile["summaries"]["total"]["summary"]["Callgrind"]["Ir"]["metrics"];
    // The new run is `Left`, or the first of `Both` when an old run exists.
    let new = metrics
        .get("Left")
        .or_else(|| metrics.get("Both").and_then(|b| b.get(0)))?;
    new.as_u64().or_else(|| new.get("Int")?.as_u64())
}

/// One line of the report; `failed` ones fail the check.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    id: String,
    base: Option<u64>,
    now: Option<u64>,
    failed: bool,
}

fn compare(baseline: &Baseline, run: &Counts) -> Vec<Finding> {
    let mut ids: Vec<&String> = baseline.instructions.keys().chain(run.keys()).collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let base = baseline.instructions.get(id).copied();
            let now = run.get(id).copied();
            let failed = match (base, now) {
                (Some(b), Some(n)) => n > baseline.limit(b),
                _ => true,
            };
            Finding {
                id: id.clone(),
                base,
                now,
                failed,
            }
        })
        .collect()
}

fn report(baseline: &Baseline, findings: &[Finding]) {
    eprintln!(
        "{:<48} {:>14} {:>14} {:>8}",
        "bench", "baseline Ir", "Ir", "change"
    );
    for f in findings {
        let show = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
        let change = match (f.base, f.now) {
            (Some(b), Some(n)) if b > 0 => format!("{:+.2}%", (n as f64 / b as f64 - 1.0) * 100.0),
            (None, Some(_)) => "new".to_owned(),
            (Some(_), None) => "missing".to_owned(),
            _ => String::new(),
        };
        let mark = if f.failed { "  FAIL" } else { "" };
        eprintln!(
            "{:<48} {:>14} {:>14} {:>8}{mark}",
            f.id,
            show(f.base),
            show(f.now),
            change
        );
    }
    eprintln!(
        "tolerance: +{}% over baseline; baseline measured with: {}",
        baseline.tolerance_percent,
        if baseline.measured_with.is_empty() {
            "(not recorded)"
        } else {
            &baseline.measured_with
        }
    );
}

/// `rustc` and valgrind versions, for the baseline's `measured_with`.
fn toolchain() -> String {
    let version = |cmd: &str, arg: &str| {
        std::process::Command::new(cmd)
            .arg(arg)
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("{cmd} unknown"))
    };
    format!(
        "{}; {}; {}",
        version(
            &std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()),
            "-V"
        ),
        version("valgrind", "--version"),
        std::env::consts::ARCH
    )
}

fn bless() -> bool {
    std::env::var("GPCONNECT_BLESS").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn run() -> Result<bool, String> {
    let path = std::env::args().nth(1).ok_or(
        "usage: check-instructions <file of `--output-format=json` output of the instructions bench>",
    )?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let run = parse_run(&text).map_err(|e| format!("{path}: {e}"))?;
    let committed = match std::fs::read_to_string(BASELINE) {
        Ok(text) => Some(Baseline::parse(&text).map_err(|e| format!("{BASELINE}: {e}"))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{BASELINE}: {e}")),
    };
    if bless() {
        let baseline = Baseline {
            tolerance_percent: committed
                .as_ref()
                .map_or(DEFAULT_TOLERANCE_PERCENT, |b| b.tolerance_percent),
            measured_with: toolchain(),
            instructions: run,
        };
        std::fs::write(BASELINE, baseline.to_json()).map_err(|e| format!("{BASELINE}: {e}"))?;
        // Against the old baseline when there is one, to show what moved.
        let old = committed.unwrap_or_else(|| baseline.clone());
        report(&old, &compare(&old, &baseline.instructions));
        eprintln!("wrote {BASELINE}");
        return Ok(true);
    }
    let baseline = committed.ok_or_else(|| format!("{BASELINE} is missing"))?;
    let findings = compare(&baseline, &run);
    report(&baseline, &findings);
    let failed = findings.iter().filter(|f| f.failed).count();
    let improved = findings
        .iter()
        .filter(|f| matches!((f.base, f.now), (Some(b), Some(n)) if baseline.limit(n) < b))
        .count();
    let bless = format!(
        "GPCONNECT_BLESS=1 cargo run --release -p gpconnect-benches --features instructions \
         --bin check-instructions -- {path}"
    );
    if failed > 0 {
        eprintln!(
            "{failed} bench(es) over the baseline, new, or missing. If the change is intended, \
             refresh the baseline and commit it:\n  {bless}"
        );
    } else if improved > 0 {
        // Not a failure, but until the baseline follows, a regression back
        // to the old count would pass unseen.
        eprintln!(
            "{improved} bench(es) beat the baseline by more than the tolerance; \
             lock the gain in by refreshing the baseline:\n  {bless}"
        );
    }
    Ok(failed == 0)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("check-instructions: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline(counts: &[(&str, u64)]) -> Baseline {
        Baseline {
            tolerance_percent: 25,
            measured_with: String::new(),
            instructions: counts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    fn counts(counts: &[(&str, u64)]) -> Counts {
        counts.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn failed(findings: &[Finding]) -> Vec<&str> {
        findings
            .iter()
            .filter(|f| f.failed)
            .map(|f| f.id.as_str())
            .collect()
    }

    #[test]
    fn within_tolerance_passes_and_past_it_fails() {
        let b = baseline(&[("a", 1000), ("b", 1000), ("c", 1000)]);
        let run = counts(&[("a", 1250), ("b", 1251), ("c", 10)]);
        assert_eq!(failed(&compare(&b, &run)), ["b"]);
    }

    #[test]
    fn new_and_missing_benches_fail() {
        let b = baseline(&[("a", 1000), ("gone", 1000)]);
        let run = counts(&[("a", 1000), ("added", 5)]);
        assert_eq!(failed(&compare(&b, &run)), ["added", "gone"]);
    }

    #[test]
    fn baseline_round_trips() {
        let b = baseline(&[("codec::json_parse_typed::bundle_100", 123_456)]);
        assert_eq!(Baseline::parse(&b.to_json()), Ok(b));
        assert!(Baseline::parse(r#"{"tolerance_percent": "25", "instructions": {}}"#).is_err());
    }

    #[test]
    fn reads_ir_of_new_runs_and_of_compared_runs() {
        let line = |metrics: &str| {
            format!(
                r#"{{"module_path":"instructions::codec::json_parse_typed","id":"bundle_100","profiles":[{{"tool":"Callgrind","summaries":{{"total":{{"summary":{{"Callgrind":{{"Ir":{{"metrics":{metrics}}}}}}}}}}}}}]}}"#
            )
        };
        let text = format!("noise\n{}\n", line(r#"{"Left":{"Int":42}}"#));
        assert_eq!(
            parse_run(&text),
            Ok(counts(&[("codec::json_parse_typed::bundle_100", 42)]))
        );
        let text = line(r#"{"Both":[{"Int":7},{"Int":9}]}"#);
        assert_eq!(
            parse_run(&text),
            Ok(counts(&[("codec::json_parse_typed::bundle_100", 7)]))
        );
        assert!(parse_run("nothing here").is_err());
        assert!(
            parse_run(&format!(
                "{}\n{}",
                line(r#"{"Left":1}"#),
                line(r#"{"Left":1}"#)
            ))
            .is_err()
        );
    }
}
