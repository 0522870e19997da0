//! What the daemon must answer to a body: JSON-RPC 2.0, and what jsonrpsee
//! does where it departs from it (each such place says so). The body is
//! read the way jsonrpsee reads it (serde_json, values left unparsed), so
//! the model and the daemon agree on what is JSON.

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::{MAX_BATCH, MAX_FRAME, MAX_REQUEST};

pub const PARSE_ERROR: &str =
    r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#;
pub const INVALID_REQUEST: &str =
    r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request"}}"#;
pub const TOO_LARGE: &str = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32007,"message":"Request is too big","data":"Exceeded max limit of 262144"}}"#;
pub const BATCH_TOO_LARGE: &str = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32010,"message":"The batch request was too large","data":"Exceeded max limit of 8"}}"#;
pub const BATCH_RESPONSE_TOO_LARGE: &str = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32011,"message":"The batch response was too large","data":"Exceeded max limit of 524288"}}"#;
pub const UNAUTHORIZED: &str =
    r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Unauthorized"}}"#;

/// The answer a body must get.
#[derive(Debug)]
pub enum Expect {
    /// Over `--max-request-size` (HTTP) or the message limit (WebSocket).
    TooLarge,
    ParseError,
    /// One object or value (anything but an array).
    One(Entry),
    EmptyBatch,
    BatchTooLarge,
    Batch(Vec<Entry>),
    /// Not UTF-8, though serde_json can skip over it: jsonrpsee does not
    /// check the UTF-8 of strings it ignores (an unknown field's value), so
    /// it serves some such bodies and refuses others. Any well-formed
    /// answer, or none.
    AnyAnswer,
}

impl Expect {
    /// The kind of case, for the tally.
    pub fn kind(&self) -> &'static str {
        match self {
            Expect::TooLarge => "too large",
            Expect::ParseError => "not JSON",
            Expect::One(Entry::Call { invalid: false, .. }) => "call",
            Expect::One(Entry::Call { invalid: true, .. }) => "no request, with an id",
            Expect::One(Entry::Notification) => "notification",
            Expect::One(Entry::Invalid) => "no request, no id",
            Expect::EmptyBatch => "empty batch",
            Expect::BatchTooLarge => "batch over --max-batch",
            Expect::Batch(_) => "batch",
            Expect::AnyAnswer => "not UTF-8",
        }
    }
}

/// One request object, or what stands in a batch where one should.
#[derive(Debug)]
pub enum Entry {
    /// Answered with this `id`; with -32600 when the rest of it is no
    /// request (a wrong `jsonrpc`, a `method` that is not a string).
    Call { id: Value, invalid: bool },
    /// Runs, answered by nothing.
    Notification,
    /// No request and no usable `id`: -32600 with a null id (over WebSocket,
    /// for a whole message, -32700: jsonrpsee calls it a parse error there,
    /// and the daemon cannot reach in to correct it).
    Invalid,
}

/// What the daemon must answer to `body`, over WebSocket or HTTP.
pub fn classify(body: &[u8], ws: bool) -> Expect {
    if body.len() > if ws { MAX_FRAME } else { MAX_REQUEST } {
        return Expect::TooLarge;
    }
    let body = if ws {
        // jsonrpsee looks for the opening `{` or `[` in the first 128 bytes
        // only (the daemon cuts the whitespace off HTTP bodies first).
        match body.iter().take(128).position(|b| !b.is_ascii_whitespace()) {
            Some(start) if matches!(body[start], b'{' | b'[') => &body[start..],
            _ => return Expect::ParseError,
        }
    } else {
        trim_json_whitespace(body)
    };
    let Ok(text) = std::str::from_utf8(body) else {
        return match serde_json::from_slice::<IgnoredAny>(body) {
            Ok(_) => Expect::AnyAnswer,
            Err(_) => Expect::ParseError,
        };
    };
    match body.first() {
        Some(b'{') => match serde_json::from_str::<Fields>(text) {
            Ok(Fields(fields)) => Expect::One(entry(&fields)),
            Err(_) => Expect::ParseError,
        },
        Some(b'[') => match serde_json::from_str::<Vec<Box<RawValue>>>(text) {
            Ok(items) if items.is_empty() => Expect::EmptyBatch,
            Ok(items) if items.len() > MAX_BATCH => Expect::BatchTooLarge,
            Ok(items) => Expect::Batch(
                items
                    .iter()
                    .map(|item| match serde_json::from_str::<Fields>(item.get()) {
                        Ok(Fields(fields)) => entry(&fields),
                        Err(_) => Entry::Invalid,
                    })
                    .collect(),
            ),
            Err(_) => Expect::ParseError,
        },
        // Valid JSON but not a container (`1`, `"x"`): an invalid request.
        _ => match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => Expect::One(Entry::Invalid),
            Err(_) => Expect::ParseError,
        },
    }
}

/// A request object's fields, as jsonrpsee reads them.
fn entry(fields: &[(String, Box<RawValue>)]) -> Entry {
    let named = |name: &str| -> Vec<&str> {
        fields
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.get())
            .collect()
    };
    let string = |raw: &str| serde_json::from_str::<String>(raw).ok();
    let version_ok = matches!(named("jsonrpc")[..], [v] if string(v).as_deref() == Some("2.0"));
    let method_ok = matches!(named("method")[..], [m] if string(m).is_some());
    let shaped = version_ok && method_ok && named("params").len() <= 1;
    match named("id")[..] {
        [id] => match usable_id(id) {
            Some(id) => Entry::Call {
                id,
                invalid: !shaped,
            },
            // jsonrpsee departs from JSON-RPC here: an `id` it cannot hold
            // (a negative or fractional number, one over 2^64 - 1, `true`,
            // an object) or a duplicated one makes the call a notification,
            // which runs and is answered by nothing.
            None if shaped => Entry::Notification,
            None => Entry::Invalid,
        },
        _ if shaped => Entry::Notification,
        _ => Entry::Invalid,
    }
}

/// The ids jsonrpsee can answer with: null, a 64-bit unsigned integer, a
/// string.
fn usable_id(raw: &str) -> Option<Value> {
    match serde_json::from_str::<Value>(raw).ok()? {
        Value::Number(n) if n.is_u64() => Some(Value::Number(n)),
        id @ (Value::Null | Value::String(_)) => Some(id),
        _ => None,
    }
}

fn trim_json_whitespace(body: &[u8]) -> &[u8] {
    let start = body
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .unwrap_or(body.len());
    &body[start..]
}

pub fn answers_nothing(expect: &Expect) -> bool {
    match expect {
        Expect::One(entry) => matches!(entry, Entry::Notification),
        Expect::Batch(entries) => entries.iter().all(|e| matches!(e, Entry::Notification)),
        _ => false,
    }
}

pub fn check_status(expect: &Expect, body: &[u8], status: u16) -> Result<(), String> {
    let allowed: &[u16] = match expect {
        Expect::TooLarge => &[413],
        Expect::AnyAnswer => &[200, 204, 400],
        // jsonrpsee's status for a body that does not start like JSON-RPC.
        Expect::ParseError => match trim_json_whitespace(body).first() {
            Some(b'{' | b'[') => &[200],
            _ => &[400],
        },
        _ if answers_nothing(expect) => &[204],
        _ => &[200],
    };
    if allowed.contains(&status) {
        Ok(())
    } else {
        Err(format!("status {status}, not one of {allowed:?}"))
    }
}

/// Checks `answer` (`None`: nothing came) against `expect`; `code`, when
/// the case knows it, is the error code the answer must carry.
pub fn check(
    expect: &Expect,
    code: Option<i64>,
    answer: Option<&str>,
    ws: bool,
) -> Result<(), String> {
    let exactly = |wanted: &str| match answer {
        Some(answer) if answer == wanted => Ok(()),
        _ => Err(format!("expected {wanted}")),
    };
    match expect {
        Expect::TooLarge => exactly(TOO_LARGE),
        Expect::ParseError => exactly(PARSE_ERROR),
        Expect::EmptyBatch => exactly(INVALID_REQUEST),
        Expect::BatchTooLarge => exactly(BATCH_TOO_LARGE),
        Expect::One(Entry::Invalid) if ws => exactly(PARSE_ERROR),
        Expect::One(Entry::Invalid) => exactly(INVALID_REQUEST),
        _ if answers_nothing(expect) => match answer {
            None => Ok(()),
            Some(_) => Err(format!("an answer to {expect:?}")),
        },
        Expect::AnyAnswer => match answer.map(serde_json::from_str::<Value>) {
            None => Ok(()),
            Some(Ok(Value::Array(answers))) if !answers.is_empty() => {
                answers.iter().try_for_each(response)
            }
            Some(Ok(answer)) => response(&answer),
            Some(Err(e)) => Err(e.to_string()),
        },
        Expect::One(Entry::Call { id, invalid }) => {
            let text = answer.ok_or("no answer")?;
            let answer: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            response(&answer)?;
            same(&answer["id"], id)?;
            let got = answer["error"]["code"].as_i64();
            if *invalid != (got == Some(-32600)) {
                return Err(format!(
                    "invalid request is {invalid}, but the code is {got:?}"
                ));
            }
            match code {
                Some(code) if got != Some(code) => Err(format!("expected code {code}")),
                _ => Ok(()),
            }
        }
        Expect::Batch(entries) => {
            let text = answer.ok_or("no answer")?;
            if text == BATCH_RESPONSE_TOO_LARGE {
                return Ok(());
            }
            let answers: Vec<Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
            batch(entries, &answers)
        }
        Expect::One(Entry::Notification) => unreachable!("answers nothing"),
    }
}

/// Matches a batch's answers to its entries: one for each that is not a
/// notification, in any order (JSON-RPC lets them come so).
fn batch(entries: &[Entry], answers: &[Value]) -> Result<(), String> {
    let mut open: Vec<&Entry> = entries
        .iter()
        .filter(|e| !matches!(e, Entry::Notification))
        .collect();
    if answers.len() != open.len() {
        return Err(format!("{} answers for {open:?}", answers.len()));
    }
    for answer in answers {
        response(answer)?;
        let invalid = answer["error"]["code"].as_i64() == Some(-32600);
        let at = open.iter().position(|entry| match entry {
            Entry::Call { id, invalid: i } => answer["id"] == *id && *i == invalid,
            Entry::Invalid => answer["id"].is_null() && invalid,
            Entry::Notification => false,
        });
        match at {
            Some(at) => open.remove(at),
            None => return Err(format!("{answer} answers none of {open:?}")),
        };
    }
    Ok(())
}

/// A well-formed JSON-RPC response object.
pub fn response(answer: &Value) -> Result<(), String> {
    let fields = answer.as_object().ok_or("not an object")?;
    let id_ok = matches!(
        fields.get("id"),
        Some(Value::Null | Value::String(_)) | Some(Value::Number(_))
    );
    let outcome = match (fields.get("result"), fields.get("error")) {
        (Some(_), None) => Ok(()),
        (None, Some(Value::Object(error))) => {
            let code_ok = error.get("code").is_some_and(Value::is_i64);
            let message_ok = error.get("message").is_some_and(Value::is_string);
            let known = error
                .keys()
                .all(|k| matches!(k.as_str(), "code" | "message" | "data"));
            if code_ok && message_ok && known {
                Ok(())
            } else {
                Err("a malformed error object")
            }
        }
        _ => Err("neither a result nor an error object"),
    };
    if fields.get("jsonrpc") != Some(&json!("2.0")) || !id_ok || fields.len() != 3 {
        return Err(format!("not a JSON-RPC 2.0 response: {answer}"));
    }
    outcome.map_err(|why| format!("{why}: {answer}"))
}

/// A well-formed notification pushed by the daemon.
pub fn notification(message: &Value) -> Result<(), String> {
    let fields = message.as_object().ok_or("not an object")?;
    let ok = fields.len() == 3
        && fields.get("jsonrpc") == Some(&json!("2.0"))
        && fields.get("method").is_some_and(Value::is_string)
        && fields.get("params").is_some_and(Value::is_object);
    ok.then_some(())
        .ok_or_else(|| format!("a malformed notification: {message}"))
}

pub fn same<T: PartialEq + fmt::Debug + ?Sized>(got: &T, wanted: &T) -> Result<(), String> {
    if got == wanted {
        Ok(())
    } else {
        Err(format!("got {got:?}, expected {wanted:?}"))
    }
}

/// An object's fields in order, duplicates kept, values unread.
struct Fields(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fields, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Fields;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some(field) = map.next_entry()? {
                    fields.push(field);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

#[test]
fn the_model_reads_bodies_as_jsonrpsee_does() {
    let spaced = format!(
        "{}{}",
        " ".repeat(200),
        r#"{"jsonrpc":"2.0","id":1,"method":"m"}"#
    );
    let deep = "[".repeat(10_000);
    // (body, kind over HTTP, kind over WebSocket)
    let cases: &[(&[u8], &str, &str)] = &[
        (br#"{"jsonrpc":"2.0","id":1,"method":"m"}"#, "call", "call"),
        (
            br#"{"jsonrpc":"2.0","method":"m"}"#,
            "notification",
            "notification",
        ),
        // jsonrpsee's notifications: an id it cannot hold, or two.
        (
            br#"{"jsonrpc":"2.0","id":-1,"method":"m"}"#,
            "notification",
            "notification",
        ),
        (
            br#"{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}"#,
            "notification",
            "notification",
        ),
        (
            br#"{"jsonrpc":"2.0","id":1,"method":1}"#,
            "no request, with an id",
            "no request, with an id",
        ),
        (
            br#"{"jsonrpc":"2.0","method":1,"params":"bar"}"#,
            "no request, no id",
            "no request, no id",
        ),
        (b"1", "no request, no id", "not JSON"),
        (spaced.as_bytes(), "call", "not JSON"),
        (
            b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}",
            "not UTF-8",
            "not UTF-8",
        ),
        (b"{\xff}", "not JSON", "not JSON"),
        (b"[]", "empty batch", "empty batch"),
        (
            b"[1,2,3,4,5,6,7,8,9]",
            "batch over --max-batch",
            "batch over --max-batch",
        ),
        (deep.as_bytes(), "not JSON", "not JSON"),
    ];
    for (body, http, ws) in cases {
        let text = String::from_utf8_lossy(body);
        assert_eq!(classify(body, false).kind(), *http, "{text:.100}");
        assert_eq!(classify(body, true).kind(), *ws, "{text:.100}");
    }
    let id = |body: &[u8]| match classify(body, false) {
        Expect::One(Entry::Call { id, .. }) => id,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        id(br#"{"jsonrpc":"2.0","id":"\u0041","method":"m"}"#),
        json!("A")
    );
    assert_eq!(
        id(br#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"m"}"#),
        json!(u64::MAX)
    );
}
