//! The docs emitter: `docs/api.md`, and the same Markdown rendered into
//! `docs/site/index.html` ([`html`]), the page the daemon serves at `GET
//! /docs`; `docs/site/` is ready for static hosting.
//!
//! Every method with its params, result, errors, examples and its first
//! example as calls ([`crate::snippets`]); every notification with its
//! payload; the error table; every named type. The transports and auth are
//! the document's own description.
//!
//! `docs/api-changes.md`, also the page's last section and
//! `docs/site/changes.html`, lists what changed in each released contract
//! against the one before, newest first, and what `openrpc.json` changes
//! since the latest release, as [`crate::diff`] classes it.

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::diff::{self, Change};
use crate::model::{Api, ErrorDef, Field, Method, NamedType, Type, TypeKind};
use crate::release::{Release, RELEASED_DIR};
use crate::{header, snippets, Output};

mod html;
pub use html::html_page;

/// The generated files, by path relative to the repository root: the
/// Markdown for reading in the repository, and `docs/site/`, a directory
/// ready for static hosting (the page as `index.html`, the changes page,
/// and `document`, the `openrpc.json` the page's link fetches).
/// `released`: the released contracts, oldest first.
pub fn generate(document: &str, api: &Api, released: &[Release]) -> Vec<Output> {
    vec![
        Output {
            path: "docs/api.md".into(),
            text: markdown(api),
        },
        Output {
            path: "docs/api-changes.md".into(),
            text: changes_page(api, released),
        },
        Output {
            path: "docs/site/index.html".into(),
            text: html_page(api, released),
        },
        Output {
            path: "docs/site/changes.html".into(),
            text: html::changes_page(api, released),
        },
        Output {
            path: "docs/site/openrpc.json".into(),
            text: document.to_owned(),
        },
    ]
}

/// The API reference as Markdown (GitHub flavoured: tables, heading anchors).
pub fn markdown(api: &Api) -> String {
    reference(api, "")
}

/// The reference with `intro` after the document's description.
fn reference(api: &Api, intro: &str) -> String {
    let mut md = format!("<!-- {} -->\n\n", header("").trim());
    let _ = writeln!(
        md,
        "# {} API {}\n\n{}\n{intro}",
        api.title, api.version, api.description
    );
    md += "## Contents\n\n- [Calling the API](#calling-the-api)\n";
    let links = |items: &mut dyn Iterator<Item = &str>| {
        items
            .map(|n| format!("[`{n}`](#{})", slug(n)))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let _ = writeln!(
        md,
        "- [Methods](#methods): {}",
        links(&mut api.methods.iter().map(|m| m.name.as_str()))
    );
    let _ = writeln!(
        md,
        "- [Notifications](#notifications): {}",
        links(&mut api.notifications.iter().map(|m| m.name.as_str()))
    );
    md += "- [Errors](#errors)\n";
    let _ = writeln!(
        md,
        "- [Types](#types): {}\n",
        api.types
            .iter()
            .map(|t| md_type(&Type::Named(t.name.clone())))
            .collect::<Vec<_>>()
            .join(" · ")
    );

    md += CALLING;
    md += "## Methods\n\n";
    for m in &api.methods {
        md += &method(api, m);
    }
    md += "## Notifications\n\nSent by the daemon to every authenticated WebSocket connection; never called.\n\n";
    for n in &api.notifications {
        md += &method(api, n);
    }
    md += &errors(api);
    md += "## Types\n\n";
    for t in &api.types {
        md += &named_type(t);
    }
    md
}

/// How the snippets under each method reach the daemon.
const CALLING: &str = "## Calling the API\n\n\
Each method below ends with its first example as a `curl` request and as a call with each SDK \
(on the HTML page, a click selects a whole snippet). They call the daemon on this machine, which the SDKs \
find as the `haul` CLI does: the URL is `HAUL_URL`, else `http://127.0.0.1:6801/jsonrpc`; the \
token is `HAUL_RPC_SECRET`, else the `rpc-secret` file the daemon wrote in its state directory \
(`HAUL_STATE_DIR`, else `$XDG_STATE_HOME/haul`, else `~/.local/state/haul`). The Rust crate is \
`haul` with the `client` feature, the TypeScript package and the Python one `haul-client`:\n\n\
```rust\nlet client = haul::Client::connect_local().await?;\n```\n\n\
```ts\nimport { connectLocal } from \"haul-client\";\nconst client = await connectLocal();\n```\n\n\
```python\nfrom haul_client import Client\nhaul = Client.local()\n```\n\n";

fn method(api: &Api, m: &Method) -> String {
    let mut md = format!(
        "### {}\n\n**{}.** {} {}\n\n",
        m.name,
        m.summary,
        m.description,
        m.scope_sentence()
    );
    if m.result.is_some() {
        if m.params.is_empty() {
            md += "Params: none.\n\n";
        } else {
            md += "Params (by name):\n\n";
            md += &fields_table(&m.params);
        }
    } else {
        md += "Payload (`params`):\n\n";
        md += &fields_table(&m.params);
    }
    if let Some(result) = &m.result {
        let _ = writeln!(
            md,
            "Result: {} — {}\n",
            md_type(&result.ty),
            one_line(&result.description)
        );
    }
    if !m.errors.is_empty() {
        let errors: Vec<String> = api
            .errors
            .iter()
            .filter(|e| m.errors.contains(&e.name))
            .map(|e| format!("[{} `{}`](#{})", e.code, e.name, error_anchor(e)))
            .collect();
        let _ = writeln!(md, "Errors: {}.\n", errors.join(", "));
    }
    for example in &m.examples {
        md += &example_md(m, example);
    }
    // Notifications are sent, not called.
    if let Some(s) = m.result.as_ref().and_then(|_| snippets::snippets(api, m)) {
        let _ = write!(
            md,
            "Call it — “{}”:\n\n```sh\n{}```\n\n```rust\n{}```\n\n```ts\n{}```\n\n```python\n{}```\n\n",
            escape_markdown(&s.example),
            s.curl,
            s.rust,
            s.typescript,
            s.python
        );
    }
    md
}

fn example_md(m: &Method, example: &Value) -> String {
    let name = example
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("example");
    let params: Map<String, Value> = example
        .get("params")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.get("name")?.as_str()?.to_owned(), p.get("value")?.clone())))
        .collect();
    let mut message = json!({"jsonrpc": "2.0"});
    if m.result.is_some() {
        message["id"] = json!(1);
    }
    message["method"] = json!(m.name);
    if !params.is_empty() || m.result.is_none() {
        message["params"] = Value::Object(params);
    }
    let mut md = format!("Example — {name}:\n\n```json\n{}\n", message);
    if let Some(result) = example.pointer("/result/value") {
        let _ = writeln!(
            md,
            "{}",
            json!({"jsonrpc": "2.0", "id": 1, "result": result})
        );
    }
    md + "```\n\n"
}

fn errors(api: &Api) -> String {
    let mut md = String::from(
        "## Errors\n\nEvery error is a JSON-RPC error object `{\"code\", \"message\", \"data\"}` with a stable \
         `message`; `data` is typed per code.\n\n",
    );
    for e in &api.errors {
        md += &error(e);
    }
    md
}

fn error(e: &ErrorDef) -> String {
    let data = match &e.data {
        None => "none".to_owned(),
        Some(t) => match &t.kind {
            TypeKind::Alias(ty) => md_type(ty),
            _ => "object".to_owned(),
        },
    };
    let mut md = format!(
        "### {} {}\n\n**{}.** {}\n\n`data`: {data}\n\n",
        e.code, e.name, e.message, e.description
    );
    if let Some(NamedType {
        kind: TypeKind::Struct(fields),
        ..
    }) = &e.data
    {
        md += &fields_table(fields);
    }
    if let Some(example) = &e.data_example {
        let _ = writeln!(
            md,
            "```json\n{}\n```\n",
            json!({"code": e.code, "message": e.message, "data": example})
        );
    }
    md
}

/// A type heading's anchor (`### type DownloadStatus`), apart from the
/// method `download.status`'s.
fn type_anchor(name: &str) -> String {
    slug(&format!("type {name}"))
}

/// An error heading's anchor (`### -32001 DownloadNotFound`).
fn error_anchor(e: &ErrorDef) -> String {
    slug(&format!("{} {}", e.code, e.name))
}

fn named_type(t: &NamedType) -> String {
    let mut md = format!("### type {}\n\n{}\n\n", t.name, t.description);
    match &t.kind {
        TypeKind::Struct(fields) => md += &fields_table(fields),
        TypeKind::Enum(values) => {
            let values: Vec<String> = values.iter().map(|v| format!("`\"{v}\"`")).collect();
            let _ = writeln!(md, "One of {}.\n", values.join(", "));
        }
        TypeKind::Alias(ty) => {
            let _ = writeln!(md, "Type: {}{}.\n", md_type(ty), constraints(&t.schema));
        }
        TypeKind::Notifications => {
            md += "One of the [notifications](#notifications), as sent but for its `jsonrpc` member: `{\"method\": …, \"params\": {…}}`.\n\n";
        }
    }
    md
}

fn fields_table(fields: &[Field]) -> String {
    let mut md =
        String::from("| name | type | required | description |\n| --- | --- | --- | --- |\n");
    for f in fields {
        let mut description = one_line(&f.description);
        // Most descriptions say their default in words already.
        if let Some(default) = f
            .default
            .as_ref()
            .filter(|_| !description.contains("Default"))
        {
            let _ = write!(description, " Default `{default}`.");
        }
        let _ = writeln!(
            md,
            "| `{}` | {}{} | {} | {} |",
            f.name,
            md_type(&f.ty),
            constraints(&f.schema),
            if f.required { "yes" } else { "no" },
            description.replace('|', "\\|")
        );
    }
    md + "\n"
}

/// Bounds worth knowing before calling, as a short suffix (`, 1 to 64`).
fn constraints(schema: &Value) -> String {
    let n = |k: &str| schema.get(k).and_then(Value::as_i64);
    let bound = |lo: Option<i64>, hi: Option<i64>, unit: &str| match (lo, hi) {
        (Some(lo), Some(hi)) => format!(", {lo} to {hi}{unit}"),
        (Some(lo), None) if lo > 0 => format!(", ≥ {lo}{unit}"),
        (None, Some(hi)) => format!(", ≤ {hi}{unit}"),
        _ => String::new(),
    };
    let mut out = bound(n("minimum"), n("maximum"), "");
    out += &bound(n("minLength"), n("maxLength"), " characters");
    out += &bound(n("minItems"), n("maxItems"), " items");
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        let _ = write!(out, ", {format}");
    }
    out
}

fn md_type(ty: &Type) -> String {
    ty.describe(&|n| format!("[`{n}`](#{})", type_anchor(n)))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// GitHub's heading anchor: lowercase, punctuation dropped, spaces to `-`.
fn slug(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// `docs/api-changes.md`: what changed, release by release.
pub fn changes_page(api: &Api, released: &[Release]) -> String {
    format!(
        "<!-- {} -->\n\n# {} API changes\n\n{}",
        header("").trim(),
        api.title,
        changes(api, released, "##")
    )
}

/// The changes under headings of `level` (`##`): the unreleased ones, then
/// each release against the one before it, newest first.
fn changes(api: &Api, released: &[Release], level: &str) -> String {
    let mut md = format!(
        "What changed in the API contract, as `haul-codegen diff` reports it: in each released \
         contract (`{RELEASED_DIR}/`) against the one before it, newest first, and in \
         `openrpc.json` since the latest release. A **breaking** change stops some deployed client \
         from working and comes with a new major version (a new minor one before 1.0); a \
         **compatible** one does not; a **docs** one changes only the documentation (descriptions, \
         summaries, examples, tags). Each change names its JSON pointer, into the newer document \
         (into the older one for what it no longer has).\n\n{level} Unreleased\n\n"
    );
    match released.last() {
        None => md += "No contract has been released yet.\n\n",
        Some(latest) => {
            let since = format!("Changes in `openrpc.json` since {}", latest.version);
            md += &change_list(&since, &diff::diff(&latest.api, api));
        }
    }
    for (i, release) in released.iter().enumerate().rev() {
        let _ = writeln!(md, "{level} {}\n", release.version);
        match i.checked_sub(1).map(|before| &released[before]) {
            None => md += "The first released contract.\n\n",
            Some(before) => {
                let against = format!("Against {}", before.version);
                md += &change_list(&against, &diff::diff(&before.api, &release.api));
            }
        }
    }
    md
}

/// `<intro>: none.`, or `<intro>: <summary>.` and a list item per change.
fn change_list(intro: &str, changes: &[Change]) -> String {
    if changes.is_empty() {
        return format!("{intro}: none.\n\n");
    }
    let mut md = format!("{intro}: {}.\n\n", diff::summary(changes));
    for c in changes {
        let _ = writeln!(
            md,
            "- **{}** `{}` — {}",
            c.class,
            c.pointer,
            escape_markdown(&c.message)
        );
    }
    md + "\n"
}

/// Text shown as written: a message quotes patterns and names, whose `*`,
/// `_`, `[`, `` ` `` or `<` Markdown would otherwise read as markup.
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>|~&!#".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What the page shows: the reference, then the changes.
fn page_markdown(api: &Api, released: &[Release]) -> String {
    // Relative, so it finds the document both beside the published page
    // and at the daemon's `/openrpc.json` next to its `/docs`.
    let intro = "The OpenRPC document itself: [openrpc.json](openrpc.json).\n\n";
    format!(
        "{}## API changes\n\n{}",
        reference(api, intro),
        changes(api, released, "###")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> Api {
        Api::parse_str(include_str!("../../openrpc.json")).expect("the document parses")
    }

    fn released() -> Vec<Release> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../contract/released");
        crate::release::load(std::path::Path::new(dir)).expect("the released contracts load")
    }

    /// The document at `version`, after `edit`.
    fn release(version: &str, edit: impl FnOnce(&mut Value)) -> Release {
        let mut doc: Value = serde_json::from_str(include_str!("../../openrpc.json")).unwrap();
        doc["info"]["version"] = json!(version);
        edit(&mut doc);
        Release {
            version: version.parse().unwrap(),
            api: Api::parse(&doc).expect("the edited document parses"),
        }
    }

    #[test]
    fn every_heading_has_its_own_anchor_and_every_link_finds_one() {
        let md = page_markdown(&api(), &released());
        let anchors: Vec<String> = md
            .lines()
            .filter_map(|l| l.strip_prefix('#'))
            .map(|l| slug(l.trim_start_matches('#').trim()))
            .collect();
        let mut unique = anchors.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            anchors.len(),
            "duplicate anchors in {anchors:?}"
        );
        for link in md.split("](#").skip(1) {
            let target = &link[..link.find(')').expect("a closed link")];
            assert!(
                anchors.iter().any(|a| a == target),
                "no heading for #{target}"
            );
        }
    }

    #[test]
    fn html_shows_raw_html_in_the_document_as_text() {
        let mut api = api();
        api.methods[0].description = "a <script>alert(1)</script> b".into();
        let page = html_page(&api, &released());
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
    }

    #[test]
    fn the_changes_list_each_release_newest_first_after_the_unreleased_ones() {
        let first = release("0.1.0", |_| {});
        let second = release("0.2.0", |d| {
            d["methods"][3]["params"][1]["required"] = json!(true)
        });
        let current = release("0.2.0", |d| {
            d["methods"][3]["params"][1]["required"] = json!(true);
            d["components"]["schemas"]["Checksum"]["pattern"] = json!("^sha-256=[0-9a-f]{64}|x*$");
        });
        let md = changes(&current.api, &[first, second], "##");
        let body = &md[md.find("## Unreleased").expect("an unreleased section")..];
        assert_eq!(
            body,
            "## Unreleased\n\n\
             Changes in `openrpc.json` since 0.2.0: 1 breaking change.\n\n\
             - **breaking** `/components/schemas/Checksum` — Checksum: pattern changed from \
             \"^(sha-256=\\[0-9a-fA-F\\]{64}\\|sha-512=\\[0-9a-fA-F\\]{128})$\" to \"^sha-256=\\[0-9a-f\\]{64}\\|x\\*$\"\n\n\
             ## 0.2.0\n\n\
             Against 0.1.0: 1 breaking change.\n\n\
             - **breaking** `/methods/3/params/1` — download.remove: param \"deleteFiles\" is now required\n\n\
             ## 0.1.0\n\nThe first released contract.\n\n"
        );
        let unchanged = changes(
            &release("0.1.0", |_| {}).api,
            &[release("0.1.0", |_| {})],
            "##",
        );
        assert!(
            unchanged.contains("## Unreleased\n\nChanges in `openrpc.json` since 0.1.0: none.\n\n"),
            "{unchanged}"
        );
    }
}
