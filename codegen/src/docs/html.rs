//! The HTML pages: the API reference (`docs/site/index.html`, which the
//! daemon also serves at `GET /docs`) and the changes page
//! (`docs/site/changes.html`), each the docs' Markdown rendered
//! (pulldown-cmark) into one self-contained page: inline CSS, no script,
//! nothing fetched at view time.

use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{changes, error_anchor, page_markdown, slug, type_anchor};
use crate::header;
use crate::model::Api;
use crate::release::Release;

/// The API reference: every method (with its snippets), notification,
/// error and type, then the changes. Raw HTML in the document's text is
/// shown as text, never interpreted; headings get GitHub's anchors so the
/// Markdown's links work in both.
pub fn html_page(api: &Api, released: &[Release]) -> String {
    let nav_list = |title: &str, anchor: &str, names: Vec<(String, String)>| {
        let items: String = names
            .iter()
            .map(|(href, n)| format!("<li><a href=\"#{href}\">{}</a></li>", escape(n)))
            .collect();
        format!("<h2><a href=\"#{anchor}\">{title}</a></h2><ul>{items}</ul>")
    };
    let named = |name: &str| (slug(name), name.to_owned());
    let nav = [
        nav_list(
            "Methods",
            "methods",
            api.methods.iter().map(|m| named(&m.name)).collect(),
        ),
        nav_list(
            "Notifications",
            "notifications",
            api.notifications.iter().map(|m| named(&m.name)).collect(),
        ),
        nav_list(
            "Errors",
            "errors",
            api.errors
                .iter()
                .map(|e| (error_anchor(e), e.name.clone()))
                .collect(),
        ),
        nav_list(
            "Types",
            "types",
            api.types
                .iter()
                .map(|t| (type_anchor(&t.name), t.name.clone()))
                .collect(),
        ),
        nav_list(
            "API changes",
            "api-changes",
            versions(released).map(|heading| named(&heading)).collect(),
        ),
    ]
    .concat();
    let title = format!("{} API {}", api.title, api.version);
    page(&title, &nav, &page_markdown(api, released))
}

/// The changes page: what changed in each release, for linking to on its
/// own (release notes); the reference's last section says the same.
pub fn changes_page(api: &Api, released: &[Release]) -> String {
    let items: String = versions(released)
        .map(|v| format!("<li><a href=\"#{}\">{}</a></li>", slug(&v), escape(&v)))
        .collect();
    let nav = format!(
        "<h2><a href=\"index.html\">API reference</a></h2><h2><a href=\"#{}-api-changes\">API changes</a></h2><ul>{items}</ul>",
        slug(&api.title)
    );
    let md = format!(
        "# {} API changes\n\n{}",
        api.title,
        changes(api, released, "##")
    );
    page(&format!("{} API changes", api.title), &nav, &md)
}

/// The changes' headings, as both pages name them: what is not released
/// yet, then each release, newest first.
fn versions(released: &[Release]) -> impl Iterator<Item = String> + '_ {
    std::iter::once("Unreleased".to_owned())
        .chain(released.iter().rev().map(|r| r.version.to_string()))
}

/// `md` as a page titled `title` with `nav` (HTML) beside it.
fn page(title: &str, nav: &str, md: &str) -> String {
    // (level, index of the opening tag's placeholder, the heading's text)
    let mut heading: Option<(HeadingLevel, usize, String)> = None;
    let mut events = Vec::new();
    for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level, events.len(), String::new()));
                events.push(Event::Html(CowStr::Borrowed("")));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, at, text)) = heading.take() {
                    events[at] = Event::Html(format!("<{level} id=\"{}\">", slug(&text)).into());
                    events.push(Event::Html(format!("</{level}>\n").into()));
                }
            }
            Event::Text(t) | Event::Code(t) if heading.is_some() => {
                if let Some((_, _, text)) = heading.as_mut() {
                    text.push_str(&t);
                }
                events.push(Event::Text(t));
            }
            // The document's text is shown, never interpreted as HTML.
            Event::Html(raw) | Event::InlineHtml(raw) => {
                if !raw.starts_with("<!--") {
                    events.push(Event::Text(raw));
                }
            }
            other => events.push(other),
        }
    }
    let mut body = String::new();
    html::push_html(&mut body, events.into_iter());

    format!(
        "<!DOCTYPE html>\n<!-- {header} -->\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <nav>{nav}</nav>\n<main>\n{body}</main>\n</body>\n</html>\n",
        header = header("").trim(),
        title = escape(title),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "
:root{color-scheme:light dark;--fg:#1d2125;--bg:#fff;--muted:#5c6670;--line:#d8dee4;--code:#f3f5f7;--link:#0b5cad}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ec;--bg:#15181b;--muted:#9aa4ad;--line:#30363d;--code:#1f2428;--link:#6cb6ff}}
*{box-sizing:border-box}
body{margin:0;display:flex;font:15px/1.55 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg)}
nav{position:sticky;top:0;height:100vh;overflow-y:auto;flex:0 0 16rem;padding:1rem;border-right:1px solid var(--line);font-size:13px}
nav h2{font-size:13px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin:1.2em 0 .3em}
nav ul{list-style:none;margin:0;padding:0}nav li{margin:.1em 0}
main{flex:1;min-width:0;max-width:60rem;padding:1rem 2.5rem 4rem}
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}
h1{font-size:1.9em;margin-top:.4em}h2{margin-top:2.2em;padding-bottom:.2em;border-bottom:1px solid var(--line)}
h3{margin-top:2em;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:1.1em}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--code);padding:.1em .3em;border-radius:4px}
pre{background:var(--code);padding:.8em 1em;border-radius:6px;overflow-x:auto}pre code{padding:0;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em;font-size:14px}
th,td{border:1px solid var(--line);padding:.35em .6em;text-align:left;vertical-align:top}th{background:var(--code)}
pre:has(>code.language-sh)::before{content:'curl'}pre:has(>code.language-rust)::before{content:'Rust'}
pre:has(>code.language-ts)::before{content:'TypeScript'}pre:has(>code.language-python)::before{content:'Python'}
pre::before{display:block;font:11px system-ui,sans-serif;letter-spacing:.05em;text-transform:uppercase;color:var(--muted);margin-bottom:.3em}
code.language-sh,code.language-rust,code.language-ts,code.language-python{user-select:all;white-space:pre;word-break:normal}
@media (max-width:50rem){body{display:block}nav{position:static;height:auto;border:0}main{padding:1rem}}
";
