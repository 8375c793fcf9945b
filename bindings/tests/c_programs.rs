//! The C programs of `tests/c/`, compiled with the system C compiler
//! (`$CC`, else `cc`) against `include/gpconnect.h` and the library cargo
//! built for this test run, then run; each must exit 0 having printed its
//! "<program>: <n> checks passed" line.
//!
//! - `engine.c` drives the engine through `gpc_engine_handle`: search,
//!   book, double-book (409), a four-thread booking race, cancel,
//!   getcarerecord, a sled store across close and reopen, and misuse.
//! - `host_storage.c` backs the engine with host storage callbacks written
//!   in C (a transactional key/value table), runs the storage conformance
//!   suite through them, and injects callback failures.
//!
//! `GPCONNECT_FFI_C_CHECK` selects how (`.ci/run` uses the last two):
//!
//! - unset: plain (`-Werror`, static and shared library);
//! - `valgrind`: each program under `valgrind --error-exitcode=1
//!   --leak-check=full` (definite and possible leaks are errors), with the
//!   suppressions of `tests/c/valgrind.supp` (process-lifetime caches
//!   valgrind sees only through interior pointers; explained there);
//! - `asan`: built with `-fsanitize=address,undefined` (LeakSanitizer on,
//!   any report fatal).
//!
//! Linux only: the compiler flags, library names and tools are Linux's.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Plain,
    Valgrind,
    Sanitizers,
}

fn check() -> Check {
    match std::env::var("GPCONNECT_FFI_C_CHECK").as_deref() {
        Err(_) | Ok("") => Check::Plain,
        Ok("valgrind") => Check::Valgrind,
        Ok("asan") => Check::Sanitizers,
        Ok(other) => panic!("GPCONNECT_FFI_C_CHECK={other:?}: expected valgrind or asan"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Static,
    Shared,
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the `libgpconnect_ffi.a` and `.so` cargo built
/// for this test: the `deps` directory this test executable runs from.
/// Cargo builds every crate type of the library there before an integration
/// test that depends on it, so they are present and current. (The copies in
/// the profile directory, `target/debug`, are refreshed only by `cargo
/// build`, and may be stale during `cargo test`.)
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("deps directory").to_path_buf();
    for lib in ["libgpconnect_ffi.a", "libgpconnect_ffi.so"] {
        assert!(
            deps.join(lib).is_file(),
            "{lib} is not next to the test executable in {}",
            deps.display()
        );
    }
    deps
}

fn compile(program: &str, out_dir: &Path, link: Link) -> PathBuf {
    let check = check();
    let source = manifest_dir().join("tests/c").join(program);
    let exe = out_dir.join(program.trim_end_matches(".c"));
    let lib = library_dir();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let mut cmd = Command::new(&cc);
    cmd.args(["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-g", "-O1"])
        .args(["-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .arg("-I")
        .arg(manifest_dir().join("include"))
        .arg(&source)
        .arg("-o")
        .arg(&exe);
    if check == Check::Sanitizers {
        cmd.args([
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ]);
    }
    match link {
        Link::Static => {
            cmd.arg(lib.join("libgpconnect_ffi.a"));
        }
        Link::Shared => {
            cmd.arg("-L")
                .arg(&lib)
                .arg("-lgpconnect_ffi")
                .arg(format!("-Wl,-rpath,{}", lib.display()));
        }
    }
    cmd.args(["-lpthread", "-ldl", "-lm"]);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running the C compiler {cc:?}: {e}"));
    assert!(
        out.status.success(),
        "compiling {program} failed: {cmd:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

fn run(exe: &Path, args: &[&Path]) -> Output {
    let mut cmd = match check() {
        Check::Valgrind => {
            let mut c = Command::new("valgrind");
            c.args([
                "--error-exitcode=1",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,possible",
                "--show-leak-kinds=definite,possible",
                "--track-origins=yes",
                // Deep enough for the suppressions to see the frame they
                // match on (a static initialiser under the FFI guard).
                "--num-callers=60",
                "--quiet",
            ])
            .arg(format!(
                "--suppressions={}",
                manifest_dir().join("tests/c/valgrind.supp").display()
            ))
            .arg(exe);
            c
        }
        Check::Sanitizers => {
            let mut c = Command::new(exe);
            c.env(
                "ASAN_OPTIONS",
                "detect_leaks=1:halt_on_error=1:abort_on_error=0",
            )
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
            c
        }
        Check::Plain => Command::new(exe),
    };
    cmd.args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()))
}

/// Compiles and runs `program`; its standard output, once it exited 0.
fn runs(program: &str, link: Link, args: &[&Path]) -> String {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let exe = compile(program, dir.path(), link);
    let out = run(&exe, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{program} ({:?}, {link:?}) failed: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        check(),
        out.status
    );
    stdout
}

/// Compiles and runs `program`, and checks it passed all its checks.
fn passes(program: &str, link: Link, args: &[&Path]) -> String {
    let stdout = runs(program, link, args);
    let summary = format!("{}: ", program);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&summary) && last.ends_with(" checks passed"),
        "{program} did not finish: last line {last:?}\n{stdout}"
    );
    stdout
}

fn practice_json() -> PathBuf {
    manifest_dir().join("../examples/practice.json")
}

#[test]
fn engine_program_drives_the_front_door() {
    let sled = tempfile::tempdir().expect("a directory for the sled store");
    let out = passes(
        "engine.c",
        Link::Static,
        &[&practice_json(), &sled.path().join("store")],
    );
    for step in [
        "ok search: slot 14-1-0 is free",
        "ok book: 201",
        "ok double-book: 409",
        "ok race: four threads book one slot on one engine: one 201, three 409",
        "ok cancel: 200",
        "ok getcarerecord: the Summary of the imported record",
        "ok sled: the booking survived close and reopen",
        "ok invalid UTF-8 path: 400 OperationOutcome",
        "ok every handle was freed",
    ] {
        assert!(out.contains(step), "missing {step:?} in\n{out}");
    }
}

#[test]
fn engine_program_links_the_shared_library() {
    let sled = tempfile::tempdir().expect("a directory for the sled store");
    passes(
        "engine.c",
        Link::Shared,
        &[&practice_json(), &sled.path().join("store")],
    );
}

#[test]
fn host_storage_program_backs_the_engine_with_c_callbacks() {
    let out = passes("host_storage.c", Link::Static, &[&practice_json()]);
    for step in [
        "ok conformance: no check failed",
        "ok book on host storage: 201",
        "ok getcarerecord on host storage: the encounters the import stored",
        "ok typed getcarerecord: the Summary Bundle",
        "ok failed put: 500",
        "ok failed put: the table is unchanged",
        "ok failed commit: the table is unchanged",
        "ok destroy called once on close",
    ] {
        assert!(out.contains(step), "missing {step:?} in\n{out}");
    }
}

#[test]
fn the_readme_quick_start_compiles_and_runs() {
    let source = std::fs::read_to_string(manifest_dir().join("tests/c/quickstart.c"))
        .expect("tests/c/quickstart.c");
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).expect("README.md");
    assert!(
        readme.contains(&source),
        "README.md must show tests/c/quickstart.c verbatim (the program this test runs)"
    );
    let out = runs("quickstart.c", Link::Static, &[&practice_json()]);
    assert!(
        out.starts_with("import: 200\nsearch: 200, ") && out.contains(" bytes of FHIR JSON"),
        "{out}"
    );
}
