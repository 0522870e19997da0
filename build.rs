//! Generates the API module from `openrpc.json` (see codegen/): spec → model →
//! Rust tokens → prettyplease → `$OUT_DIR/api.rs`, included by `src/api.rs`.
//!
//! With the `server` feature also the API reference page `$OUT_DIR/api.html`,
//! served at `GET /docs`, whose changes section compares the released
//! contracts (`contract/released/`), and the git commit, when built from a
//! checkout, for `system.getVersion`. An SDK user's build (`client` only)
//! does neither: it needs no docs emitter, and it would otherwise run git in
//! a directory that is not haul's checkout.

use std::{env, fs, path::PathBuf};

fn main() {
    const SPEC: &str = "openrpc.json";
    println!("cargo::rerun-if-changed={SPEC}");
    let text = fs::read_to_string(SPEC).unwrap_or_else(|e| panic!("cannot read {SPEC}: {e}"));
    let api = haul_codegen::Api::parse_str(&text).unwrap_or_else(|e| panic!("{SPEC}: {e}"));
    write("api.rs", &haul_codegen::rust::generate(&api));
    #[cfg(feature = "server")]
    server(&api);
}

fn write(name: &str, text: &str) {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let out = out_dir.join(name);
    fs::write(&out, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

#[cfg(feature = "server")]
fn server(api: &haul_codegen::Api) {
    let released_dir = haul_codegen::release::RELEASED_DIR;
    println!("cargo::rerun-if-changed={released_dir}");
    let released =
        haul_codegen::release::load(released_dir.as_ref()).unwrap_or_else(|e| panic!("{e}"));
    write("api.html", &haul_codegen::docs::html_page(api, &released));

    // A packaged crate has no .git, and git would find whatever repository
    // encloses it (a user's, vendoring haul): its commit is not haul's.
    if !std::path::Path::new(".git").exists() {
        return;
    }
    println!("cargo::rerun-if-changed=.git/HEAD");
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output();
    if let Some(output) = commit.ok().filter(|o| o.status.success()) {
        let commit = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        println!("cargo::rustc-env=HAUL_GIT_COMMIT={commit}");
    }
}
