//! The contract evolves by semantic versioning: the released copies in
//! `contract/released/` and `openrpc.json` are held to [`release::check`],
//! and the checker's report on the repository's own history is reviewed.

mod support;

use std::path::{Path, PathBuf};

use haul_codegen::diff::diff;
use haul_codegen::release::{self, Problem, Release, Version, RELEASED_DIR};
use haul_codegen::Api;
use serde_json::{json, Value};
use support::{api, document, edited};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn parse(path: &Path) -> Api {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Api::parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_released_contracts_and_openrpc_json_follow_semantic_versioning() {
    let released = release::load(&root().join(RELEASED_DIR)).unwrap_or_else(|e| panic!("{e}"));
    let current = parse(&root().join("openrpc.json"));
    let problems: Vec<String> = release::check(&released, &current)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n\n"));
}

/// The first contract committed (394da9b, 2026-11-22, the commit that added
/// openrpc.json), which today's strict model still parses, against the
/// first released one (today's openrpc.json, frozen: the snapshot does not
/// move with every later change).
#[test]
fn the_checker_reports_what_changed_from_the_first_contract_to_the_first_release() {
    let first = parse(&root().join("codegen/tests/fixtures/openrpc-394da9b.json"));
    let released = parse(&root().join(RELEASED_DIR).join("0.1.0.json"));
    let report: Vec<String> = diff(&first, &released)
        .iter()
        .map(ToString::to_string)
        .collect();
    insta::assert_snapshot!("history_394da9b_to_0.1.0", report.join("\n"));
}

fn release(version: &str, doc: &Value) -> Release {
    Release {
        version: version.parse().unwrap(),
        api: api(&edited(doc, |d| d["info"]["version"] = json!(version))),
    }
}

/// The small document with `item.add`'s `count` param required: a break.
fn broken(doc: &Value) -> Value {
    edited(doc, |d| {
        d["methods"][0]["params"][1]["required"] = json!(true)
    })
}

fn problems(released: &[Release], current: &Api) -> Vec<String> {
    release::check(released, current)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_breaking_release_needs_the_next_major_or_before_1_0_the_next_minor() {
    let doc = document();
    let current = |version: &str| release(version, &broken(&doc)).api;
    let fine = [release("0.1.0", &doc), release("0.2.0", &broken(&doc))];
    assert_eq!(problems(&fine, &current("0.2.0")), Vec::<String>::new());
    let fine = [release("1.3.0", &doc), release("2.0.0", &broken(&doc))];
    assert_eq!(problems(&fine, &current("2.0.0")), Vec::<String>::new());

    let unbumped = [release("0.1.0", &doc), release("0.1.1", &broken(&doc))];
    assert_eq!(
        problems(&unbumped, &current("0.1.1")),
        ["contract/released/0.1.1.json breaks 0.1.0, but a breaking change needs a new major version (a new minor one before 1.0):\n  \
          breaking    /methods/0/params/1  item.add: param \"count\" is now required\n\
          hint: release it as 0.2.0 (rename it to contract/released/0.2.0.json, with info.version 0.2.0), or make the change compatible"]
    );
    let unbumped = [release("1.3.0", &doc), release("1.4.0", &broken(&doc))];
    let found = release::check(&unbumped, &current("1.4.0"));
    assert!(
        matches!(&found[..], [Problem::UnversionedBreak { to, .. }] if to.to_string() == "1.4.0"),
        "{found:?}"
    );
}

#[test]
fn a_breaking_change_to_openrpc_json_says_which_version_to_release() {
    let released = [release("0.1.0", &document())];
    assert_eq!(
        problems(&released, &release("0.1.0", &broken(&document())).api),
        ["openrpc.json breaks the latest released contract, 0.1.0:\n  \
          breaking    /methods/0/params/1  item.add: param \"count\" is now required\n\
          hint: bump info.version to 0.2.0 and copy openrpc.json to contract/released/0.2.0.json \
          (then regenerate the docs with `cargo run -p haul-codegen`), or make the change compatible"]
    );
    // A bump too small for the change says the same.
    let too_small = release("0.1.1", &broken(&document())).api;
    let found = release::check(&released, &too_small);
    assert!(
        matches!(&found[..], [Problem::UnreleasedBreak { .. }]),
        "{found:?}"
    );
}

#[test]
fn a_new_version_of_openrpc_json_needs_its_released_copy() {
    let released = [release("0.1.0", &document())];
    assert_eq!(
        problems(&released, &release("0.2.0", &broken(&document())).api),
        ["openrpc.json is version 0.2.0, which is not released: contract/released/0.2.0.json does not exist\n\
          hint: a new version is a release: copy openrpc.json to contract/released/0.2.0.json \
          (then regenerate the docs with `cargo run -p haul-codegen`), or set info.version back"]
    );
    assert_eq!(
        problems(&released, &release("0.0.9", &document()).api),
        [
            "openrpc.json is version 0.0.9, but the latest released contract is 0.1.0\n\
          hint: set info.version in openrpc.json to 0.1.0"
        ]
    );
}

#[test]
fn compatible_changes_to_openrpc_json_need_no_release() {
    let released = [release("0.1.0", &document())];
    let current = edited(&document(), |d| {
        d["methods"][1]["summary"] = json!("Item added");
        d["methods"][0]["params"][0]["required"] = json!(false);
    });
    assert_eq!(problems(&released, &api(&current)), Vec::<String>::new());
}

#[test]
fn a_released_contract_is_named_after_its_version() {
    let dir = std::env::temp_dir().join(format!("haul-codegen-released-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let doc = edited(&document(), |d| d["info"]["version"] = json!("0.1.0"));
    std::fs::write(dir.join("0.2.0.json"), doc.to_string()).unwrap();
    let error = release::load(&dir).unwrap_err().to_string();
    assert!(
        error.ends_with("0.2.0.json: its info.version is 0.1.0, not the 0.2.0 its name says"),
        "{error}"
    );

    std::fs::remove_file(dir.join("0.2.0.json")).unwrap();
    std::fs::write(dir.join("latest.json"), doc.to_string()).unwrap();
    let error = release::load(&dir).unwrap_err().to_string();
    assert!(error.ends_with("latest.json: a released contract is named <version>.json, e.g. 0.2.0.json (`latest` is not a version: expected major.minor.patch, e.g. 0.2.0)"), "{error}");

    std::fs::remove_file(dir.join("latest.json")).unwrap();
    for version in ["0.10.0", "0.9.0"] {
        let doc = edited(&document(), |d| d["info"]["version"] = json!(version));
        std::fs::write(dir.join(format!("{version}.json")), doc.to_string()).unwrap();
    }
    let versions: Vec<Version> = release::load(&dir)
        .unwrap()
        .iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(
        versions,
        ["0.9.0".parse().unwrap(), "0.10.0".parse().unwrap()]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
