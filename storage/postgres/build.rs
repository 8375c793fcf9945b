//! Compiles the tests that need a live PostgreSQL server only when one is
//! named, so `cargo test --workspace` passes on a machine without one and
//! runs them wherever `GPCONNECT_TEST_POSTGRES_URL` is set (as `.ci/run`
//! does). The tests themselves read the URL at run time.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(gpconnect_pg_tests)");
    println!("cargo::rustc-check-cfg=cfg(gpconnect_pg_ctl)");
    println!("cargo::rerun-if-env-changed=GPCONNECT_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=GPCONNECT_TEST_POSTGRES_CTL");
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("GPCONNECT_TEST_POSTGRES_URL") {
        println!("cargo::rustc-cfg=gpconnect_pg_tests");
        if set("GPCONNECT_TEST_POSTGRES_CTL") {
            println!("cargo::rustc-cfg=gpconnect_pg_ctl");
        }
    }
}
