//! The wire types' modules: `models.py`, `errors.py`, `params.py` and
//! `events.py`, and the Python types and `from_wire` / `to_wire` expressions
//! of the document's types.

use std::fmt::Write;

use super::text::{
    doc, enum_member, error_member, event_class, ident, lower_first, params_class, py_str, wrap,
};
use super::{module, Imports, Module, WIDTH};
use crate::model::{Field, NamedType, Type, TypeKind};
use crate::Api;

pub(super) fn models(api: &Api) -> String {
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
    for t in api.types.iter().filter(|t| !in_events_module(api, &t.name)) {
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
    module(MODELS_DOC, &im, Module::Models, &body)
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

/// Whether the named type belongs in `events.py`: the `Notification` union,
/// and the dataclasses with a field of it.
pub(super) fn in_events_module(api: &Api, name: &str) -> bool {
    match api.named(name).map(|t| &t.kind) {
        Some(TypeKind::Notifications) => true,
        Some(TypeKind::Struct(fields)) => fields.iter().any(|f| {
            named_refs(&f.ty)
                .iter()
                .any(|n| matches!(api.named(n).map(|t| &t.kind), Some(TypeKind::Notifications)))
        }),
        _ => false,
    }
}

fn named_refs(ty: &Type) -> Vec<String> {
    match ty {
        Type::Named(n) => vec![n.clone()],
        Type::Array(t, _) | Type::Map(t, _) | Type::Nullable(t) => named_refs(t),
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
pub(super) fn dataclass(
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
pub(super) fn field_type(api: &Api, f: &Field, strict: bool, im: &mut Imports) -> String {
    match (&f.ty, f.required) {
        (Type::Nullable(_), _) | (_, true) => py_type(api, &f.ty, strict, im),
        (ty, false) => {
            im.typing("Optional");
            format!("Optional[{}]", py_type(api, ty, strict, im))
        }
    }
}

pub(super) fn py_type(api: &Api, ty: &Type, strict: bool, im: &mut Imports) -> String {
    match ty {
        Type::String(_) => "str".into(),
        Type::Integer { .. } => "int".into(),
        Type::Boolean => "bool".into(),
        Type::Array(t, _) => {
            format!("list[{}]", py_type(api, t, strict, im))
        }
        Type::Map(t, _) => {
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
            im.named(api, n);
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
pub(super) fn is_plain(api: &Api, ty: &Type) -> bool {
    match ty {
        Type::String(_) | Type::Integer { .. } | Type::Boolean => true,
        Type::Array(t, _) | Type::Map(t, _) | Type::Nullable(t) => is_plain(api, t),
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
pub(super) fn from_wire(
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
        Type::Array(t, _) => {
            let x = format!("x{depth}");
            let item = from_wire(api, t, &x, depth + 1, strict, im);
            // A newer daemon's notifications this client does not know are
            // left out, as the event stream leaves them out.
            let known = match &**t {
                Type::Named(n)
                    if matches!(api.named(n).map(|t| &t.kind), Some(TypeKind::Notifications)) =>
                {
                    format!(" if {x}.get(\"method\") in NOTIFICATIONS")
                }
                _ => String::new(),
            };
            format!("[{item} for {x} in {expr}{known}]")
        }
        Type::Map(t, _) => {
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
            Some(TypeKind::Notifications) => {
                im.events.insert("NOTIFICATIONS".to_owned());
                format!("NOTIFICATIONS[{expr}[\"method\"]]({expr}[\"params\"])")
            }
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
                im.named(api, n);
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
        Type::Array(t, _) => {
            let x = format!("x{depth}");
            format!("[{} for {x} in {expr}]", to_wire(api, t, &x, depth + 1, im))
        }
        Type::Map(t, _) => {
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
            Some(TypeKind::Notifications) => {
                format!("{{\"method\": {expr}.METHOD, \"params\": {expr}.to_wire()}}")
            }
            _ => format!("{expr}.to_wire()"),
        },
        _ => expr.to_owned(),
    }
}

pub(super) fn errors(api: &Api) -> String {
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
        Module::Other,
        &body,
    )
}

pub(super) fn params(api: &Api) -> String {
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
        Module::Other,
        &body,
    )
}

pub(super) fn events(api: &Api) -> String {
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
    // The dataclasses that hold notifications come after the union.
    for t in api.types.iter().filter(|t| in_events_module(api, &t.name)) {
        if let TypeKind::Struct(fields) = &t.kind {
            body.push_str("\n\n");
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
    module(
        "The notifications the daemon pushes to every WebSocket, as dataclasses, and the `Notification` union of them.",
        &im,
        Module::Events,
        &body,
    )
}
