//! Generates the API module from `openrpc.json` (see codegen/): spec → model →
//! Rust tokens → prettyplease → `$OUT_DIR/api.rs`, included by `src/api.rs`.

use std::{env, fs, path::PathBuf};

fn main() {
    const SPEC: &str = "openrpc.json";
    println!("cargo::rerun-if-changed={SPEC}");
    let text = fs::read_to_string(SPEC).unwrap_or_else(|e| panic!("cannot read {SPEC}: {e}"));
    let api = haul_codegen::Api::parse_str(&text).unwrap_or_else(|e| panic!("{SPEC}: {e}"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("api.rs");
    fs::write(&out, haul_codegen::rust::generate(&api))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
