//! The generator refuses what it cannot express faithfully, naming the JSON
//! pointer at fault, instead of emitting mistyped code.

use haul_codegen::Api;
use serde_json::{json, Value};

fn document() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openrpc.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The error for the document after `edit`, as displayed.
fn refusal(edit: impl FnOnce(&mut Value)) -> String {
    let mut doc = document();
    edit(&mut doc);
    Api::parse(&doc)
        .expect_err("the edited document must be refused")
        .to_string()
}

#[test]
fn the_shipped_document_parses_into_the_model() {
    let api = Api::parse(&document()).unwrap();
    assert_eq!(
        api.methods.len() + api.notifications.len(),
        document()["methods"].as_array().unwrap().len()
    );
    assert!(api.notifications.iter().all(|n| n.result.is_none()));
}

#[test]
fn an_inline_enum_is_refused() {
    let error = refusal(|d| {
        d["methods"][0]["params"][0]["schema"] = json!({"type": "string", "enum": ["a"]})
    });
    assert_eq!(error, "/methods/0/params/0/schema: inline enums are not supported: move the enum to components/schemas");
}

#[test]
fn an_unsupported_keyword_is_refused() {
    let error = refusal(|d| d["methods"][0]["params"][3]["schema"]["multipleOf"] = json!(2));
    assert_eq!(
        error,
        "/methods/0/params/3/schema: unsupported schema keyword `multipleOf`"
    );
}

#[test]
fn an_inline_object_with_properties_is_refused() {
    let error = refusal(|d| {
        d["methods"][0]["result"]["schema"] = json!({"type": "object", "properties": {}})
    });
    assert_eq!(error, "/methods/0/result/schema: an object with properties must be named: move it to components/schemas and use $ref");
}

#[test]
fn an_open_struct_is_refused() {
    let error =
        refusal(|d| d["components"]["schemas"]["AddResult"]["additionalProperties"] = json!(true));
    assert_eq!(error, "/components/schemas/AddResult: objects with properties must set \"additionalProperties\": false");
}

#[test]
fn a_missing_description_is_refused() {
    let error = refusal(|d| {
        d["methods"][1]["params"][0]
            .as_object_mut()
            .unwrap()
            .remove("description");
    });
    assert_eq!(error, "/methods/1/params/0/description: missing string");
}

#[test]
fn an_error_without_its_data_schema_is_refused() {
    let error = refusal(|d| {
        d["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("InvalidStateErrorData");
    });
    assert!(error.starts_with("/components/errors/InvalidState: every error needs a schema #/components/schemas/InvalidStateErrorData"), "{error}");
}

#[test]
fn a_reference_to_an_unknown_schema_is_refused() {
    let error = refusal(|d| {
        d["methods"][1]["params"][0]["schema"] = json!({"$ref": "#/components/schemas/Nope"})
    });
    assert_eq!(
        error,
        "method download.pause: reference to unknown schema `Nope`"
    );
}

#[test]
fn a_method_without_a_result_must_be_a_notification() {
    let error = refusal(|d| {
        d["methods"][1].as_object_mut().unwrap().remove("result");
    });
    assert_eq!(
        error,
        "/methods/1: a method without a result must be marked \"x-notification\": true"
    );
}

#[test]
fn positional_params_are_refused() {
    let error = refusal(|d| d["methods"][2]["paramStructure"] = json!("either"));
    assert_eq!(
        error,
        "/methods/2: every method must declare \"paramStructure\": \"by-name\""
    );
}

#[test]
fn property_names_other_than_a_pattern_are_refused() {
    let error = refusal(|d| {
        d["components"]["schemas"]["Headers"]["propertyNames"] = json!({"maxLength": 64})
    });
    assert_eq!(
        error,
        "/components/schemas/Headers/propertyNames: propertyNames is only supported as {\"pattern\": \"…\"}"
    );
}

#[test]
fn a_bound_that_is_not_a_count_is_refused() {
    let error = refusal(|d| d["components"]["schemas"]["FileName"]["maxLength"] = json!(-1));
    assert_eq!(
        error,
        "/components/schemas/FileName/maxLength: must be a non-negative integer"
    );
}
