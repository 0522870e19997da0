//! The Python emitter: the generated part of `clients/python` (package
//! `haul_client`), next to its hand-written runtime (`_client.py`, `_http.py`,
//! `_websocket.py`, `_jsonrpc.py`, `_errors.py`, `_wire.py`).
//!
//! - `models.py`: `components/schemas` as type aliases, `str` enums and
//!   frozen dataclasses, each with an explicit `from_wire` / `to_wire`.
//! - `errors.py`: the `ErrorCode` `IntEnum`, the errors' data dataclasses and
//!   `error_from_wire`, which builds a `HaulError` with typed data.
//! - `params.py`, `events.py`: a dataclass per method's params and per
//!   notification's payload, the `Notification` union and its decoders.
//! - `client.py`, `async_client.py`: `Client` and `AsyncClient`, one method
//!   per API method with keyword-only params.
//! - `__init__.py`: the exports and `__version__`, the document's
//!   `info.version`, which the hand-written `pyproject.toml` reads.
//!
//! Mapping: wire names are camelCase, Python names snake_case. An optional
//! param or field is `Optional[T] = None`, and `None` means absent (left out
//! of the wire form); a nullable one is `Optional[T]` and `None` is `null`.
//! Enums the daemon sends are typed `Union[E, str]` and decode a value this
//! client does not know to the plain `str`; params take the enum itself.

use std::collections::BTreeSet;
use std::fmt::Write;

use heck::{ToShoutySnakeCase, ToSnakeCase};

use crate::model::{pascal, ErrorDef, Field, Method, NamedType, Type, TypeKind};
use crate::{header, Api, Output};

const ROOT: &str = "clients/python";
/// Generated lines stay within this width where the text allows.
const WIDTH: usize = 88;
/// Names the hand-written client bases use; no API method may take them.
const RESERVED_METHODS: &[&str] = &["aclose", "close", "connect", "events", "url"];

/// Names the package defines besides the document's types.
const RESERVED_TYPES: &[&str] = &[
    "AsyncClient",
    "Client",
    "ErrorCode",
    "Events",
    "HaulError",
    "Notification",
    "TransportError",
];

/// The generated files, by path relative to the repository root.
pub fn generate(api: &Api) -> Vec<Output> {
    if let Some(taken) = api
        .types
        .iter()
        .find(|t| RESERVED_TYPES.contains(&t.name.as_str()))
    {
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

    /// isort's order: `__future__`, the standard library, this package.
    fn render(&self, module_is_models: bool) -> String {
        let mut stdlib = self.stdlib.clone();
        if !self.typing.is_empty() {
            stdlib.insert(import_line("typing", self.typing.iter().copied()));
        }
        let mut local = self.local.clone();
        if !self.wire.is_empty() {
            local.insert(import_line("._wire", self.wire.iter().copied()));
        }
        if !module_is_models && !self.models.is_empty() {
            local.insert(import_line(
                ".models",
                self.models.iter().map(String::as_str),
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

/// A module: its docstring, imports and body.
fn module(about: &str, imports: &Imports, is_models: bool, body: &str) -> String {
    format!(
        "{}\n{}\n\n{}\n",
        doc("", about),
        imports.render(is_models),
        body.trim_end()
    )
}

fn models(api: &Api) -> String {
    let mut im = Imports::default();
    let mut body = String::new();
    for t in &api.types {
        if let TypeKind::Enum(values) = &t.kind {
            im.stdlib("from enum import Enum");
            body.push_str(&enum_class(t, values));
        }
    }
    let (early, late) = alias_order(api);
    for t in &early {
        body.push_str(&alias(api, t, &mut im));
    }
    for t in &api.types {
        if let TypeKind::Struct(fields) = &t.kind {
            body.push_str(&dataclass(
                api,
                &t.name,
                &t.description,
                fields,
                false,
                None,
                &mut im,
            ));
        }
    }
    for t in &late {
        body.push_str(&alias(api, t, &mut im));
    }
    module(MODELS_DOC, &im, true, &body)
}

const MODELS_DOC: &str = "The API's named types (`components/schemas`): aliases, `str` enums and frozen dataclasses. Each dataclass converts explicitly: `from_wire` reads the wire form (camelCase keys, unknown keys ignored), `to_wire` writes it (optional fields that are `None` left out).";

/// Aliases in an order Python can evaluate: those that only name builtins,
/// enums or earlier aliases first; those naming a dataclass after the
/// dataclasses.
fn alias_order(api: &Api) -> (Vec<&NamedType>, Vec<&NamedType>) {
    fn visit<'a>(
        api: &'a Api,
        t: &'a NamedType,
        seen: &mut Vec<&'a str>,
        out: &mut Vec<&'a NamedType>,
    ) {
        if seen.contains(&t.name.as_str()) {
            return;
        }
        seen.push(&t.name);
        if let TypeKind::Alias(ty) = &t.kind {
            for name in named_refs(ty) {
                if let Some(dep) = api.named(&name) {
                    visit(api, dep, seen, out);
                }
            }
            out.push(t);
        }
    }
    fn late(api: &Api, ty: &Type) -> bool {
        named_refs(ty)
            .iter()
            .any(|n| match api.named(n).map(|t| &t.kind) {
                Some(TypeKind::Struct(_)) => true,
                Some(TypeKind::Alias(inner)) => late(api, inner),
                _ => false,
            })
    }
    let (mut seen, mut ordered) = (Vec::new(), Vec::new());
    for t in &api.types {
        visit(api, t, &mut seen, &mut ordered);
    }
    ordered.into_iter().partition(|t| match &t.kind {
        TypeKind::Alias(ty) => !late(api, ty),
        _ => true,
    })
}

fn named_refs(ty: &Type) -> Vec<String> {
    match ty {
        Type::Named(n) => vec![n.clone()],
        Type::Array(t) | Type::Map(t) | Type::Nullable(t) => named_refs(t),
        _ => Vec::new(),
    }
}

fn alias(api: &Api, t: &NamedType, im: &mut Imports) -> String {
    let TypeKind::Alias(ty) = &t.kind else {
        return String::new();
    };
    let ty = py_type(api, ty, false, im);
    format!("{} = {ty}\n{}\n\n", t.name, doc("", &t.description))
}

fn enum_class(t: &NamedType, values: &[String]) -> String {
    let about = format!(
        "{}\n\nA value the daemon sends that this client does not know (a newer daemon's) is kept as a plain `str`: fields of this type are typed `Union[{}, str]`.",
        t.description, t.name
    );
    let mut text = format!("class {}(str, Enum):\n{}\n", t.name, doc("    ", &about));
    for v in values {
        let _ = writeln!(text, "    {} = {}", enum_member(v), py_str(v));
    }
    text.push_str("\n\n");
    text
}

/// A frozen dataclass with `from_wire` and `to_wire`. `strict`: enum fields
/// take the enum only (params); otherwise also a newer daemon's `str`.
fn dataclass(
    api: &Api,
    name: &str,
    about: &str,
    fields: &[Field],
    strict: bool,
    method: Option<&str>,
    im: &mut Imports,
) -> String {
    // Python wants fields without a default first.
    let ordered: Vec<&Field> = fields
        .iter()
        .filter(|f| f.required)
        .chain(fields.iter().filter(|f| !f.required))
        .collect();
    im.stdlib("from dataclasses import dataclass");
    let mut text = format!(
        "@dataclass(frozen=True)\nclass {name}:\n{}\n",
        doc("    ", about)
    );
    if let Some(method) = method {
        im.typing("ClassVar");
        let _ = writeln!(text, "    METHOD: ClassVar[str] = {}", py_str(method));
        text.push_str("    \"\"\"The notification's method name.\"\"\"\n\n");
    }
    for f in &ordered {
        let default = if f.required { "" } else { " = None" };
        let _ = writeln!(
            text,
            "    {}: {}{default}\n{}",
            ident(&f.name),
            field_type(api, f, strict, im),
            doc("    ", &f.description)
        );
    }
    im.typing("Any");
    text.push_str("    @classmethod\n");
    let _ = writeln!(text, "    def from_wire(cls, wire: Any) -> {name}:");
    text.push_str(
        "        \"\"\"Reads the wire form; keys this client does not know are ignored.\"\"\"\n",
    );
    if ordered.is_empty() {
        text.push_str("        return cls()\n\n");
    } else {
        text.push_str("        return cls(\n");
        for f in &ordered {
            let value = field_from_wire(api, f, strict, im);
            text.push_str(&line(12, &format!("{}=", ident(&f.name)), &value, ","));
        }
        text.push_str("        )\n\n");
    }
    text.push_str("    def to_wire(self) -> dict[str, Any]:\n");
    text.push_str(
        "        \"\"\"The wire form; optional fields that are None are left out.\"\"\"\n",
    );
    let (required, optional): (Vec<&Field>, Vec<&Field>) = ordered.iter().partition(|f| f.required);
    let mut literal = String::new();
    for f in required {
        let value = to_wire(api, &f.ty, &format!("self.{}", ident(&f.name)), 0, im);
        literal.push_str(&line(12, &format!("{}: ", py_str(&f.name)), &value, ","));
    }
    let literal = if literal.is_empty() {
        "{}".to_owned()
    } else {
        format!("{{\n{literal}        }}")
    };
    if optional.is_empty() {
        let _ = writeln!(text, "        return {literal}\n\n");
        return text;
    }
    let _ = writeln!(text, "        wire: dict[str, Any] = {literal}");
    for f in optional {
        let attr = format!("self.{}", ident(&f.name));
        let value = to_wire(api, non_null(&f.ty), &attr, 0, im);
        let _ = writeln!(text, "        if {attr} is not None:");
        text.push_str(&line(
            12,
            &format!("wire[{}] = ", py_str(&f.name)),
            &value,
            "",
        ));
    }
    text.push_str("        return wire\n\n\n");
    text
}

/// One line `head expr tail` at `indent`, or, when too long, `expr` in
/// parentheses on a line of its own (black's style).
fn line(indent: usize, head: &str, expr: &str, tail: &str) -> String {
    let pad = " ".repeat(indent);
    let one = format!("{pad}{head}{expr}{tail}\n");
    if one.chars().count() <= WIDTH + 1 {
        return one;
    }
    format!("{pad}{head}(\n{pad}    {expr}\n{pad}){tail}\n")
}

/// A field's annotation: an optional field is `Optional` (None = absent).
fn field_type(api: &Api, f: &Field, strict: bool, im: &mut Imports) -> String {
    match (&f.ty, f.required) {
        (Type::Nullable(_), _) | (_, true) => py_type(api, &f.ty, strict, im),
        (ty, false) => {
            im.typing("Optional");
            format!("Optional[{}]", py_type(api, ty, strict, im))
        }
    }
}

fn py_type(api: &Api, ty: &Type, strict: bool, im: &mut Imports) -> String {
    match ty {
        Type::String => "str".into(),
        Type::Integer { .. } => "int".into(),
        Type::Boolean => "bool".into(),
        Type::Array(t) => {
            format!("list[{}]", py_type(api, t, strict, im))
        }
        Type::Map(t) => {
            format!("dict[str, {}]", py_type(api, t, strict, im))
        }
        Type::Nullable(t) => {
            im.typing("Optional");
            format!("Optional[{}]", py_type(api, t, strict, im))
        }
        Type::Json => {
            im.typing("Any");
            "dict[str, Any]".into()
        }
        Type::Named(n) => {
            im.models.insert(n.clone());
            match api.named(n).map(|t| &t.kind) {
                Some(TypeKind::Enum(_)) if !strict => {
                    im.typing("Union");
                    format!("Union[{n}, str]")
                }
                _ => n.clone(),
            }
        }
    }
}

fn non_null(ty: &Type) -> &Type {
    match ty {
        Type::Nullable(t) => t,
        t => t,
    }
}

/// Whether the wire value already is the Python value (no conversion).
fn is_plain(api: &Api, ty: &Type) -> bool {
    match ty {
        Type::String | Type::Integer { .. } | Type::Boolean => true,
        Type::Array(t) | Type::Map(t) | Type::Nullable(t) => is_plain(api, t),
        Type::Json => false,
        Type::Named(n) => match api.named(n).map(|t| &t.kind) {
            Some(TypeKind::Alias(t)) => is_plain(api, t),
            _ => false,
        },
    }
}

/// How `from_wire` reads a field from `wire`.
fn field_from_wire(api: &Api, f: &Field, strict: bool, im: &mut Imports) -> String {
    let key = py_str(&f.name);
    if f.required {
        return from_wire(api, &f.ty, &format!("wire[{key}]"), 0, strict, im);
    }
    let inner = non_null(&f.ty);
    if is_plain(api, inner) {
        return format!("wire.get({key})");
    }
    let value = from_wire(api, inner, &format!("wire[{key}]"), 0, strict, im);
    format!("None if wire.get({key}) is None else {value}")
}

/// An expression converting the wire value `expr` to the Python value.
/// `strict`: an enum value this client does not know is an error (params),
/// not a plain `str` (what the daemon sends).
fn from_wire(
    api: &Api,
    ty: &Type,
    expr: &str,
    depth: usize,
    strict: bool,
    im: &mut Imports,
) -> String {
    if is_plain(api, ty) {
        return expr.to_owned();
    }
    match ty {
        Type::Array(t) => {
            let x = format!("x{depth}");
            format!(
                "[{} for {x} in {expr}]",
                from_wire(api, t, &x, depth + 1, strict, im)
            )
        }
        Type::Map(t) => {
            let (k, v) = (format!("k{depth}"), format!("v{depth}"));
            let value = from_wire(api, t, &v, depth + 1, strict, im);
            format!("{{{k}: {value} for {k}, {v} in {expr}.items()}}")
        }
        Type::Nullable(t) => {
            format!(
                "None if {expr} is None else {}",
                from_wire(api, t, expr, depth, strict, im)
            )
        }
        Type::Json => {
            im.wire.insert("json_object");
            format!("json_object({expr})")
        }
        Type::Named(n) => match api.named(n).map(|t| &t.kind) {
            Some(TypeKind::Enum(_)) if strict => {
                im.models.insert(n.clone());
                format!("{n}({expr})")
            }
            Some(TypeKind::Enum(_)) => {
                im.wire.insert("enum_or_str");
                im.models.insert(n.clone());
                format!("enum_or_str({n}, {expr})")
            }
            Some(TypeKind::Alias(t)) => from_wire(api, t, expr, depth, strict, im),
            _ => {
                im.models.insert(n.clone());
                format!("{n}.from_wire({expr})")
            }
        },
        _ => expr.to_owned(),
    }
}

/// An expression converting the Python value `expr` to its wire form.
fn to_wire(api: &Api, ty: &Type, expr: &str, depth: usize, im: &mut Imports) -> String {
    if is_plain(api, ty) || *ty == Type::Json {
        return expr.to_owned();
    }
    match ty {
        Type::Array(t) => {
            let x = format!("x{depth}");
            format!("[{} for {x} in {expr}]", to_wire(api, t, &x, depth + 1, im))
        }
        Type::Map(t) => {
            let (k, v) = (format!("k{depth}"), format!("v{depth}"));
            let value = to_wire(api, t, &v, depth + 1, im);
            format!("{{{k}: {value} for {k}, {v} in {expr}.items()}}")
        }
        Type::Nullable(t) => {
            format!(
                "None if {expr} is None else {}",
                to_wire(api, t, expr, depth, im)
            )
        }
        Type::Named(n) => match api.named(n).map(|t| &t.kind) {
            Some(TypeKind::Enum(_)) => {
                im.wire.insert("enum_value");
                format!("enum_value({expr})")
            }
            Some(TypeKind::Alias(t)) => to_wire(api, t, expr, depth, im),
            _ => format!("{expr}.to_wire()"),
        },
        _ => expr.to_owned(),
    }
}

fn errors(api: &Api) -> String {
    let mut im = Imports::default();
    im.typing("Any");
    im.typing("Callable");
    let shared: Vec<String> = api
        .shared_errors()
        .map(|e| format!("`{}`", error_member(e)))
        .collect();
    let about = format!(
        "The API's error codes (`components/errors`), the numeric `code` of a `HaulError`.\n\nEvery call can return {}; each method's docs name the others it returns.",
        shared.join(", ")
    );
    let mut body = format!("class ErrorCode(IntEnum):\n{}\n", doc("    ", &about));
    for e in &api.errors {
        let data = match &e.data {
            Some(t) if matches!(t.kind, TypeKind::Struct(_)) => format!(" Data: `{}`.", t.name),
            Some(_) => " Data: the JSON value as sent.".to_owned(),
            None => String::new(),
        };
        let text = format!("`{}` {}: {}{data}", e.code, e.message, e.description);
        for line in wrap(&text, WIDTH, "    #: ", "    #: ") {
            let _ = writeln!(body, "{line}");
        }
        let _ = writeln!(body, "    {} = {}", error_member(e), e.code);
    }
    body.push_str("\n\n");
    let mut decoders = String::new();
    for e in &api.errors {
        if let Some(
            t @ NamedType {
                kind: TypeKind::Struct(fields),
                ..
            },
        ) = &e.data
        {
            body.push_str(&dataclass(
                api,
                &t.name,
                &t.description,
                fields,
                false,
                None,
                &mut im,
            ));
            let _ = writeln!(
                decoders,
                "    ErrorCode.{}: {}.from_wire,",
                error_member(e),
                t.name
            );
        }
    }
    let _ = write!(
        body,
        "_ERROR_DATA: dict[int, Callable[[Any], object]] = {{\n{decoders}}}\n\"\"\"How each error's data decodes, for the errors whose data is an object.\"\"\"\n\n\n"
    );
    body.push_str(
        "def error_from_wire(code: int, message: str, data: Any) -> HaulError:\n    \"\"\"The `HaulError` for an error object: `code` as an `ErrorCode` when the API\n    defines it, `data` as its dataclass when it has one (as sent otherwise).\"\"\"\n    return api_error(code, message, data, ErrorCode, _ERROR_DATA)\n",
    );
    im.stdlib("from enum import IntEnum");
    im.local("from ._errors import HaulError, api_error".to_owned());
    module(
        "The API's errors: `ErrorCode`, the dataclasses of their data, and how an error object becomes a `HaulError`.",
        &im,
        false,
        &body,
    )
}

fn params(api: &Api) -> String {
    let mut im = Imports::default();
    let mut body = String::new();
    for m in api.methods.iter().filter(|m| !m.params.is_empty()) {
        let about = format!("The params of `{}`: {}.", m.name, lower_first(&m.summary));
        body.push_str(&dataclass(
            api,
            &params_class(m),
            &about,
            &m.params,
            true,
            None,
            &mut im,
        ));
    }
    module(
        "The params of each method, as the dataclasses the clients send: `None` means absent.",
        &im,
        false,
        &body,
    )
}

fn events(api: &Api) -> String {
    let mut im = Imports::default();
    let mut body = String::new();
    for m in &api.notifications {
        let about = format!(
            "The payload of the `{}` notification: {}.\n\n{}",
            m.name,
            lower_first(&m.summary),
            m.description
        );
        body.push_str(&dataclass(
            api,
            &event_class(m),
            &about,
            &m.params,
            false,
            Some(&m.name),
            &mut im,
        ));
    }
    let classes: Vec<String> = api.notifications.iter().map(event_class).collect();
    let union = match classes.as_slice() {
        [] => "Any".to_owned(),
        [one] => one.clone(),
        many => {
            im.typing("Union");
            format!("Union[\n    {},\n]", many.join(",\n    "))
        }
    };
    let _ = write!(
        body,
        "Notification = {union}\n\"\"\"A notification this client knows, as `AsyncClient.events()` yields it.\"\"\"\n\n"
    );
    im.typing("Callable");
    im.typing("Any");
    body.push_str("NOTIFICATIONS: dict[str, Callable[[Any], Notification]] = {\n");
    for class in &classes {
        let _ = writeln!(body, "    {class}.METHOD: {class}.from_wire,");
    }
    body.push_str("}\n\"\"\"How each notification's params decode, by method name.\"\"\"\n");
    module(
        "The notifications the daemon pushes to every WebSocket, as dataclasses, and the `Notification` union of them.",
        &im,
        false,
        &body,
    )
}

fn client(api: &Api, is_async: bool) -> String {
    let mut im = Imports::default();
    im.typing("Any");
    let (class, base) = if is_async {
        ("AsyncClient", "AsyncClientBase")
    } else {
        ("Client", "ClientBase")
    };
    let about = if is_async {
        "The haul daemon's API for asyncio, one method per API method.\n\n`AsyncClient(\"http://127.0.0.1:6801/jsonrpc\", token=...)` calls over HTTP; a `ws://…/jsonrpc/ws` URL calls over one WebSocket. `events()` streams the daemon's notifications. Every method raises `HaulError` when the daemon answers with an error and `TransportError` when there is no JSON-RPC answer. Use `async with` (or `aclose()`) to release connections."
    } else {
        "The haul daemon's API over HTTP, one blocking method per API method.\n\n`Client(\"http://127.0.0.1:6801/jsonrpc\", token=...)`. Every method raises `HaulError` when the daemon answers with an error and `TransportError` when there is no JSON-RPC answer. Use it as a context manager (or `close()`) to release connections."
    };
    let mut body = format!("class {class}({base}):\n{}\n", doc("    ", about));
    body.push_str("    def _error_from_wire(self, code: int, message: str, data: Any) -> HaulError:\n        return error_from_wire(code, message, data)\n\n");
    let mut params_imports = BTreeSet::new();
    for m in &api.methods {
        body.push_str(&client_method(api, m, is_async, &mut im));
        if !m.params.is_empty() {
            params_imports.insert(params_class(m));
        }
    }
    im.local(format!("from ._client import {base}"));
    im.local("from ._errors import HaulError".to_owned());
    im.local("from .errors import error_from_wire".to_owned());
    if is_async {
        im.local("from ._websocket import Events".to_owned());
        im.local("from .events import NOTIFICATIONS, Notification".to_owned());
        body.push_str(&format!(
            "    def events(self) -> Events[Notification]:\n{}        return self._event_stream(NOTIFICATIONS)\n",
            doc("        ", EVENTS_DOC)
        ));
    }
    if !params_imports.is_empty() {
        im.local(import_line(
            ".params",
            params_imports.iter().map(String::as_str),
        ));
    }
    let about = format!(
        "`{class}`: the daemon's API {}, generated from the document.",
        if is_async { "for asyncio" } else { "over HTTP" }
    );
    module(&about, &im, false, &body)
}

const EVENTS_DOC: &str = "The daemon's notifications as typed `Notification`s, over a WebSocket of their own.\n\n`async with client.events() as events:` then `async for event in events:`. Notifications this client does not know (a newer daemon's) are skipped; see `Events`.";

fn client_method(api: &Api, m: &Method, is_async: bool, im: &mut Imports) -> String {
    let name = method_name(m);
    if RESERVED_METHODS.contains(&name.as_str()) {
        panic!(
            "method {}: `{name}` is taken by the Python client itself",
            m.name
        );
    }
    let result = m.result.as_ref().expect("methods have results");
    let result_type = py_type(api, &result.ty, false, im);
    let (required, optional): (Vec<&Field>, Vec<&Field>) =
        m.params.iter().partition(|p| p.required);
    let mut signature = vec!["self".to_owned()];
    if !m.params.is_empty() {
        signature.push("*".to_owned());
    }
    for p in &required {
        signature.push(format!(
            "{}: {}",
            ident(&p.name),
            field_type(api, p, true, im)
        ));
    }
    for p in &optional {
        signature.push(format!(
            "{}: {} = None",
            ident(&p.name),
            field_type(api, p, true, im)
        ));
    }
    let (def, call) = if is_async {
        ("async def", "await self._call")
    } else {
        ("def", "self._call")
    };
    let one_line = format!(
        "    {def} {name}({}) -> {result_type}:",
        signature.join(", ")
    );
    let mut text = if one_line.len() <= WIDTH {
        format!("{one_line}\n")
    } else {
        format!(
            "    {def} {name}(\n        {},\n    ) -> {result_type}:\n",
            signature.join(",\n        ")
        )
    };
    text.push_str(&docstring("        ", &method_doc(api, m)));
    let params = if m.params.is_empty() {
        "None"
    } else {
        let _ = writeln!(text, "        params = {}(", params_class(m));
        for p in &m.params {
            let _ = writeln!(text, "            {0}={0},", ident(&p.name));
        }
        text.push_str("        )\n");
        "params.to_wire()"
    };
    let decode = result_decoder(api, &result.ty, &result_type, im);
    let line = format!(
        "        return {call}({}, {params}, {decode})",
        py_str(&m.name)
    );
    if line.len() <= WIDTH {
        let _ = writeln!(text, "{line}\n");
    } else {
        let _ = writeln!(
            text,
            "        return {call}(\n            {}, {params}, {decode}\n        )\n",
            py_str(&m.name)
        );
    }
    text
}

/// A callable from the wire result to the Python value.
fn result_decoder(api: &Api, ty: &Type, py: &str, im: &mut Imports) -> String {
    if is_plain(api, ty) {
        im.typing("cast");
        return format!("lambda wire: cast({py}, wire)");
    }
    let expr = from_wire(api, ty, "wire", 0, false, im);
    match expr.strip_suffix("(wire)") {
        // `X.from_wire(wire)` → `X.from_wire`
        Some(f)
            if f.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.') =>
        {
            f.to_owned()
        }
        _ => format!("lambda wire: {expr}"),
    }
}

/// Summary, description, params, result and the errors only this method
/// returns (those every method returns are documented on `ErrorCode`).
fn method_doc(api: &Api, m: &Method) -> Vec<String> {
    let width = WIDTH - 8;
    let mut lines = paragraphs(
        &format!("{} (`{}`).\n\n{}", m.summary, m.name, m.description),
        width,
    );
    if !m.params.is_empty() {
        lines.extend(["".to_owned(), "Args:".to_owned()]);
        for p in &m.params {
            let first = format!("    {}: ", ident(&p.name));
            lines.extend(wrap(&p.description, width, &first, "        "));
        }
    }
    if let Some(result) = &m.result {
        lines.extend(["".to_owned(), "Returns:".to_owned()]);
        lines.extend(wrap(&result.description, width, "    ", "    "));
    }
    lines.extend(["".to_owned(), "Raises:".to_owned()]);
    let own: Vec<&ErrorDef> = api.own_errors(m).collect();
    let intro = if own.is_empty() {
        "One of the errors every call can return (see `ErrorCode`)."
    } else {
        "Besides the errors every call can return (see `ErrorCode`):"
    };
    lines.extend(wrap(intro, width, "    HaulError: ", "        "));
    for e in own {
        let text = format!("`ErrorCode.{}`: {}", error_member(e), e.description);
        lines.extend(wrap(&text, width, "        - ", "          "));
    }
    lines.extend(wrap(
        "The daemon could not be reached or gave no JSON-RPC answer.",
        width,
        "    TransportError: ",
        "        ",
    ));
    lines
}

fn package_init(api: &Api) -> String {
    let mut groups: Vec<(&str, Vec<String>)> = vec![
        (
            "._errors",
            vec!["HaulError".into(), "TransportError".into()],
        ),
        ("._websocket", vec!["Events".into()]),
        (".async_client", vec!["AsyncClient".into()]),
        (".client", vec!["Client".into()]),
    ];
    let mut error_names = vec!["ErrorCode".to_owned()];
    error_names.extend(api.errors.iter().filter_map(|e| match &e.data {
        Some(t) if matches!(t.kind, TypeKind::Struct(_)) => Some(t.name.clone()),
        _ => None,
    }));
    groups.push((".errors", error_names));
    let mut event_names = vec!["Notification".to_owned()];
    event_names.extend(api.notifications.iter().map(event_class));
    groups.push((".events", event_names));
    groups.push((
        ".models",
        api.types.iter().map(|t| t.name.clone()).collect(),
    ));
    groups.push((
        ".params",
        api.methods
            .iter()
            .filter(|m| !m.params.is_empty())
            .map(params_class)
            .collect(),
    ));
    let mut text = doc("", &format!("A typed client of haul's JSON-RPC API, generated from its OpenRPC document (version {}).\n\n{}", api.version, api.description));
    text.push('\n');
    let mut all = Vec::new();
    for (module, mut names) in groups {
        names.sort();
        text.push_str(&import_line(module, names.iter().map(String::as_str)));
        text.push('\n');
        all.extend(names);
    }
    all.push("__version__".into());
    all.sort();
    let _ = write!(
        text,
        "\n__version__ = {}\n\"\"\"The version of the API document this package was generated from.\"\"\"\n\n__all__ = [\n",
        py_str(&api.version)
    );
    for name in all {
        let _ = writeln!(text, "    {},", py_str(&name));
    }
    text.push_str("]\n");
    text
}

/// `download.add` → `DownloadAddParams`.
fn params_class(m: &Method) -> String {
    format!("{}Params", pascal(&m.name))
}

/// `download.started` → `DownloadStartedEvent`.
fn event_class(m: &Method) -> String {
    format!("{}Event", pascal(&m.name))
}

/// `system.getVersion` → `system_get_version`.
fn method_name(m: &Method) -> String {
    ident(&m.name)
}

/// `DownloadNotFound` → `DOWNLOAD_NOT_FOUND`.
fn error_member(e: &ErrorDef) -> String {
    e.name.to_shouty_snake_case()
}

/// `http-status` → `HTTP_STATUS`.
fn enum_member(value: &str) -> String {
    let name = value.to_shouty_snake_case();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V_{name}")
    } else {
        name
    }
}

/// A snake_case Python name; keywords and the names methods need for
/// themselves get a trailing underscore.
fn ident(wire: &str) -> String {
    const TAKEN: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield", "self", "cls",
    ];
    let snake = wire.to_snake_case();
    if TAKEN.contains(&snake.as_str()) {
        format!("{snake}_")
    } else {
        snake
    }
}

/// A Python string literal (JSON's escapes are Python's too).
fn py_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Text whose lines are paragraphs, wrapped to `width`; blank lines kept.
fn paragraphs(text: &str, width: usize) -> Vec<String> {
    text.trim()
        .lines()
        .flat_map(|line| {
            if line.trim().is_empty() {
                vec![String::new()]
            } else {
                wrap(line, width, "", "")
            }
        })
        .collect()
}

/// The words of `text` in lines of at most `width` characters (a longer
/// word gets a line of its own), the first starting with `first`, the
/// others with `rest`.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines
}

/// A docstring of `text` (paragraphs separated by newlines) at `indent`.
fn doc(indent: &str, text: &str) -> String {
    docstring(indent, &paragraphs(text, WIDTH - indent.len() - 3))
}

/// A docstring of these lines at `indent`: one line when it fits.
fn docstring(indent: &str, lines: &[String]) -> String {
    let lines: Vec<String> = lines
        .iter()
        .map(|l| l.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\""))
        .collect();
    if let [line] = lines.as_slice() {
        if indent.len() + line.chars().count() + 6 <= WIDTH && !line.ends_with('"') {
            return format!("{indent}\"\"\"{line}\"\"\"\n");
        }
    }
    let mut text = format!("{indent}\"\"\"");
    for (i, line) in lines.iter().enumerate() {
        if i > 0 && !line.is_empty() {
            text.push_str(indent);
        }
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(indent);
    text.push_str("\"\"\"\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_become_python_names() {
        assert_eq!(ident("download.setSpeedLimit"), "download_set_speed_limit");
        assert_eq!(ident("rpc.discover"), "rpc_discover");
        assert_eq!(ident("fileName"), "file_name");
        assert_eq!(ident("from"), "from_");
        assert_eq!(ident("self"), "self_");
        assert_eq!(enum_member("http-status"), "HTTP_STATUS");
        assert_eq!(enum_member("7z"), "V_7Z");
    }

    #[test]
    fn docstrings_wrap_and_escape_what_would_end_them() {
        assert_eq!(
            docstring("    ", &["Short.".into()]),
            "    \"\"\"Short.\"\"\"\n"
        );
        let lines = paragraphs("a \"\"\"quoted\"\"\" \\path\n\nsecond", 80);
        assert_eq!(
            docstring("", &lines),
            "\"\"\"a \\\"\\\"\\\"quoted\\\"\\\"\\\" \\\\path\n\nsecond\n\"\"\"\n"
        );
        assert_eq!(wrap("aa bb cc", 5, "", "  "), ["aa bb", "  cc"]);
    }
}
