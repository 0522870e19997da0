//! The Python emitter: the generated part of `clients/python` (package
//! `haul_client`), next to its hand-written runtime (`_client.py`, `_http.py`,
//! `_websocket.py`, `_jsonrpc.py`, `_errors.py`, `_wire.py`, `_local.py`) and event
//! stream (`_events.py`, `_poll.py`).
//!
//! - `models.py`: `components/schemas` as type aliases, `str` enums and
//!   frozen dataclasses, each with an explicit `from_wire` / `to_wire`.
//! - `errors.py`: the `ErrorCode` `IntEnum`, the errors' data dataclasses and
//!   `error_from_wire`, which builds a `HaulError` with typed data.
//! - `params.py`, `events.py`: a dataclass per method's params and per
//!   notification's payload, the `Notification` union and its decoders.
//! - `client.py`, `async_client.py`: `Client` and `AsyncClient`, one method
//!   per API method with keyword-only params; `AsyncClient.events()` takes
//!   the filters of `events.subscribe` and returns the hand-written stream.
//! - `__init__.py`: the exports and `__version__`, the document's
//!   `info.version`, which the hand-written `pyproject.toml` reads.
//!
//! Mapping: wire names are camelCase, Python names snake_case. An optional
//! param or field is `Optional[T] = None`, and `None` means absent (left out
//! of the wire form); a nullable one is `Optional[T]` and `None` is `null`.
//! Enums the daemon sends are typed `Union[E, str]` and decode a value this
//! client does not know to the plain `str`; params take the enum itself.
//!
//! Here: [`generate`] and what every module shares (imports, layout);
//! `types` writes the first four modules, `client` the rest, `text` the
//! names, literals and docstrings.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::{header, Api, Output};

mod client;
pub(crate) mod text;
mod types;

use client::{client, package_init};
use text::doc;
use types::{errors, events, models, params};

const ROOT: &str = "clients/python";
/// Generated lines stay within this width where the text allows.
const WIDTH: usize = 88;
/// Names the hand-written client bases use; no API method may take them.
const RESERVED_METHODS: &[&str] = &["aclose", "close", "connect", "events", "url"];

/// Names the package defines besides the document's types (and
/// [`EVENT_STREAM_NAMES`]).
const RESERVED_TYPES: &[&str] = &[
    "AsyncClient",
    "Client",
    "ErrorCode",
    "HaulError",
    "Notification",
    "TransportError",
];

/// What the hand-written event stream exports, by module.
const EVENT_STREAM_NAMES: &[(&str, &[&str])] = &[(
    "._events",
    &["Event", "Events", "EventsMode", "Resync", "ResyncReason"],
)];

/// The generated files, by path relative to the repository root.
pub fn generate(api: &Api) -> Vec<Output> {
    if let Some(taken) = api.types.iter().find(|t| {
        // The union of the notifications is that name (see `events.py`).
        !matches!(t.kind, crate::model::TypeKind::Notifications)
            && RESERVED_TYPES
                .iter()
                .chain(EVENT_STREAM_NAMES.iter().flat_map(|(_, names)| *names))
                .any(|&n| n == t.name)
    }) {
        panic!(
            "/components/schemas/{}: the Python package defines this name itself",
            taken.name
        );
    }
    let files = [
        ("haul_client/__init__.py", package_init(api)),
        ("haul_client/models.py", models(api)),
        ("haul_client/errors.py", errors(api)),
        ("haul_client/params.py", params(api)),
        ("haul_client/events.py", events(api)),
        ("haul_client/client.py", client(api, false)),
        ("haul_client/async_client.py", client(api, true)),
    ];
    files
        .into_iter()
        .map(|(path, text)| Output {
            path: format!("{ROOT}/{path}"),
            text: format!("{}{text}", header("#")),
        })
        .collect()
}

/// The import lines a module needs, collected while its body is written.
#[derive(Default)]
struct Imports {
    /// `from typing import …` names.
    typing: BTreeSet<&'static str>,
    /// Other standard-library import lines.
    stdlib: BTreeSet<String>,
    /// Import lines from this package.
    local: BTreeSet<String>,
    /// From the hand-written `_wire` helpers.
    wire: BTreeSet<&'static str>,
    /// Named types from `models.py` (which does not import itself).
    models: BTreeSet<String>,
    /// Named types from `events.py`: the `Notification` union and the
    /// dataclasses holding it (`events.py` imports `models.py`, so they
    /// cannot live there).
    events: BTreeSet<String>,
}

impl Imports {
    fn typing(&mut self, name: &'static str) {
        self.typing.insert(name);
    }

    fn stdlib(&mut self, line: &str) {
        self.stdlib.insert(line.to_owned());
    }

    fn local(&mut self, line: String) {
        self.local.insert(line);
    }

    /// The named type `n`, from the module that defines it.
    fn named(&mut self, api: &Api, n: &str) {
        if types::in_events_module(api, n) {
            self.events.insert(n.to_owned());
        } else {
            self.models.insert(n.to_owned());
        }
    }

    /// isort's order: `__future__`, the standard library, this package.
    /// `this` is the module's own name (which imports nothing from itself).
    fn render(&self, this: Module) -> String {
        let mut stdlib = self.stdlib.clone();
        if !self.typing.is_empty() {
            stdlib.insert(import_line("typing", self.typing.iter().copied()));
        }
        let mut local = self.local.clone();
        if !self.wire.is_empty() {
            local.insert(import_line("._wire", self.wire.iter().copied()));
        }
        if this != Module::Models && !self.models.is_empty() {
            local.insert(import_line(
                ".models",
                self.models.iter().map(String::as_str),
            ));
        }
        if this != Module::Events && !self.events.is_empty() {
            local.insert(import_line(
                ".events",
                self.events.iter().map(String::as_str),
            ));
        }
        let mut text = "from __future__ import annotations\n".to_owned();
        for group in [stdlib, local] {
            if !group.is_empty() {
                text.push('\n');
                for line in group {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
        }
        text
    }
}

fn import_line<'a>(module: &str, names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    let line = format!("from {module} import {}", names.join(", "));
    if line.len() <= WIDTH {
        return line;
    }
    let mut text = format!("from {module} import (\n");
    for name in names {
        let _ = writeln!(text, "    {name},");
    }
    text.push(')');
    text
}

/// The generated modules whose names the others import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Module {
    Models,
    Events,
    Other,
}

/// A module: its docstring, imports and body.
fn module(about: &str, imports: &Imports, this: Module, body: &str) -> String {
    format!(
        "{}\n{}\n\n{}\n",
        doc("", about),
        imports.render(this),
        body.trim_end()
    )
}
