//! `openrpc.json` is the contract: it must pass the official OpenRPC
//! validator, open in a second, independent OpenRPC consumer (the OpenRPC
//! project's type generator), and every example in it must be valid against
//! its own schemas.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

fn document() -> Value {
    serde_json::from_str(haul::api::OPENRPC_JSON).expect("openrpc.json is JSON")
}

#[test]
fn the_document_passes_the_official_openrpc_validator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tool = root.join("tools/openrpc-validator");
    assert!(
        tool.join("node_modules/@open-rpc/schema-utils-js").is_dir(),
        "the validator is not installed: run `npm ci --prefix tools/openrpc-validator` (scripts/test does)"
    );
    let output = Command::new("node")
        .arg(tool.join("validate.mjs"))
        .arg(root.join("openrpc.json"))
        .output()
        .expect("node runs (install Node.js 20 or newer)");
    assert!(
        output.status.success(),
        "the official validator rejects openrpc.json:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What `@open-rpc/typings` (tools/openrpc-typings, pinned by its lock)
/// makes of the document; tools/openrpc-typings/README.md says what that is
/// and why its faults are the tool's.
#[test]
fn the_openrpc_type_generator_reads_the_document_and_its_typescript_type_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tool = root.join("tools/openrpc-typings");
    assert!(
        tool.join("node_modules/@open-rpc/typings").is_dir(),
        "the type generator is not installed: run `npm ci --prefix tools/openrpc-typings` (scripts/test does)"
    );
    let out = tempfile::tempdir().unwrap();
    let output = Command::new("node")
        .arg(tool.join("typings.mjs"))
        .arg(root.join("openrpc.json"))
        .arg(out.path())
        .output()
        .expect("node runs (install Node.js 20 or newer)");
    assert!(
        output.status.success(),
        "@open-rpc/typings cannot read openrpc.json:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    for language in ["typescript", "rust", "go", "python"] {
        assert!(
            report["languages"][language].as_u64() > Some(0),
            "no {language} typings: {report}"
        );
    }
    // One function type per method and notification, named by it.
    let doc = document();
    let expected: Vec<String> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["name"]
                .as_str()
                .unwrap()
                .split('.')
                .map(|part| part[..1].to_uppercase() + &part[1..])
                .collect()
        })
        .collect();
    assert_eq!(report["methodTypings"], json!(expected));
    assert_eq!(
        report["schemaTypingsErrors"],
        json!([]),
        "the generated TypeScript types fail tsc --strict"
    );
    // Its known fault (see the README): some method typings name result
    // types it never emits. Anything else would be new.
    for error in report["methodTypingsErrors"].as_array().unwrap() {
        let error = error.as_str().unwrap();
        assert!(error.starts_with("Cannot find name '"), "{error}");
    }
}

/// Validates `value` against the schema at `pointer` inside the document, so
/// that `#/components/schemas/…` references resolve as they do for readers.
fn check(doc: &Value, pointer: &str, value: &Value, what: &str) -> Result<(), String> {
    let mut root = doc.clone();
    root["$ref"] = json!(format!("#{pointer}"));
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("{what}: the schema at {pointer} does not compile: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at `{}`", e, e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {value} is not valid against {pointer}: {}",
            errors.join("; ")
        ))
    }
}

#[test]
fn every_example_is_valid_against_its_schemas() {
    let doc = document();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (m, method) in doc["methods"].as_array().unwrap().iter().enumerate() {
        let name = method["name"].as_str().unwrap();
        let params = method["params"].as_array().unwrap();
        for example in method["examples"].as_array().unwrap() {
            let what = format!("{name} example `{}`", example["name"].as_str().unwrap());
            let given: Vec<&str> = example["params"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for param in params {
                let pname = param["name"].as_str().unwrap();
                if param["required"] == json!(true) && !given.contains(&pname) {
                    problems.push(format!("{what}: required param `{pname}` is missing"));
                }
            }
            for given_param in example["params"].as_array().unwrap() {
                let pname = given_param["name"].as_str().unwrap();
                match params.iter().position(|p| p["name"] == json!(pname)) {
                    Some(p) => {
                        let pointer = format!("/methods/{m}/params/{p}/schema");
                        problems.extend(
                            check(
                                &doc,
                                &pointer,
                                &given_param["value"],
                                &format!("{what} param `{pname}`"),
                            )
                            .err(),
                        );
                        checked += 1;
                    }
                    None => problems.push(format!("{what}: `{pname}` is not a param of {name}")),
                }
            }
            match (example.get("result"), method.get("result")) {
                (Some(result), Some(_)) => {
                    let pointer = format!("/methods/{m}/result/schema");
                    problems.extend(
                        check(&doc, &pointer, &result["value"], &format!("{what} result")).err(),
                    );
                    checked += 1;
                }
                (None, None) => {}
                (Some(_), None) => {
                    problems.push(format!("{what}: a notification example has a result"))
                }
                (None, Some(_)) => problems.push(format!("{what}: the example has no result")),
            }
        }
    }
    for (name, error) in doc["components"]["errors"].as_object().unwrap() {
        if let Some(data) = error.get("data") {
            let pointer = format!("/components/schemas/{name}ErrorData");
            problems.extend(check(&doc, &pointer, data, &format!("error {name} data")).err());
            checked += 1;
        }
    }
    assert!(
        problems.is_empty(),
        "invalid examples:\n{}",
        problems.join("\n")
    );
    assert!(checked > 40, "only {checked} example values were checked");
}

#[test]
fn the_schema_check_itself_rejects_what_the_contract_forbids() {
    // Guards the test above against passing vacuously.
    let doc = document();
    let status = "/components/schemas/DownloadStatus";
    let gid = "/components/schemas/Gid";
    assert!(check(&doc, gid, &json!("2F1C0D9A7B3E4A51"), "uppercase gid").is_err());
    assert!(check(&doc, gid, &json!("2f1c0d9a7b3e4a51"), "gid").is_ok());
    assert!(check(
        &doc,
        status,
        &json!({"gid": "2f1c0d9a7b3e4a51"}),
        "partial status"
    )
    .is_err());
    let add_connections = "/methods/0/params/4/schema";
    assert_eq!(
        doc.pointer("/methods/0/params/4/name"),
        Some(&json!("connections"))
    );
    assert!(check(&doc, add_connections, &json!(65), "65 connections").is_err());
    assert!(check(
        &doc,
        "/components/schemas/DownloadStatus/properties/createdAt",
        &json!("yesterday"),
        "date"
    )
    .is_err());
}

#[test]
fn every_application_error_code_is_unique_and_in_the_reserved_range() {
    let doc = document();
    let mut codes: Vec<i64> = Vec::new();
    for (name, error) in doc["components"]["errors"].as_object().unwrap() {
        let code = error["code"].as_i64().unwrap();
        assert!(!codes.contains(&code), "{name} reuses code {code}");
        assert!(
            (-32768..=-32000).contains(&code),
            "{name}: {code} is outside the JSON-RPC reserved range"
        );
        codes.push(code);
    }
}

#[test]
fn every_method_declares_the_token_scope_it_needs() {
    let doc = document();
    for method in doc["methods"].as_array().unwrap() {
        let name = method["name"].as_str().unwrap();
        let scope = method.get("x-scope").and_then(Value::as_str);
        match method.get("x-notification") {
            Some(Value::Bool(true)) => assert_eq!(scope, None, "{name} is sent, not called"),
            _ => assert!(
                matches!(scope, Some("read" | "control" | "admin")),
                "{name} declares no x-scope"
            ),
        }
    }
}
