//! The generated API module speaks the wire format the document defines:
//! asserted as raw JSON, so the bytes themselves are what is checked.

use haul::api::{
    errors, method, notification, DownloadAddParams, DownloadListParams, DownloadProgressEvent,
    DownloadState, DownloadStatus, ErrorCode, FailureCode, Notification, OverwritePolicy,
    METHOD_PARAMS, OPENRPC_JSON,
};
use serde_json::{json, Map, Value};

fn document() -> Value {
    serde_json::from_str(OPENRPC_JSON).unwrap()
}

/// The methods a client calls, as the document lists them.
fn documented_methods() -> Vec<Value> {
    let doc = document();
    let methods = doc["methods"].as_array().unwrap().iter();
    methods
        .filter(|m| m.get("x-notification") != Some(&json!(true)))
        .cloned()
        .collect()
}

/// Each example's params as the object sent on the wire.
fn example_params(method: &Value) -> Vec<Value> {
    let examples = method["examples"].as_array().unwrap().iter();
    examples
        .map(|example| {
            let params = example["params"].as_array().unwrap().iter();
            let params: Map<String, Value> = params
                .map(|p| (p["name"].as_str().unwrap().to_owned(), p["value"].clone()))
                .collect();
            Value::Object(params)
        })
        .collect()
}

#[test]
fn the_embedded_document_is_the_shipped_file_byte_for_byte() {
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openrpc.json")).unwrap();
    assert_eq!(OPENRPC_JSON, shipped);
}

#[test]
fn method_and_notification_constants_list_the_document_in_order() {
    let doc = document();
    let (mut methods, mut notifications) = (Vec::new(), Vec::new());
    for m in doc["methods"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        if m.get("x-notification") == Some(&json!(true)) {
            notifications.push(name);
        } else {
            methods.push(name);
        }
    }
    assert_eq!(method::ALL, methods.as_slice());
    assert_eq!(notification::ALL, notifications.as_slice());
    assert_eq!(method::DOWNLOAD_SET_SPEED_LIMIT, "download.setSpeedLimit");
}

#[test]
fn optional_params_are_left_out_and_keys_are_camel_case() {
    let mut add = DownloadAddParams::new("https://example.com/a.iso");
    add.file_name = Some("a.iso".into());
    add.speed_limit = Some(1024);
    add.overwrite = Some(OverwritePolicy::Fail);
    assert_eq!(
        serde_json::to_string(&add).unwrap(),
        r#"{"url":"https://example.com/a.iso","fileName":"a.iso","speedLimit":1024,"overwrite":"fail"}"#
    );
    let list = DownloadListParams {
        states: Some(vec![DownloadState::Active, DownloadState::Error]),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_string(&list).unwrap(),
        r#"{"states":["active","error"]}"#
    );
}

#[test]
fn params_with_unknown_fields_are_rejected() {
    let error =
        serde_json::from_str::<DownloadAddParams>(r#"{"url":"https://e.com/x","file_name":"x"}"#)
            .unwrap_err();
    assert!(
        error.to_string().starts_with("unknown field `file_name`"),
        "{error}"
    );
}

#[test]
fn method_params_list_each_methods_params_as_the_document_does() {
    let methods = documented_methods();
    let names: Vec<&str> = METHOD_PARAMS.iter().map(|m| m.name).collect();
    assert_eq!(names, method::ALL);
    for (entry, m) in METHOD_PARAMS.iter().zip(&methods) {
        let params = m["params"].as_array().unwrap();
        let named = |required: bool| -> Vec<&str> {
            let params = params.iter();
            params
                .filter(|p| (p["required"] == json!(true)) == required)
                .map(|p| p["name"].as_str().unwrap())
                .collect()
        };
        assert_eq!(entry.required, named(true), "{}", entry.name);
        assert_eq!(entry.optional, named(false), "{}", entry.name);
        assert_eq!(entry.takes_params(), !params.is_empty(), "{}", entry.name);
        let schema: Value = serde_json::from_str(entry.schema).unwrap();
        let properties: Map<String, Value> = params
            .iter()
            .map(|p| (p["name"].as_str().unwrap().to_owned(), p["schema"].clone()))
            .collect();
        assert_eq!(
            schema["properties"],
            Value::Object(properties),
            "{}",
            entry.name
        );
        assert_eq!(schema["required"], json!(named(true)), "{}", entry.name);
        assert_eq!(
            schema["additionalProperties"],
            json!(false),
            "{}",
            entry.name
        );
    }
}

#[test]
fn every_params_schema_resolves_its_references_and_holds_the_examples() {
    let doc = document();
    for (entry, m) in METHOD_PARAMS.iter().zip(documented_methods()) {
        let schema: Value = serde_json::from_str(entry.schema).unwrap();
        for (name, component) in schema["components"]["schemas"].as_object().unwrap() {
            assert_eq!(component, &doc["components"]["schemas"][name], "{name}");
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{}: {e}", entry.name));
        for params in example_params(&m) {
            let errors: Vec<String> = validator
                .iter_errors(&params)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{} {params}: {errors:?}", entry.name);
        }
        let mut unknown = example_params(&m).remove(0);
        unknown["bogus"] = json!(1);
        assert!(!validator.is_valid(&unknown), "{}", entry.name);
    }
}

#[test]
fn every_method_example_decodes_into_its_params_struct_and_back() {
    /// `params` decoded as `T`, then encoded again.
    fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(params: &Value) -> Value {
        let typed: T =
            serde_json::from_value(params.clone()).unwrap_or_else(|e| panic!("{params}: {e}"));
        serde_json::to_value(typed).unwrap()
    }
    let mut covered = Vec::new();
    for m in documented_methods() {
        let name = m["name"].as_str().unwrap();
        let via: fn(&Value) -> Value = match name {
            method::DOWNLOAD_ADD => round_trip::<DownloadAddParams>,
            method::DOWNLOAD_PAUSE => round_trip::<haul::api::DownloadPauseParams>,
            method::DOWNLOAD_RESUME => round_trip::<haul::api::DownloadResumeParams>,
            method::DOWNLOAD_REMOVE => round_trip::<haul::api::DownloadRemoveParams>,
            method::DOWNLOAD_STATUS => round_trip::<haul::api::DownloadStatusParams>,
            method::DOWNLOAD_LIST => round_trip::<DownloadListParams>,
            method::DOWNLOAD_SET_SPEED_LIMIT => {
                round_trip::<haul::api::DownloadSetSpeedLimitParams>
            }
            method::DOWNLOAD_SET_URL => round_trip::<haul::api::DownloadSetUrlParams>,
            method::SYSTEM_SET_OPTIONS => round_trip::<haul::api::SystemSetOptionsParams>,
            method::EVENTS_SUBSCRIBE => round_trip::<haul::api::EventsSubscribeParams>,
            method::EVENTS_POLL => round_trip::<haul::api::EventsPollParams>,
            method::TOKEN_ADD => round_trip::<haul::api::TokenAddParams>,
            method::TOKEN_REMOVE => round_trip::<haul::api::TokenRemoveParams>,
            // Methods without params have no params struct.
            _ => continue,
        };
        for params in example_params(&m) {
            assert_eq!(via(&params), params, "{name}");
        }
        covered.push(name.to_owned());
    }
    let with_params: Vec<String> = METHOD_PARAMS
        .iter()
        .filter(|m| m.takes_params())
        .map(|m| m.name.to_owned())
        .collect();
    assert_eq!(covered, with_params);
}

#[test]
fn unknown_values_are_null_not_absent_in_a_status() {
    let status: DownloadStatus = serde_json::from_value(json!({
        "gid": "a0b1c2d3e4f56789", "url": "https://example.com/x", "state": "queued", "fileName": null,
        "path": null, "totalLength": null, "completedLength": 0, "downloadSpeed": 0, "eta": null,
        "connections": 0, "sources": [], "speedLimit": 0, "proxy": null, "insecure": false, "error": null, "createdAt": "2026-11-22T09:16:40Z", "completedAt": null,
        "node": null
    }))
    .unwrap();
    let wire = serde_json::to_value(&status).unwrap();
    assert_eq!(wire["totalLength"], Value::Null);
    assert_eq!(
        wire.as_object().unwrap().len(),
        18,
        "every field is always present: {wire}"
    );
}

#[test]
fn a_status_from_a_newer_daemon_with_extra_fields_still_decodes() {
    let mut example = document()["methods"][4]["examples"][0]["result"]["value"].clone();
    example["someFutureField"] = json!(1);
    let status: DownloadStatus = serde_json::from_value(example).unwrap();
    assert_eq!(status.state, DownloadState::Active);
}

#[test]
fn notifications_serialize_as_method_and_params() {
    let event = Notification::DownloadProgress(DownloadProgressEvent {
        seq: 7,
        stream_id: "c0ffee0ddba11e57".into(),
        gid: "2f1c0d9a7b3e4a51".into(),
        completed_length: 1024,
        total_length: None,
        download_speed: 512,
        eta: None,
        connections: 2,
    });
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"method":"download.progress","params":{"seq":7,"streamId":"c0ffee0ddba11e57","gid":"2f1c0d9a7b3e4a51","completedLength":1024,"totalLength":null,"downloadSpeed":512,"eta":null,"connections":2}}"#
    );
    assert_eq!(event.method(), notification::DOWNLOAD_PROGRESS);
}

#[test]
fn every_notification_example_decodes_into_its_typed_payload() {
    let doc = document();
    let examples = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m.get("x-notification").is_some());
    let mut decoded = 0;
    for m in examples {
        for example in m["examples"].as_array().unwrap() {
            let params: serde_json::Map<String, Value> = example["params"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p["name"].as_str().unwrap().to_owned(), p["value"].clone()))
                .collect();
            let wire = json!({"jsonrpc": "2.0", "method": m["name"], "params": params});
            let typed: Notification =
                serde_json::from_value(wire.clone()).unwrap_or_else(|e| panic!("{wire}: {e}"));
            assert_eq!(typed.method(), m["name"]);
            decoded += 1;
        }
    }
    assert_eq!(decoded, notification::ALL.len());
}

#[test]
fn error_constructors_carry_the_documented_code_message_and_data() {
    let error = errors::invalid_state("2f1c0d9a7b3e4a51".into(), DownloadState::Complete);
    assert_eq!(
        serde_json::to_string(&error).unwrap(),
        r#"{"code":-32002,"message":"Invalid state for this operation","data":{"gid":"2f1c0d9a7b3e4a51","state":"complete"}}"#
    );
    assert_eq!(
        serde_json::to_string(&ErrorCode::Unauthorized.into_error_object()).unwrap(),
        r#"{"code":-32000,"message":"Unauthorized"}"#
    );
}

#[test]
fn error_codes_match_the_document_and_round_trip() {
    let doc = document();
    let documented = doc["components"]["errors"].as_object().unwrap();
    assert_eq!(ErrorCode::ALL.len(), documented.len());
    for code in ErrorCode::ALL {
        let entry = &documented[&format!("{code:?}")];
        assert_eq!(entry["code"], json!(code.code()));
        assert_eq!(entry["message"], json!(code.message()));
        assert_eq!(ErrorCode::from_code(code.code()), Some(code));
    }
    assert_eq!(ErrorCode::from_code(-31999), None);
}

#[test]
fn enums_parse_from_their_wire_names_and_name_the_alternatives_otherwise() {
    assert_eq!(
        "checksum-mismatch".parse::<FailureCode>(),
        Ok(FailureCode::ChecksumMismatch)
    );
    let error = "done".parse::<DownloadState>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown download state `done`: expected one of queued, active, paused, complete, error"
    );
}
