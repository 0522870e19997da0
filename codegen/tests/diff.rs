//! The contract checker on a small document changed one way at a time
//! (tests/support): each test asserts every line `haul-codegen diff` prints.

mod support;

use haul_codegen::diff::{breaks, diff, summary};
use serde_json::{json, Value};
use support::{api, document, edited};

/// The changes `edit` makes to the small document, as printed.
fn changes(edit: impl FnOnce(&mut Value)) -> Vec<String> {
    let old = document();
    between(&old, &edited(&old, edit))
}

fn between(old: &Value, new: &Value) -> Vec<String> {
    diff(&api(old), &api(new))
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn array(v: &mut Value) -> &mut Vec<Value> {
    v.as_array_mut().expect("an array")
}

fn object(v: &mut Value) -> &mut serde_json::Map<String, Value> {
    v.as_object_mut().expect("an object")
}

/// A second notification, as `item.added` is the first.
fn removed_notification() -> Value {
    json!({
        "name": "item.removed",
        "summary": "An item was removed",
        "description": "Sent when an item is removed.",
        "x-notification": true,
        "paramStructure": "by-name",
        "params": [{"name": "id", "description": "Its id.", "required": true, "schema": {"type": "integer"}}],
        "examples": [{"name": "removed", "params": [{"name": "id", "value": 1}]}]
    })
}

#[test]
fn identical_documents_have_no_changes() {
    assert_eq!(changes(|_| {}), Vec::<String>::new());
}

// Breaking: removed or renamed.

#[test]
fn a_removed_method_is_breaking() {
    let lines = changes(|d| {
        array(&mut d["methods"]).remove(0);
    });
    assert_eq!(lines, ["breaking    /methods/0  method item.add removed"]);
}

#[test]
fn a_removed_param_is_breaking() {
    let lines = changes(|d| {
        array(&mut d["methods"][0]["params"]).remove(1);
    });
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/1  item.add: param \"count\" removed"]
    );
}

#[test]
fn a_removed_result_field_is_breaking() {
    let lines = changes(|d| {
        let item = &mut d["components"]["schemas"]["Item"];
        object(&mut item["properties"]).remove("id");
        array(&mut item["required"]).remove(0);
    });
    assert_eq!(
        lines,
        ["breaking    /components/schemas/Item/properties/id  Item: field \"id\" removed"]
    );
}

#[test]
fn a_removed_notification_is_breaking() {
    let lines = changes(|d| {
        array(&mut d["methods"]).remove(1);
    });
    assert_eq!(
        lines,
        ["breaking    /methods/1  notification item.added removed"]
    );
}

#[test]
fn a_removed_notification_field_is_breaking() {
    let lines = changes(|d| {
        array(&mut d["methods"][1]["params"]).remove(1);
    });
    assert_eq!(
        lines,
        ["breaking    /methods/1/params/1  item.added: field \"size\" removed"]
    );
}

#[test]
fn a_removed_error_is_breaking() {
    let lines = changes(|d| {
        object(&mut d["components"]["errors"]).remove("Busy");
        object(&mut d["components"]["schemas"]).remove("BusyErrorData");
    });
    assert_eq!(
        lines,
        ["breaking    /components/errors/Busy  error Busy (-32002) removed"]
    );
}

#[test]
fn a_renamed_error_is_breaking() {
    let lines = changes(|d| {
        let error = object(&mut d["components"]["errors"])
            .remove("Busy")
            .unwrap();
        d["components"]["errors"]["Overloaded"] = error;
        let data = object(&mut d["components"]["schemas"])
            .remove("BusyErrorData")
            .unwrap();
        d["components"]["schemas"]["OverloadedErrorData"] = data;
    });
    assert_eq!(
        lines,
        ["breaking    /components/errors/Overloaded  error Busy (-32002) renamed to Overloaded"]
    );
}

#[test]
fn a_removed_named_type_is_breaking() {
    let lines = changes(|d| {
        d["methods"][0]["params"][0]["schema"] = json!({"type": "string"});
        object(&mut d["components"]["schemas"]).remove("Name");
    });
    assert_eq!(
        lines,
        [
            "breaking    /methods/0/params/0  item.add: param \"name\": type changed from Name to string",
            "breaking    /components/schemas/Name  type Name removed",
        ]
    );
}

// Breaking: params that clients must now send.

#[test]
fn a_param_made_required_is_breaking() {
    let lines = changes(|d| d["methods"][0]["params"][1]["required"] = json!(true));
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/1  item.add: param \"count\" is now required"]
    );
}

#[test]
fn a_new_required_param_is_breaking() {
    let lines = changes(|d| {
        array(&mut d["methods"][0]["params"]).push(json!(
            {"name": "owner", "description": "Who.", "required": true, "schema": {"type": "string"}}
        ))
    });
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/6  item.add: new required param \"owner\""]
    );
}

#[test]
fn required_params_in_another_order_are_breaking() {
    let old = edited(&document(), |d| {
        d["methods"][0]["params"][1]["required"] = json!(true)
    });
    let new = edited(&old, |d| array(&mut d["methods"][0]["params"]).swap(0, 1));
    assert_eq!(
        between(&old, &new),
        ["breaking    /methods/0/params  item.add: required params reordered from [name, count] to [count, name] (the Rust SDK's Params::new takes them in document order)"]
    );
}

#[test]
fn a_changed_default_of_a_param_is_breaking() {
    let lines = changes(|d| d["methods"][0]["params"][1]["schema"]["default"] = json!(2));
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/1  item.add: param \"count\": default changed from 1 to 2"]
    );
}

// Breaking: a type changed.

#[test]
fn a_changed_type_is_breaking() {
    let lines = changes(|d| {
        d["components"]["schemas"]["Item"]["properties"]["id"] =
            json!({"description": "Its id.", "type": "string"})
    });
    assert_eq!(
        lines,
        ["breaking    /components/schemas/Item/properties/id  Item: field \"id\": type changed from integer to string"]
    );
}

#[test]
fn a_type_changed_from_an_enum_to_an_object_is_breaking() {
    let lines = changes(|d| {
        d["components"]["schemas"]["State"] = json!({
            "description": "A state.", "type": "object", "properties": {}, "additionalProperties": false
        })
    });
    assert_eq!(
        lines,
        ["breaking    /components/schemas/State  State: changed from an enum to an object"]
    );
}

// Breaking: an input narrowed.

#[test]
fn an_enum_value_removed_from_an_input_is_breaking() {
    let lines = changes(|d| {
        array(&mut d["components"]["schemas"]["Priority"]["enum"]).remove(1);
    });
    assert_eq!(
        lines,
        ["breaking    /components/schemas/Priority/enum/1  Priority: value \"high\" removed"]
    );
}

#[test]
fn a_raised_minimum_of_an_input_is_breaking() {
    let lines = changes(|d| d["methods"][0]["params"][1]["schema"]["minimum"] = json!(2));
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/1  item.add: param \"count\": minimum raised from 1 to 2"]
    );
}

#[test]
fn a_lowered_maximum_of_an_input_is_breaking() {
    let lines = changes(|d| d["methods"][0]["params"][1]["schema"]["maximum"] = json!(5));
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/1  item.add: param \"count\": maximum lowered from 10 to 5"]
    );
}

#[test]
fn a_lowered_max_length_of_an_input_is_breaking() {
    let lines = changes(|d| d["components"]["schemas"]["Name"]["maxLength"] = json!(16));
    assert_eq!(
        lines,
        ["breaking    /components/schemas/Name  Name: maxLength lowered from 32 to 16"]
    );
}

#[test]
fn a_lowered_max_length_of_an_inputs_items_is_breaking() {
    let lines =
        changes(|d| d["methods"][0]["params"][2]["schema"]["items"]["maxLength"] = json!(4));
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/2  item.add: param \"labels\"'s items: maxLength lowered from 8 to 4"]
    );
}

#[test]
fn a_lowered_max_items_of_an_input_is_breaking() {
    let lines = changes(|d| d["methods"][0]["params"][2]["schema"]["maxItems"] = json!(2));
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/2  item.add: param \"labels\": maxItems lowered from 4 to 2"]
    );
}

#[test]
fn unique_items_required_of_an_input_is_breaking() {
    let lines = changes(|d| d["methods"][0]["params"][2]["schema"]["uniqueItems"] = json!(true));
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/2  item.add: param \"labels\": items must now be unique"]
    );
}

#[test]
fn a_changed_pattern_is_breaking() {
    let lines = changes(|d| d["components"]["schemas"]["Name"]["pattern"] = json!("^[a-z0-9]+$"));
    assert_eq!(
        lines,
        ["breaking    /components/schemas/Name  Name: pattern changed from \"^[a-z]+$\" to \"^[a-z0-9]+$\""]
    );
}

#[test]
fn a_new_pattern_on_an_input_is_breaking() {
    let lines = changes(|d| d["methods"][0]["params"][3]["schema"]["pattern"] = json!("^\\S+$"));
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/3  item.add: param \"note\": pattern \"^\\\\S+$\" added"]
    );
}

#[test]
fn a_param_no_longer_nullable_is_breaking() {
    let lines = changes(|d| d["methods"][0]["params"][3]["schema"] = json!({"type": "string"}));
    assert_eq!(
        lines,
        ["breaking    /methods/0/params/3  item.add: param \"note\" is no longer nullable"]
    );
}

// Breaking: an output widened.

#[test]
fn a_result_field_made_nullable_is_breaking() {
    let lines = changes(|d| {
        d["components"]["schemas"]["Item"]["properties"]["id"]["type"] = json!(["integer", "null"])
    });
    assert_eq!(
        lines,
        ["breaking    /components/schemas/Item/properties/id  Item: field \"id\" is now nullable"]
    );
}

#[test]
fn a_result_field_made_optional_is_breaking() {
    let lines = changes(|d| {
        array(&mut d["components"]["schemas"]["Item"]["required"]).remove(0);
    });
    assert_eq!(
        lines,
        ["breaking    /components/schemas/Item/properties/id  Item: field \"id\" is now optional"]
    );
}

#[test]
fn a_notification_field_made_nullable_is_breaking() {
    let lines =
        changes(|d| d["methods"][1]["params"][0]["schema"]["type"] = json!(["integer", "null"]));
    assert_eq!(
        lines,
        ["breaking    /methods/1/params/0  item.added: field \"id\" is now nullable"]
    );
}

#[test]
fn a_loosened_bound_of_an_output_is_breaking() {
    let lines = changes(|d| {
        object(&mut d["methods"][1]["params"][1]["schema"]).remove("minimum");
    });
    assert_eq!(
        lines,
        ["breaking    /methods/1/params/1  item.added: field \"size\": minimum 0 removed"]
    );
}

#[test]
fn a_new_enum_value_in_an_output_is_breaking() {
    let lines =
        changes(|d| array(&mut d["components"]["schemas"]["State"]["enum"]).push(json!("lost")));
    assert_eq!(
        lines,
        ["breaking    /components/schemas/State/enum/2  State: new value \"lost\" (clients receive State and do not know it)"]
    );
}

#[test]
fn a_new_enum_value_in_a_type_used_both_ways_is_breaking() {
    let lines =
        changes(|d| array(&mut d["components"]["schemas"]["Color"]["enum"]).push(json!("green")));
    assert_eq!(
        lines,
        ["breaking    /components/schemas/Color/enum/2  Color: new value \"green\" (clients receive Color and do not know it)"]
    );
}

#[test]
fn a_type_counts_as_sent_where_either_document_sends_it() {
    // Priority is only an input in the old document; the new one also
    // returns it, through a field of a type the old one already returned.
    let lines = changes(|d| {
        let item = &mut d["components"]["schemas"]["Item"];
        item["properties"]["priority"] =
            json!({"description": "Its priority.", "$ref": "#/components/schemas/Priority"});
        array(&mut d["components"]["schemas"]["Priority"]["enum"]).push(json!("urgent"));
    });
    assert_eq!(
        lines,
        [
            "breaking    /components/schemas/Priority/enum/2  Priority: new value \"urgent\" (clients receive Priority and do not know it)",
            "compatible  /components/schemas/Item/properties/priority  Item: new optional field \"priority\"",
        ]
    );
}

#[test]
fn an_enum_value_removed_from_a_type_used_both_ways_is_breaking() {
    let lines = changes(|d| {
        array(&mut d["components"]["schemas"]["Color"]["enum"]).remove(1);
    });
    assert_eq!(
        lines,
        ["breaking    /components/schemas/Color/enum/1  Color: value \"blue\" removed"]
    );
}

#[test]
fn a_new_notification_is_breaking_where_clients_receive_the_union() {
    let lines = changes(|d| {
        array(&mut d["methods"]).push(removed_notification());
        d["components"]["schemas"]["Notification"] =
            json!({"description": "Any notification.", "x-notifications": true});
        d["methods"][0]["result"]["schema"] = json!({"$ref": "#/components/schemas/Notification"});
    });
    assert_eq!(
        lines,
        [
            "breaking    /methods/0/result  item.add: result: type changed from Item to Notification",
            "compatible  /methods/2  new notification item.removed",
            "compatible  /components/schemas/Notification  new type Notification",
        ]
    );
    // The union already there, a notification more is a new variant of it.
    let old = edited(&document(), |d| {
        d["components"]["schemas"]["Notification"] =
            json!({"description": "Any notification.", "x-notifications": true});
        d["methods"][0]["result"]["schema"] = json!({"$ref": "#/components/schemas/Notification"});
    });
    let new = edited(&old, |d| {
        array(&mut d["methods"]).push(removed_notification())
    });
    assert_eq!(
        between(&old, &new),
        [
            "breaking    /components/schemas/Notification  Notification: new variant \"item.removed\" (clients receive Notification and do not know it)",
            "compatible  /methods/2  new notification item.removed",
        ]
    );
}

// Breaking: errors.

#[test]
fn an_error_code_reused_for_a_different_error_is_breaking() {
    let lines = changes(|d| {
        d["components"]["errors"]["Busy"]["code"] = json!(-32003);
        d["components"]["errors"]["Gone"] = json!({"code": -32002, "message": "Gone"});
        d["components"]["schemas"]["GoneErrorData"] =
            json!({"description": "Gone.", "type": "null"});
    });
    assert_eq!(
        lines,
        [
            "breaking    /components/errors/Busy  error Busy: code changed from -32002 to -32003",
            "breaking    /components/errors/Gone  new error Gone reuses code -32002, which was Busy's",
        ]
    );
}

#[test]
fn a_changed_error_message_is_breaking() {
    let lines = changes(|d| d["components"]["errors"]["Busy"]["message"] = json!("Too busy"));
    assert_eq!(
        lines,
        ["breaking    /components/errors/Busy  error Busy: message changed from \"Busy\" to \"Too busy\" (messages are stable: clients may match them)"]
    );
}

#[test]
fn error_data_no_longer_sent_is_breaking() {
    let lines = changes(|d| {
        d["components"]["schemas"]["NotFoundErrorData"] =
            json!({"description": "No such item.", "type": "null"});
        object(&mut d["components"]["errors"]["NotFound"]).remove("data");
    });
    assert_eq!(
        lines,
        [
            "breaking    /components/schemas/NotFoundErrorData  error NotFound no longer carries data",
            "docs        /components/errors/NotFound  error NotFound: example data changed",
        ]
    );
}

#[test]
fn a_removed_error_data_field_is_breaking() {
    let lines = changes(|d| {
        let data = &mut d["components"]["schemas"]["NotFoundErrorData"];
        object(&mut data["properties"]).remove("id");
        object(data).remove("required");
    });
    assert_eq!(
        lines,
        ["breaking    /components/schemas/NotFoundErrorData/properties/id  error NotFound data: field \"id\" removed"]
    );
}

// Compatible.

#[test]
fn a_new_method_is_compatible() {
    let lines = changes(|d| {
        let mut method = d["methods"][0].clone();
        method["name"] = json!("item.copy");
        array(&mut d["methods"]).push(method);
    });
    assert_eq!(lines, ["compatible  /methods/2  new method item.copy"]);
}

#[test]
fn a_new_notification_is_compatible() {
    let lines = changes(|d| array(&mut d["methods"]).push(removed_notification()));
    assert_eq!(
        lines,
        ["compatible  /methods/2  new notification item.removed"]
    );
}

#[test]
fn a_new_error_is_compatible() {
    let lines = changes(|d| {
        d["components"]["errors"]["Gone"] = json!({"code": -32003, "message": "Gone"});
        d["components"]["schemas"]["GoneErrorData"] =
            json!({"description": "Gone.", "type": "null"});
    });
    assert_eq!(
        lines,
        ["compatible  /components/errors/Gone  new error Gone (-32003)"]
    );
}

#[test]
fn a_new_named_type_is_compatible() {
    let lines = changes(|d| {
        d["components"]["schemas"]["Size"] = json!({"description": "A size.", "type": "integer"})
    });
    assert_eq!(
        lines,
        ["compatible  /components/schemas/Size  new type Size"]
    );
}

#[test]
fn a_new_optional_param_is_compatible() {
    let lines = changes(|d| {
        array(&mut d["methods"][0]["params"]).push(json!(
            {"name": "owner", "description": "Who.", "schema": {"type": "string"}}
        ))
    });
    assert_eq!(
        lines,
        ["compatible  /methods/0/params/6  item.add: new optional param \"owner\""]
    );
}

#[test]
fn a_new_result_field_is_compatible() {
    let lines = changes(|d| {
        let item = &mut d["components"]["schemas"]["Item"];
        item["properties"]["size"] = json!({"description": "Its size.", "type": "integer"});
        array(&mut item["required"]).push(json!("size"));
    });
    assert_eq!(
        lines,
        ["compatible  /components/schemas/Item/properties/size  Item: new required field \"size\""]
    );
}

#[test]
fn a_new_notification_field_is_compatible() {
    let lines = changes(|d| {
        array(&mut d["methods"][1]["params"]).push(json!(
            {"name": "name", "description": "Its name.", "required": true, "schema": {"type": "string"}}
        ))
    });
    assert_eq!(
        lines,
        ["compatible  /methods/1/params/2  item.added: new required field \"name\""]
    );
}

#[test]
fn a_new_enum_value_in_an_input_is_compatible() {
    let lines = changes(|d| {
        array(&mut d["components"]["schemas"]["Priority"]["enum"]).push(json!("urgent"))
    });
    assert_eq!(
        lines,
        ["compatible  /components/schemas/Priority/enum/2  Priority: new value \"urgent\""]
    );
}

#[test]
fn a_lowered_minimum_of_an_input_is_compatible() {
    let lines = changes(|d| d["methods"][0]["params"][1]["schema"]["minimum"] = json!(0));
    assert_eq!(
        lines,
        ["compatible  /methods/0/params/1  item.add: param \"count\": minimum lowered from 1 to 0"]
    );
}

#[test]
fn a_raised_max_length_of_an_input_is_compatible() {
    let lines = changes(|d| d["components"]["schemas"]["Name"]["maxLength"] = json!(64));
    assert_eq!(
        lines,
        ["compatible  /components/schemas/Name  Name: maxLength raised from 32 to 64"]
    );
}

#[test]
fn a_removed_pattern_of_an_input_is_compatible() {
    let lines = changes(|d| {
        object(&mut d["components"]["schemas"]["Name"]).remove("pattern");
    });
    assert_eq!(
        lines,
        ["compatible  /components/schemas/Name  Name: pattern \"^[a-z]+$\" removed"]
    );
}

#[test]
fn a_param_made_optional_is_compatible() {
    let lines = changes(|d| d["methods"][0]["params"][0]["required"] = json!(false));
    assert_eq!(
        lines,
        ["compatible  /methods/0/params/0  item.add: param \"name\" is now optional"]
    );
}

#[test]
fn a_param_made_nullable_is_compatible() {
    let lines =
        changes(|d| d["methods"][0]["params"][1]["schema"]["type"] = json!(["integer", "null"]));
    assert_eq!(
        lines,
        ["compatible  /methods/0/params/1  item.add: param \"count\" is now nullable"]
    );
}

#[test]
fn a_nullable_result_field_made_non_null_is_compatible() {
    let lines = changes(|d| {
        d["components"]["schemas"]["Item"]["properties"]["note"]["type"] = json!("string")
    });
    assert_eq!(
        lines,
        ["compatible  /components/schemas/Item/properties/note  Item: field \"note\" is no longer nullable"]
    );
}

#[test]
fn a_tightened_bound_of_an_output_is_compatible() {
    let lines = changes(|d| d["methods"][1]["params"][1]["schema"]["maximum"] = json!(100));
    assert_eq!(
        lines,
        ["compatible  /methods/1/params/1  item.added: field \"size\": maximum 100 added"]
    );
}

#[test]
fn an_enum_value_removed_from_an_output_is_compatible() {
    let lines = changes(|d| {
        array(&mut d["components"]["schemas"]["State"]["enum"]).remove(1);
    });
    assert_eq!(
        lines,
        ["compatible  /components/schemas/State/enum/1  State: value \"done\" removed"]
    );
}

#[test]
fn a_method_that_may_return_other_errors_is_compatible() {
    let lines =
        changes(|d| d["methods"][0]["errors"] = json!([{"$ref": "#/components/errors/Busy"}]));
    assert_eq!(
        lines,
        [
            "compatible  /methods/0/errors  item.add: may now return Busy",
            "compatible  /methods/0/errors  item.add: no longer returns NotFound",
        ]
    );
}

#[test]
fn error_data_newly_sent_is_compatible() {
    let lines = changes(|d| {
        d["components"]["schemas"]["BusyErrorData"] = json!({
            "description": "Too busy.", "type": "object", "required": ["retryAfter"],
            "properties": {"retryAfter": {"description": "Seconds.", "type": "integer"}},
            "additionalProperties": false
        })
    });
    assert_eq!(
        lines,
        ["compatible  /components/schemas/BusyErrorData  error Busy now carries data"]
    );
}

// Docs.

#[test]
fn a_changed_description_is_docs() {
    let lines = changes(|d| {
        d["methods"][0]["params"][0]["description"] = json!("The item's name.");
        d["components"]["schemas"]["Item"]["description"] = json!("One item.");
    });
    assert_eq!(
        lines,
        [
            "docs        /methods/0/params/0  item.add: param \"name\": description changed",
            "docs        /components/schemas/Item  Item: description changed",
        ]
    );
}

#[test]
fn a_changed_summary_is_docs() {
    let lines = changes(|d| d["methods"][1]["summary"] = json!("Item added"));
    assert_eq!(
        lines,
        ["docs        /methods/1  item.added: summary changed"]
    );
}

#[test]
fn changed_examples_are_docs() {
    let lines = changes(|d| {
        d["methods"][0]["examples"][0]["name"] = json!("add an item");
        d["components"]["schemas"]["Name"]["examples"] = json!(["abc"]);
    });
    assert_eq!(
        lines,
        [
            "docs        /methods/0  item.add: examples changed",
            "docs        /components/schemas/Name  Name: examples changed",
        ]
    );
}

#[test]
fn changed_tags_are_docs() {
    let lines =
        changes(|d| d["methods"][0]["tags"] = json!([{"name": "items"}, {"name": "write"}]));
    assert_eq!(
        lines,
        ["docs        /methods/0/tags  item.add: tags changed from [items] to [items, write]"]
    );
}

#[test]
fn a_changed_default_of_an_output_is_docs() {
    let lines = changes(|d| d["methods"][1]["params"][1]["schema"]["default"] = json!(0));
    assert_eq!(
        lines,
        ["docs        /methods/1/params/1  item.added: field \"size\": default changed from none to 0"]
    );
}

// Together.

#[test]
fn changes_are_listed_breaking_first_and_summed_up() {
    let old = document();
    let new = edited(&old, |d| {
        d["methods"][1]["summary"] = json!("Item added");
        array(&mut d["components"]["schemas"]["Priority"]["enum"]).push(json!("urgent"));
        d["methods"][0]["params"][1]["required"] = json!(true);
    });
    let changes = diff(&api(&old), &api(&new));
    let classes: Vec<&str> = changes.iter().map(|c| c.class.as_str()).collect();
    assert_eq!(classes, ["breaking", "compatible", "docs"]);
    assert!(breaks(&changes));
    assert_eq!(
        summary(&changes),
        "1 breaking, 1 compatible and 1 docs changes"
    );
    assert_eq!(summary(&changes[1..2]), "1 compatible change");
    assert_eq!(summary(&[]), "no changes");
}

// The command.

/// Runs `haul-codegen diff` on the small document and `new`: its exit code,
/// stdout and stderr.
fn run_diff(new: Option<&Value>) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("haul-codegen-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (old_path, new_path) = (dir.join("old.json"), dir.join("new.json"));
    std::fs::write(&old_path, document().to_string()).unwrap();
    match new {
        Some(new) => std::fs::write(&new_path, new.to_string()).unwrap(),
        None => {
            let _ = std::fs::remove_file(&new_path);
        }
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_haul-codegen"))
        .arg("diff")
        .args([&old_path, &new_path])
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn the_diff_command_exits_0_when_nothing_breaks_1_when_something_does_2_when_it_cannot_read() {
    let compatible = edited(&document(), |d| {
        d["methods"][1]["summary"] = json!("Item added")
    });
    let (code, out, err) = run_diff(Some(&compatible));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "docs        /methods/1  item.added: summary changed\n",
            "1 docs change\n"
        )
    );

    let breaking = edited(&document(), |d| {
        d["methods"][0]["params"][1]["required"] = json!(true)
    });
    let (code, out, err) = run_diff(Some(&breaking));
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "breaking    /methods/0/params/1  item.add: param \"count\" is now required\n"
    );
    assert!(err.contains("needs a new major version"), "{err}");

    let (code, out, err) = run_diff(None);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.starts_with("error: cannot read ") && err.contains("new.json"),
        "{err}"
    );

    let invalid = edited(&document(), |d| {
        d["methods"][0]["paramStructure"] = json!("either")
    });
    let (code, _, err) = run_diff(Some(&invalid));
    assert_eq!(code, 2);
    assert!(
        err.ends_with(
            "new.json: /methods/0: every method must declare \"paramStructure\": \"by-name\"\n"
        ),
        "{err}"
    );
}

// Scopes: a method that needs a wider token refuses the tokens that could
// call it; one without x-scope is from before scopes, when the one token
// could call everything.

#[test]
fn a_method_that_needs_a_wider_scope_is_breaking_and_a_narrower_one_compatible() {
    let old = edited(&document(), |d| d["methods"][0]["x-scope"] = json!("read"));
    let wider = edited(&old, |d| d["methods"][0]["x-scope"] = json!("control"));
    assert_eq!(
        between(&old, &wider),
        ["breaking    /methods/0/x-scope  item.add: needs the control scope, not read"]
    );
    assert!(breaks(&diff(&api(&old), &api(&wider))));
    assert_eq!(
        between(&wider, &old),
        ["compatible  /methods/0/x-scope  item.add: needs the read scope instead of control"]
    );
    // Declaring a scope where there was none narrows it from admin.
    assert_eq!(
        changes(|d| d["methods"][0]["x-scope"] = json!("control")),
        ["compatible  /methods/0/x-scope  item.add: needs the control scope instead of admin"]
    );
}

#[test]
fn a_param_that_newly_raises_its_methods_scope_is_breaking() {
    let old = edited(&document(), |d| d["methods"][0]["x-scope"] = json!("read"));
    let raised = edited(&old, |d| {
        d["methods"][0]["params"][1]["x-scope"] = json!({"scope": "admin", "when": 10});
    });
    assert_eq!(
        between(&old, &raised),
        ["breaking    /methods/0/x-scope  item.add with count 10: needs the admin scope, not read"]
    );
}
