//! `include/gpconnect.h` is exactly what cbindgen (the version pinned in the
//! workspace `Cargo.toml`) generates from the crate's source with
//! `cbindgen.toml`. CI runs this, so a change to the C API that is not
//! reflected in the committed header fails the build.
//!
//! cbindgen runs as a library here rather than as an installed binary: the
//! pin lives in `Cargo.toml` and `Cargo.lock` like every other dependency,
//! nothing needs installing on CI, and `cargo test` alone checks the
//! header. Regenerate it with:
//!
//! ```text
//! GPCONNECT_BLESS=1 cargo test -p gpconnect-ffi --test header
//! ```

use std::path::Path;

fn generate() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src").join("lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn the_committed_header_is_what_cbindgen_generates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/gpconnect.h");
    let generated = generate();
    if std::env::var_os("GPCONNECT_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write the header");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "{} is out of date: it first differs from cbindgen's output at line {}:\n  committed: {:?}\n  generated: {:?}\n\
             Regenerate it with `GPCONNECT_BLESS=1 cargo test -p gpconnect-ffi --test header` and commit it.",
            path.display(),
            first + 1,
            committed.lines().nth(first).unwrap_or("<end of file>"),
            generated.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn the_header_declares_every_exported_function() {
    // A function cbindgen skipped (e.g. for a type it cannot express) would
    // be exported by the library but missing from the header.
    let header = generate();
    let sources = [
        "engine",
        "error",
        "response",
        "typed",
        "token",
        "handle",
        "conformance",
    ]
    .iter()
    .map(|m| format!("src/{m}.rs"))
    .chain(["src/host/mod.rs".to_owned()]);
    let mut exported = 0;
    for file in sources {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&file);
        let src = std::fs::read_to_string(&path).expect("source");
        for line in src.lines() {
            let Some(rest) = line
                .strip_prefix("pub unsafe extern \"C\" fn ")
                .or_else(|| line.strip_prefix("pub extern \"C\" fn "))
            else {
                continue;
            };
            let name = rest.split('(').next().expect("a name");
            exported += 1;
            let declared = [' ', '*']
                .iter()
                .any(|before| header.contains(&format!("{before}{name}(")));
            assert!(declared, "{name} (in {file}) is not declared in the header");
        }
    }
    assert!(exported >= 25, "found only {exported} exported functions");
}
