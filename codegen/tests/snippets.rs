//! The docs' snippets, reviewed like code: two methods of the real document,
//! and every kind of value once (enums, arrays, maps, a struct, null, a
//! bounded integer, a required string alias) from the small test document.
//! That they build and are accepted by a daemon is tested in each SDK's suite.

mod support;

use haul_codegen::snippets::{snippets, Snippets};
use serde_json::json;
use support::{api, document, edited};

fn shown(s: &Snippets) -> String {
    format!(
        "example: {}\n--- curl\n{}--- rust\n{}--- typescript\n{}--- python\n{}",
        s.example, s.curl, s.rust, s.typescript, s.python
    )
}

#[test]
fn the_snippets_of_download_add_and_download_list_match_the_reviewed_snapshot() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openrpc.json")).unwrap();
    let api = haul_codegen::Api::parse_str(&text).unwrap();
    for name in ["download.add", "download.list"] {
        let method = api.methods.iter().find(|m| m.name == name).unwrap();
        insta::assert_snapshot!(name, shown(&snippets(&api, method).unwrap()));
    }
}

#[test]
fn every_kind_of_value_is_spelled_the_way_each_sdk_takes_it() {
    let doc = edited(&document(), |d| {
        let params = d["methods"][0]["params"].as_array_mut().unwrap();
        params.push(json!({"name": "like", "description": "An item like it.",
                           "schema": {"$ref": "#/components/schemas/Item"}}));
        params.push(json!({"name": "tags", "description": "Tags.",
                           "schema": {"type": "object", "additionalProperties": {"type": "integer"}}}));
        d["methods"][0]["examples"][0]["params"] = json!([
            {"name": "name", "value": "it's"},
            {"name": "count", "value": 3},
            {"name": "labels", "value": ["x", "y"]},
            {"name": "note", "value": null},
            {"name": "priority", "value": "high"},
            {"name": "like", "value": {"id": 7, "state": "done", "color": "blue", "note": "n"}},
            {"name": "tags", "value": {"a-b": 1}}
        ]);
    });
    let api = api(&doc);
    insta::assert_snapshot!(
        "every_kind_of_value",
        shown(&snippets(&api, &api.methods[0]).unwrap())
    );
}
