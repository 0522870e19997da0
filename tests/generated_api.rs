//! The generated API module speaks the wire format the document defines:
//! asserted as raw JSON, so the bytes themselves are what is checked.

use haul::api::{
    errors, method, notification, DownloadAddParams, DownloadListParams, DownloadProgressEvent,
    DownloadState, DownloadStatus, ErrorCode, FailureCode, Notification, OverwritePolicy,
    OPENRPC_JSON,
};
use serde_json::{json, Value};

fn document() -> Value {
    serde_json::from_str(OPENRPC_JSON).unwrap()
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
fn unknown_values_are_null_not_absent_in_a_status() {
    let status: DownloadStatus = serde_json::from_value(json!({
        "gid": "a0b1c2d3e4f56789", "url": "https://example.com/x", "state": "queued", "fileName": null,
        "path": null, "totalLength": null, "completedLength": 0, "downloadSpeed": 0, "eta": null,
        "connections": 0, "speedLimit": 0, "error": null, "createdAt": "2026-11-22T09:16:40Z", "completedAt": null
    }))
    .unwrap();
    let wire = serde_json::to_value(&status).unwrap();
    assert_eq!(wire["totalLength"], Value::Null);
    assert_eq!(
        wire.as_object().unwrap().len(),
        14,
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
