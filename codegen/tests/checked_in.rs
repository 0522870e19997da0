//! What is checked in under `clients/` and `docs/` is exactly what the
//! generator emits from the current `openrpc.json`.

use std::path::Path;

#[test]
fn checked_in_generated_files_match_what_the_generator_emits_now() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("openrpc.json")).unwrap();
    let api = haul_codegen::Api::parse_str(&text).unwrap();
    let stale: Vec<String> = haul_codegen::outputs(&api)
        .into_iter()
        .filter(|out| {
            std::fs::read_to_string(root.join(&out.path))
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
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openrpc.json")).unwrap();
    let api = haul_codegen::Api::parse_str(&text).unwrap();
    for out in haul_codegen::outputs(&api) {
        let head: String = out.text.lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(
            head.contains("generated from openrpc.json") && head.contains("do not edit"),
            "{} lacks the generated-file header",
            out.path
        );
    }
}
