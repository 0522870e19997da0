//! `client.py`, `async_client.py` (one method per API method, and
//! `AsyncClient.events()`) and the package's `__init__.py`.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::text::{
    doc, docstring, error_member, event_class, ident, method_name, paragraphs, params_class,
    py_str, wrap,
};
use super::types::{field_type, from_wire, in_events_module, is_plain, py_type};
use super::{import_line, module, Imports, Module, EVENT_STREAM_NAMES, RESERVED_METHODS, WIDTH};
use crate::model::{ErrorDef, Field, Method, Type, TypeKind};
use crate::Api;

pub(super) fn client(api: &Api, is_async: bool) -> String {
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
        body.push_str(&events_method(api, &mut im));
        params_imports.insert("EventsSubscribeParams".to_owned());
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
    module(&about, &im, Module::Other, &body)
}

/// The `events.subscribe` params the stream sets itself (where it left off);
/// the others are `events()`'s filters.
const POSITION_PARAMS: &[&str] = &["since", "streamId"];

/// `events()`'s own params: name, type and default, description.
const STREAM_SETTINGS: &[(&str, &str, &str)] = &[
    (
        "initial_backoff",
        "float = 0.1",
        "Seconds to wait before reconnecting; the wait doubles (with jitter: a factor in [0.5, 1)) up to `max_backoff` while the daemon stays away, and starts over once subscribed.",
    ),
    (
        "max_backoff",
        "float = 10.0",
        "The longest wait between two connection attempts, in seconds.",
    ),
    (
        "polling",
        "Optional[float] = None",
        "When the WebSocket upgrade is answered with an HTTP error other than 401 (something in between does not pass WebSockets) before the stream ever subscribed, poll `events.poll` over HTTP every this many seconds instead (`mode` `EventsMode.POLLING`): the same notifications, from the daemon's window, a poll interval later. None never polls.",
    ),
];

const EVENTS_DOC: &str = "The daemon's notifications as typed `Notification`s, each delivered once and in the daemon's order across reconnects, or a `Resync` when some were lost for good.\n\nThe stream reads a WebSocket of its own and subscribes with `events.subscribe`. When the connection drops, it reconnects with exponential backoff and resubscribes from the last `seq` it delivered; when the daemon cannot replay what was missed (it restarted, or the stream was away longer than its replay window), it yields a `Resync` with every download's state, then continues. `async with client.events() as events:` waits until it is subscribed, so that nothing you do next is missed, then `async for event in events:`. Notifications this client does not know (a newer daemon's) are skipped; see `Events` for errors.";

/// `AsyncClient.events()`: the filters of `events.subscribe` (all its params
/// but the position) and the stream's own settings, handed to the
/// hand-written `Events`.
fn events_method(api: &Api, im: &mut Imports) -> String {
    let subscribe = api
        .methods
        .iter()
        .find(|m| m.name == "events.subscribe")
        .expect("the document defines `events.subscribe`, which the event stream calls");
    let filters: Vec<&Field> = subscribe
        .params
        .iter()
        .filter(|p| !POSITION_PARAMS.contains(&p.name.as_str()))
        .collect();
    let width = WIDTH - 8;
    let mut signature = vec!["self".to_owned(), "*".to_owned()];
    let mut lines = paragraphs(EVENTS_DOC, width);
    lines.extend(["".to_owned(), "Args:".to_owned()]);
    for p in &filters {
        assert!(!p.required, "events.subscribe: `{}` is required", p.name);
        let name = ident(&p.name);
        signature.push(format!("{name}: {} = None", field_type(api, p, true, im)));
        lines.extend(wrap(
            &p.description,
            width,
            &format!("    {name}: "),
            "        ",
        ));
    }
    im.typing("Optional");
    for (name, ty, description) in STREAM_SETTINGS {
        signature.push(format!("{name}: {ty}"));
        lines.extend(wrap(
            description,
            width,
            &format!("    {name}: "),
            "        ",
        ));
    }
    lines.extend(["".to_owned(), "Raises:".to_owned()]);
    lines.extend(wrap(
        "A backoff or polling interval that is not a positive number of seconds.",
        width,
        "    ValueError: ",
        "        ",
    ));
    im.local("from ._events import Events".to_owned());
    let mut text = format!(
        "    def events(\n        {},\n    ) -> Events:\n",
        signature.join(",\n        ")
    );
    text.push_str(&docstring("        ", &lines));
    text.push_str("        filters = EventsSubscribeParams(\n");
    for p in &filters {
        let _ = writeln!(text, "            {0}={0},", ident(&p.name));
    }
    text.push_str("        )\n        return Events(\n            self._events_url,\n            self._token,\n            self._timeout,\n            filters,\n");
    for (name, _, _) in STREAM_SETTINGS {
        let _ = writeln!(text, "            {name}={name},");
    }
    text.push_str("        )\n");
    text
}

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
        &format!(
            "{} (`{}`).\n\n{} {}",
            m.summary,
            m.name,
            m.description,
            m.scope_sentence()
        ),
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

pub(super) fn package_init(api: &Api) -> String {
    let mut groups: Vec<(&str, Vec<String>)> = vec![
        (
            "._errors",
            vec!["HaulError".into(), "TransportError".into()],
        ),
        (
            "._local",
            vec!["LocalDaemonError".into(), "find_local".into()],
        ),
        (".async_client", vec!["AsyncClient".into()]),
        (".client", vec!["Client".into()]),
    ];
    groups.splice(
        1..1,
        EVENT_STREAM_NAMES
            .iter()
            .map(|(module, names)| (*module, names.iter().map(|&n| n.to_owned()).collect())),
    );
    let mut error_names = vec!["ErrorCode".to_owned()];
    error_names.extend(api.errors.iter().filter_map(|e| match &e.data {
        Some(t) if matches!(t.kind, TypeKind::Struct(_)) => Some(t.name.clone()),
        _ => None,
    }));
    groups.push((".errors", error_names));
    let mut event_names = vec!["Notification".to_owned()];
    event_names.extend(api.notifications.iter().map(event_class));
    let (in_events, in_models): (Vec<_>, Vec<_>) = api
        .types
        .iter()
        .map(|t| t.name.clone())
        .partition(|n| in_events_module(api, n));
    event_names.extend(in_events.into_iter().filter(|n| n != "Notification"));
    groups.push((".events", event_names));
    groups.push((".models", in_models));
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
