//! Python names for wire names, string literals and docstrings.

use heck::{ToShoutySnakeCase, ToSnakeCase};

use super::WIDTH;
use crate::model::{pascal, ErrorDef, Method};

/// `download.add` → `DownloadAddParams`.
pub(super) fn params_class(m: &Method) -> String {
    format!("{}Params", pascal(&m.name))
}

/// `download.started` → `DownloadStartedEvent`.
pub(super) fn event_class(m: &Method) -> String {
    format!("{}Event", pascal(&m.name))
}

/// `system.getVersion` → `system_get_version`.
pub(crate) fn method_name(m: &Method) -> String {
    ident(&m.name)
}

/// `DownloadNotFound` → `DOWNLOAD_NOT_FOUND`.
pub(super) fn error_member(e: &ErrorDef) -> String {
    e.name.to_shouty_snake_case()
}

/// `http-status` → `HTTP_STATUS`.
pub(crate) fn enum_member(value: &str) -> String {
    let name = value.to_shouty_snake_case();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V_{name}")
    } else {
        name
    }
}

/// A snake_case Python name; keywords and the names methods need for
/// themselves get a trailing underscore.
pub(crate) fn ident(wire: &str) -> String {
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
pub(super) fn py_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

pub(super) fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Text whose lines are paragraphs, wrapped to `width`; blank lines kept.
pub(super) fn paragraphs(text: &str, width: usize) -> Vec<String> {
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
pub(super) fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
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
pub(super) fn doc(indent: &str, text: &str) -> String {
    docstring(indent, &paragraphs(text, WIDTH - indent.len() - 3))
}

/// A docstring of these lines at `indent`: one line when it fits.
pub(super) fn docstring(indent: &str, lines: &[String]) -> String {
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
