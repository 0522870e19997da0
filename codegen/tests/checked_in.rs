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
    haul_codegen::outputs(&text, &api, &released)
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
    // The published site's openrpc.json is the document itself, byte for byte.
    for out in outputs()
        .into_iter()
        .filter(|o| o.path != "docs/site/openrpc.json")
    {
        let head: String = out.text.lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(
            head.contains("generated from openrpc.json") && head.contains("do not edit"),
            "{} lacks the generated-file header",
            out.path
        );
    }
}

#[test]
fn the_docs_site_links_only_to_what_it_holds() {
    let outputs = outputs();
    let site: Vec<&str> = outputs
        .iter()
        .filter_map(|o| o.path.strip_prefix("docs/site/"))
        .collect();
    assert!(
        site.contains(&"index.html") && site.contains(&"openrpc.json"),
        "{site:?}"
    );
    for page in outputs
        .iter()
        .filter(|o| o.path.starts_with("docs/site/") && o.path.ends_with(".html"))
    {
        for link in page.text.split("href=\"").skip(1) {
            let target = &link[..link.find('"').expect("a closed href")];
            if target.starts_with('#') || target.starts_with("https://") {
                continue;
            }
            assert!(
                site.contains(&target),
                "{} links to {target}, which the site lacks",
                page.path
            );
        }
    }
}
