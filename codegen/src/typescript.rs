//! The TypeScript emitter: `clients/typescript/src/api.ts`, the generated half
//! of the `haul-client` package — an interface per schema, params and
//! notification payloads, the `Methods`/`Notifications` maps, the error codes
//! with their typed data, and `Client` with one typed method per API method.
//!
//! The other half, `src/runtime.ts`, is hand-written and knows nothing of the
//! document: JSON-RPC over fetch and WebSocket, auth, events, errors. Wire
//! names are kept as they are (they are already camelCase), so no value is
//! converted on the way in or out.

use std::fmt::Write as _;

use heck::ToLowerCamelCase;

use crate::model::{pascal, Api, Field, Method, NamedType, Type, TypeKind};
use crate::{header, Output};

/// The generated files, by path relative to the repository root.
pub fn generate(api: &Api) -> Vec<Output> {
    vec![Output {
        path: "clients/typescript/src/api.ts".into(),
        text: api_ts(api),
    }]
}

fn api_ts(api: &Api) -> String {
    let mut out = header("//");
    out += &jsdoc(
        "",
        &format!(
            "Types and the typed client of {} API {}.\n\n{}",
            api.title, api.version, api.description
        ),
    );
    out += "\nimport { Events, type EventsOptions } from \"./events.js\";\n\
            import { HaulError, RpcClient } from \"./runtime.js\";\n\n";
    let _ = writeln!(
        out,
        "/** The version of the API document this module was generated from. */\nexport const API_VERSION = {};\n",
        quote(&api.version)
    );

    for t in &api.types {
        out += &named_type(t);
    }
    for e in &api.errors {
        if let Some(t) = &e.data {
            out += &named_type(t);
        } else {
            out += &jsdoc("", &format!("{} carries no `data`.", e.name));
            let _ = writeln!(out, "export type {}ErrorData = undefined;\n", e.name);
        }
    }
    for m in api.methods.iter().filter(|m| !m.params.is_empty()) {
        out += &jsdoc("", &format!("Params of `{}`.", m.name));
        out += &interface(&format!("{}Params", pascal(&m.name)), &m.params);
    }
    for n in &api.notifications {
        out += &jsdoc(
            "",
            &format!("{} (`{}`).\n\n{}", n.summary, n.name, n.description),
        );
        out += &interface(&format!("{}Event", pascal(&n.name)), &n.params);
    }

    out += "/** Every method by wire name: its params and its result. */\nexport interface Methods {\n";
    for m in &api.methods {
        let params = if m.params.is_empty() {
            "undefined".to_owned()
        } else {
            format!("{}Params", pascal(&m.name))
        };
        let _ = writeln!(
            out,
            "  {}: {{ params: {params}; result: {} }};",
            quote(&m.name),
            result_type(m)
        );
    }
    out += "}\n\n/** Every notification's payload, by wire name. */\nexport interface Notifications {\n";
    for n in &api.notifications {
        let _ = writeln!(out, "  {}: {}Event;", quote(&n.name), pascal(&n.name));
    }
    out += "}\n\n";
    out += "/** A notification as received: its wire name and its typed payload. */\n\
            export type Notification = {\n  [M in keyof Notifications]: { method: M; params: Notifications[M] };\n\
            }[keyof Notifications];\n\n";
    let names: Vec<String> = api.notifications.iter().map(|n| quote(&n.name)).collect();
    let _ = writeln!(
        out,
        "/** The wire names of every notification. */\nexport const NOTIFICATIONS = [{}] as const;\n",
        names.join(", ")
    );

    out += &errors(api);
    out += &client(api);
    out
}

fn named_type(t: &NamedType) -> String {
    if matches!(t.kind, TypeKind::Notifications) {
        // The `Notification` union, written from the notification methods.
        return String::new();
    }
    let mut out = jsdoc("", &t.description);
    match &t.kind {
        TypeKind::Struct(fields) => out += &interface(&t.name, fields),
        TypeKind::Enum(values) => {
            let values: Vec<String> = values.iter().map(|v| quote(v)).collect();
            let _ = writeln!(out, "export type {} = {};\n", t.name, values.join(" | "));
        }
        TypeKind::Alias(ty) => {
            let _ = writeln!(out, "export type {} = {};\n", t.name, ts_type(ty));
        }
        TypeKind::Notifications => {}
    }
    out
}

fn interface(name: &str, fields: &[Field]) -> String {
    let mut out = format!("export interface {name} {{\n");
    for f in fields {
        out += &jsdoc("  ", &field_doc(f));
        let optional = if f.required { "" } else { "?" };
        let _ = writeln!(out, "  {}{optional}: {};", f.name, ts_type(&f.ty));
    }
    out + "}\n\n"
}

/// A field's description plus the constraints a caller must respect.
fn field_doc(f: &Field) -> String {
    let mut doc = f.description.clone();
    let facts: Vec<String> = [
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "format",
    ]
    .iter()
    .filter_map(|k| f.schema.get(*k).map(|v| format!("{k} {v}")))
    .collect();
    if !facts.is_empty() {
        let _ = write!(doc, "\n\nConstraints: {}.", facts.join(", "));
    }
    if let Some(default) = &f.default {
        let _ = write!(doc, "\n\n@default {default}");
    }
    doc
}

fn result_type(m: &Method) -> String {
    m.result
        .as_ref()
        .map_or_else(|| "void".to_owned(), |r| ts_type(&r.ty))
}

fn ts_type(ty: &Type) -> String {
    match ty {
        Type::String(_) => "string".into(),
        Type::Integer { .. } => "number".into(),
        Type::Boolean => "boolean".into(),
        Type::Array(t, _) => match **t {
            Type::Nullable(_) => format!("Array<{}>", ts_type(t)),
            _ => format!("{}[]", ts_type(t)),
        },
        Type::Map(t, _) => format!("Record<string, {}>", ts_type(t)),
        Type::Named(n) => n.clone(),
        Type::Nullable(t) => format!("{} | null", ts_type(t)),
        Type::Json => "Record<string, unknown>".into(),
    }
}

fn errors(api: &Api) -> String {
    let mut out = String::from(
        "/** Every error code the API documents, by name. */\nexport const ErrorCode = {\n",
    );
    for e in &api.errors {
        out += &jsdoc("  ", &format!("{} — {}", e.message, e.description));
        let _ = writeln!(out, "  {}: {},", e.name, e.code);
    }
    out += "} as const;\n\n/** One of the documented error codes. */\n\
            export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];\n\n";
    out += "/** Each error's `data` type, by error name. */\nexport interface ErrorData {\n";
    for e in &api.errors {
        let _ = writeln!(out, "  {}: {}ErrorData;", e.name, e.name);
    }
    out += "}\n\n";
    out += &jsdoc(
        "",
        "Whether `error` is the API error `name`; narrows `error.data` to that error's data type.\n\n\
         ```ts\ntry { await client.downloadStatus({ gid }); }\n\
         catch (e) { if (isApiError(e, \"DownloadNotFound\")) console.log(e.data.gid); else throw e; }\n```",
    );
    out += "export function isApiError<K extends keyof ErrorData>(\n  error: unknown,\n  name: K,\n\
            ): error is HaulError<ErrorData[K]> {\n  return error instanceof HaulError && error.code === ErrorCode[name];\n}\n\n";
    out
}

fn client(api: &Api) -> String {
    let mut out = jsdoc(
        "",
        "The typed haul client. Calls go over HTTP (`http(s)://…/jsonrpc`, one `fetch` per call) or over one\n\
         WebSocket (`ws(s)://…/jsonrpc/ws`); notifications always arrive over a WebSocket.\n\n\
         ```ts\nconst client = new Client(\"http://127.0.0.1:6801/jsonrpc\", { token });\n\
         const events = client.events();\n\
         await events.ready();\n\
         const { gid } = await client.downloadAdd({ url: \"https://example.com/f.iso\" });\n\
         for await (const e of events) if (e.method === \"download.complete\" && e.params.gid === gid) break;\n```",
    );
    out += "export class Client extends RpcClient<Methods, Notifications> {\n";
    for m in &api.methods {
        let own: Vec<String> = api
            .own_errors(m)
            .map(|e| {
                format!(
                    "@throws {{HaulError}} `{}` ({}): {}",
                    e.name, e.code, e.message
                )
            })
            .collect();
        let mut doc = format!(
            "{} (`{}`).\n\n{} {}",
            m.summary,
            m.name,
            m.description,
            m.scope_sentence()
        );
        if !own.is_empty() {
            doc += "\n\n";
            doc += &own.join("\n");
        }
        out += &jsdoc("  ", &doc);
        let name = method_name(m);
        if m.params.is_empty() {
            let _ = writeln!(
                out,
                "  {name}(): Promise<{}> {{\n    return this.call({}, undefined);\n  }}\n",
                result_type(m),
                quote(&m.name)
            );
        } else {
            let all_optional = m.params.iter().all(|p| !p.required);
            let _ = writeln!(
                out,
                "  {name}(params: {}Params{}): Promise<{}> {{\n    return this.call({}, params);\n  }}\n",
                pascal(&m.name),
                if all_optional { " = {}" } else { "" },
                result_type(m),
                quote(&m.name)
            );
        }
    }
    out += &jsdoc(
        "  ",
        "The daemon's notifications, typed, each delivered once and in order: the stream reconnects by\n\
         itself (backoff with jitter), replays what it missed, and yields a `Resync` with every download's\n\
         state when the daemon cannot replay (see `Events`).\n\n\
         @param options Filters (`gids`, `kinds`, `progressInterval`), the backoff, and polling when no\n\
         WebSocket can be opened (`pollingIntervalMs`).",
    );
    out += "  events(options: EventsOptions = {}): Events {\n    return new Events(this.link(), NOTIFICATIONS, options);\n  }\n";
    out + "}\n"
}

/// A method's name on the client: `download.setUrl` → `downloadSetUrl`.
pub(crate) fn method_name(m: &Method) -> String {
    m.name.replace('.', "_").to_lower_camel_case()
}

/// A JSDoc block at `indent`, or nothing for an empty text.
fn jsdoc(indent: &str, text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let text = text.replace("*/", "*\\/");
    let mut out = format!("{indent}/**\n");
    for line in text.lines() {
        if line.is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {line}");
        }
    }
    out + &format!("{indent} */\n")
}

/// A JavaScript string literal.
fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}
