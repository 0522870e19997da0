//! A small document the strict model accepts, for tests that change one
//! thing in it: every kind of member once, every direction once.
//!
//! - `item.add` (`/methods/0`) takes an input-only enum (`priority`:
//!   `Priority`), an enum used both ways (`color`: `Color`, also in `Item`),
//!   bounded params and a nullable one; returns `Item`, whose `state` is an
//!   output-only enum (`State`); may return `NotFound`.
//! - `item.added` (`/methods/1`) is a notification.
//! - `NotFound` (-32001) carries data, `Busy` (-32002) none.

#![allow(dead_code)] // each test binary uses its own share

use haul_codegen::Api;
use serde_json::{json, Value};

pub fn document() -> Value {
    json!({
        "openrpc": "1.3.2",
        "info": {"title": "t", "version": "0.1.0", "description": "A small API."},
        "methods": [
            {
                "name": "item.add",
                "summary": "Add an item",
                "description": "Adds an item.",
                "tags": [{"name": "items"}],
                "paramStructure": "by-name",
                "params": [
                    {"name": "name", "description": "Its name.", "required": true,
                     "schema": {"$ref": "#/components/schemas/Name"}},
                    {"name": "count", "description": "How many.",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1}},
                    {"name": "labels", "description": "Labels.",
                     "schema": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 4}},
                    {"name": "note", "description": "A note.", "schema": {"type": ["string", "null"]}},
                    {"name": "priority", "description": "Its priority.",
                     "schema": {"$ref": "#/components/schemas/Priority"}},
                    {"name": "color", "description": "Its color.",
                     "schema": {"$ref": "#/components/schemas/Color"}}
                ],
                "result": {"name": "item", "description": "The new item.",
                           "schema": {"$ref": "#/components/schemas/Item"}},
                "errors": [{"$ref": "#/components/errors/NotFound"}],
                "examples": [{
                    "name": "add one",
                    "params": [{"name": "name", "value": "a"}],
                    "result": {"name": "added", "value": {"id": 1, "state": "new", "color": "red", "note": null}}
                }]
            },
            {
                "name": "item.added",
                "summary": "An item was added",
                "description": "Sent when an item is added.",
                "x-notification": true,
                "paramStructure": "by-name",
                "params": [
                    {"name": "id", "description": "Its id.", "required": true, "schema": {"type": "integer"}},
                    {"name": "size", "description": "Its size.", "required": true,
                     "schema": {"type": "integer", "minimum": 0}}
                ],
                "examples": [{"name": "added", "params": [{"name": "id", "value": 1}, {"name": "size", "value": 2}]}]
            }
        ],
        "components": {
            "schemas": {
                "Name": {"description": "A name.", "type": "string",
                         "minLength": 1, "maxLength": 32, "pattern": "^[a-z]+$"},
                "Priority": {"description": "A priority.", "type": "string", "enum": ["low", "high"]},
                "Color": {"description": "A color.", "type": "string", "enum": ["red", "blue"]},
                "State": {"description": "A state.", "type": "string", "enum": ["new", "done"]},
                "Item": {
                    "description": "An item.",
                    "type": "object",
                    "required": ["id", "state", "color", "note"],
                    "properties": {
                        "id": {"description": "Its id.", "type": "integer"},
                        "state": {"description": "Its state.", "$ref": "#/components/schemas/State"},
                        "color": {"description": "Its color.", "$ref": "#/components/schemas/Color"},
                        "note": {"description": "A note.", "type": ["string", "null"]}
                    },
                    "additionalProperties": false
                },
                "NotFoundErrorData": {
                    "description": "No such item.",
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"description": "The id asked for.", "type": "integer"}},
                    "additionalProperties": false
                },
                "BusyErrorData": {"description": "Too busy.", "type": "null"}
            },
            "errors": {
                "NotFound": {"code": -32001, "message": "Not found", "data": {"id": 1}},
                "Busy": {"code": -32002, "message": "Busy"}
            }
        }
    })
}

/// The model of `doc`, which must be valid.
pub fn api(doc: &Value) -> Api {
    Api::parse(doc).unwrap_or_else(|e| panic!("the test document must parse: {e}"))
}

/// `doc` with `edit` applied.
pub fn edited(doc: &Value, edit: impl FnOnce(&mut Value)) -> Value {
    let mut doc = doc.clone();
    edit(&mut doc);
    doc
}
