//! Generates the API module from `openrpc.json` (see codegen/): spec → model →
//! Rust tokens → prettyplease → `$OUT_DIR/api.rs`, included by `src/api.rs`.
//! Also records the git commit, when built from a checkout, for `system.getVersion`.

use std::{env, fs, path::PathBuf, process::Command};

fn main() {
    const SPEC: &str = "openrpc.json";
    println!("cargo::rerun-if-changed={SPEC}");
    let text = fs::read_to_string(SPEC).unwrap_or_else(|e| panic!("cannot read {SPEC}: {e}"));
    let api = haul_codegen::Api::parse_str(&text).unwrap_or_else(|e| panic!("{SPEC}: {e}"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("api.rs");
    fs::write(&out, haul_codegen::rust::generate(&api))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));

    println!("cargo::rerun-if-changed=.git/HEAD");
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output();
    if let Some(output) = commit.ok().filter(|o| o.status.success()) {
        let commit = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        println!("cargo::rustc-env=HAUL_GIT_COMMIT={commit}");
    }
}
