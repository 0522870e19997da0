//! What is checked in under `clients/` and `docs/` is exactly what the
//! generator emits from the current `openrpc.json` and the released
//! contracts.

use std::path::{Path, PathBuf};

use haul_codegen::release::{self, RELEASED_DIR};
use haul_codegen::Output;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What the generator emits now, as `cargo run -p haul-codegen` would.
fn outputs() -> Vec<Output> {
    let text = std::fs::read_to_string(root().join("openrpc.json")).unwrap();
    let api = haul_codegen::Api::parse_str(&text).unwrap();
    let released = release::load(&root().join(RELEASED_DIR)).unwrap_or_else(|e| panic!("{e}"));
    haul_codegen::outputs(&api, &released)
}

#[test]
fn checked_in_generated_files_match_what_the_generator_emits_now() {
    let stale: Vec<String> = outputs()
        .into_iter()
        .filter(|out| {
            std::fs::read_to_string(root().join(&out.path))
                .ok()
                .as_deref()
                != Some(&out.text)
        })
        .map(|out| out.path)
        .collect();
    assert!(
        stale.is_empty(),
        "stale generated files (regenerate with `{}`):\n  {}",
        haul_codegen::REGENERATE,
        stale.join("\n  ")
    );
}

#[test]
fn every_generated_file_says_it_is_generated() {
    for out in outputs() {
        let head: String = out.text.lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(
            head.contains("generated from openrpc.json") && head.contains("do not edit"),
            "{} lacks the generated-file header",
            out.path
        );
    }
}
