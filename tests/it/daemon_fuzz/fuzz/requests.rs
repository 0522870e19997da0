//! The requests: valid calls of every method in the document (its
//! examples, made local), and the ways to break them. Seeded, so the same
//! seed gives the same requests.

use serde_json::{json, Value};

use super::{MAX_BATCH, MAX_FRAME, MAX_REQUEST};

/// xorshift64: small, seeded, the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// JSON as written, not as parsed: numbers no parser keeps (2^64, 1e400)
/// and duplicate keys survive.
#[derive(Clone, Debug)]
enum J {
    Raw(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn raw(raw: &str) -> J {
        J::Raw(raw.to_owned())
    }

    fn from_value(value: &Value) -> J {
        match value {
            Value::String(s) => J::Str(s.clone()),
            Value::Array(items) => J::Arr(items.iter().map(J::from_value).collect()),
            Value::Object(fields) => J::Obj(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), J::from_value(v)))
                    .collect(),
            ),
            other => J::Raw(other.to_string()),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        let string = |s: &str, out: &mut Vec<u8>| {
            out.extend_from_slice(serde_json::to_string(s).expect("a string").as_bytes())
        };
        match self {
            J::Raw(raw) => out.extend_from_slice(raw.as_bytes()),
            J::Str(s) => string(s, out),
            J::Arr(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            J::Obj(fields) => {
                out.push(b'{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    string(key, out);
                    out.push(b':');
                    value.write(out);
                }
                out.push(b'}');
            }
        }
    }

    /// The path (child indices) of every node, this one first.
    fn paths(&self) -> Vec<Vec<usize>> {
        let mut paths = vec![Vec::new()];
        let children: Vec<&J> = match self {
            J::Arr(items) => items.iter().collect(),
            J::Obj(fields) => fields.iter().map(|(_, v)| v).collect(),
            _ => Vec::new(),
        };
        for (i, child) in children.into_iter().enumerate() {
            for mut path in child.paths() {
                path.insert(0, i);
                paths.push(path);
            }
        }
        paths
    }

    fn get(&self, path: &[usize]) -> &J {
        match (path.split_first(), self) {
            (Some((&i, rest)), J::Arr(items)) => items[i].get(rest),
            (Some((&i, rest)), J::Obj(fields)) => fields[i].1.get(rest),
            (_, node) => node,
        }
    }

    fn field(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn at(&mut self, path: &[usize]) -> &mut J {
        match (path.split_first(), self) {
            (None, node) => node,
            (Some((&i, rest)), J::Arr(items)) => items[i].at(rest),
            (Some((&i, rest)), J::Obj(fields)) => fields[i].1.at(rest),
            (Some(_), node) => node,
        }
    }

    fn fields(&mut self) -> Option<&mut Vec<(String, J)>> {
        match self {
            J::Obj(fields) => Some(fields),
            _ => None,
        }
    }

    /// Sets `key` (its first occurrence), or adds it.
    fn set(&mut self, key: &str, value: J) {
        if let Some(fields) = self.fields() {
            match fields.iter_mut().find(|(k, _)| k == key) {
                Some(field) => field.1 = value,
                None => fields.push((key.to_owned(), value)),
            }
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some(fields) = self.fields() {
            fields.retain(|(k, _)| k != key);
        }
    }
}

/// Values of every type, and those a parser or a schema finds hard.
const ODD_VALUES: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1.5",
    "-0",
    "8.0",
    "1e308",
    "-1e308",
    "1e400",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890",
    r#""""#,
    r#""5""#,
    r#""x""#,
    r#""é😀""#,
    r#""\u0000""#,
    r#""\ud800""#,
    r#""\"\\""#,
    r#""a/b""#,
    r#""2f1c0d9a7b3e4a51""#,
    r#""active""#,
    "[]",
    "{}",
    r#"[1,"x",null,{}]"#,
    r#"{"a":{"b":[]}}"#,
];

/// An `id` of every JSON type, the ones jsonrpsee cannot hold included.
const IDS: &[&str] = &[
    "0",
    "1",
    "18446744073709551615",
    r#""a""#,
    r#""""#,
    r#""é\n""#,
    r#""\u0041""#,
    "null",
    "-1",
    "-0",
    "1.5",
    "1e400",
    "18446744073709551616",
    "true",
    "false",
    "{}",
    "[]",
    "[1]",
    r#"{"id":1}"#,
];

const UNKNOWN_METHODS: &[&str] = &[
    "",
    "no.such",
    "download.",
    "DOWNLOAD.ADD",
    " download.add",
    "download.add\u{0}",
    "haul.internal.attach",
    "rpc.",
    "rpc.discover.x",
    "é😀",
];

const INVALID_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\x80",
    b"\xc0\x80",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xf8\x88\x80\x80\x80",
];

/// One request to send.
pub struct Case {
    pub body: Vec<u8>,
    /// The error code the answer must carry, when known.
    pub code: Option<i64>,
}

/// Valid calls of every method in the document, and the ways to break them.
pub struct Cases {
    /// (method, params) of every example in the document.
    calls: Vec<(String, J)>,
    methods: Vec<String>,
}

impl Cases {
    pub fn from_document(document: &str, gids: &[String]) -> Cases {
        let document: Value = serde_json::from_str(document).expect("the document is JSON");
        let mut calls = Vec::new();
        let mut methods = Vec::new();
        for method in document["methods"].as_array().expect("methods") {
            let name = method["name"].as_str().expect("a name").to_owned();
            for example in method["examples"].as_array().into_iter().flatten() {
                let mut params = serde_json::Map::new();
                for param in example["params"].as_array().into_iter().flatten() {
                    let name = param["name"].as_str().expect("a param name");
                    params.insert(name.to_owned(), local(&param["value"]));
                }
                // The downloads made at the start, so that calls on a gid
                // reach one too, not only "not found".
                if params.contains_key("gid") {
                    for gid in gids {
                        let mut params = params.clone();
                        params.insert("gid".into(), json!(gid));
                        calls.push((name.clone(), J::from_value(&Value::Object(params))));
                    }
                }
                calls.push((name.clone(), J::from_value(&Value::Object(params))));
            }
            methods.push(name);
        }
        assert!(
            methods.len() >= 10,
            "every method of the document: {methods:?}"
        );
        Cases { calls, methods }
    }

    pub fn next(&self, rng: &mut Rng, ws: bool) -> Case {
        let mut body = match rng.below(100) {
            0..=2 => return self.giant(rng, ws),
            3..=10 => self.special(rng),
            11..=25 => self.batch(rng).bytes(),
            26..=32 => self.call(rng).bytes(),
            _ => {
                let mut call = self.call(rng);
                for _ in 0..1 + rng.below(3) {
                    self.mutate(rng, &mut call);
                }
                call.bytes()
            }
        };
        if rng.chance(12) && !body.is_empty() {
            if rng.chance(50) {
                body.truncate(rng.below(body.len()));
            } else {
                let at = rng.below(body.len() + 1);
                body.splice(at..at, rng.pick(INVALID_UTF8).iter().copied());
            }
        }
        Case { body, code: None }
    }

    /// A valid call, with a fresh numeric id.
    fn call(&self, rng: &mut Rng) -> J {
        let (method, params) = rng.pick(&self.calls);
        J::Obj(vec![
            ("jsonrpc".into(), J::Str("2.0".into())),
            ("id".into(), J::Raw(rng.below(1_000_000).to_string())),
            ("method".into(), J::Str(method)),
            ("params".into(), params),
        ])
    }

    fn odd_value(&self, rng: &mut Rng) -> J {
        match rng.below(20) {
            0 => nested(100),
            1 => J::Str("a".repeat(1 + rng.below(9_000))),
            _ => J::raw(rng.pick(ODD_VALUES)),
        }
    }

    fn mutate(&self, rng: &mut Rng, call: &mut J) {
        match rng.below(10) {
            // A value of another type anywhere, the call itself included.
            0 | 1 => {
                let paths = call.paths();
                let path = rng.pick(&paths);
                *call.at(&path) = self.odd_value(rng);
            }
            // A field left out or given twice, at any level.
            2 | 3 => {
                let objects: Vec<Vec<usize>> = call
                    .paths()
                    .into_iter()
                    .filter(|p| matches!(call.get(p), J::Obj(f) if !f.is_empty()))
                    .collect();
                if objects.is_empty() {
                    return;
                }
                let path = rng.pick(&objects);
                let odd = self.odd_value(rng);
                let twice = rng.chance(50);
                if let Some(fields) = call.at(&path).fields() {
                    let i = rng.below(fields.len());
                    if twice {
                        let (key, value) = fields[i].clone();
                        let value = if rng.chance(50) { value } else { odd };
                        fields.insert(rng.below(fields.len() + 1), (key, value));
                    } else {
                        fields.remove(i);
                    }
                }
            }
            4 => call.set("id", J::raw(rng.pick(IDS))),
            5 => call.remove("id"),
            6 => {
                let method = if rng.chance(50) {
                    rng.pick(UNKNOWN_METHODS).to_string()
                } else {
                    rng.pick(&self.methods)
                };
                call.set("method", J::Str(method));
            }
            7 => match rng.below(4) {
                0 => call.remove("jsonrpc"),
                _ => call.set(
                    "jsonrpc",
                    J::raw(rng.pick(&[r#""1.0""#, "2.0", "null", r#""2.0 ""#])),
                ),
            },
            8 => {
                // Positional: the same values, in a list.
                let params = match call.field("params") {
                    Some(J::Obj(fields)) => J::Arr(fields.iter().map(|(_, v)| v.clone()).collect()),
                    _ => J::Arr(Vec::new()),
                };
                match rng.below(4) {
                    0 => call.set("params", params),
                    1 => call.remove("params"),
                    _ => call.set(
                        "params",
                        J::raw(rng.pick(&["null", r#""x""#, "7", "[]", "{}"])),
                    ),
                }
            }
            _ => {
                let odd = self.odd_value(rng);
                call.set("bogus", odd);
            }
        }
    }

    /// A batch: empty, at or over `--max-batch`, of calls broken or not,
    /// notifications, values that are no request, and batches in batches.
    fn batch(&self, rng: &mut Rng) -> J {
        let len = match rng.below(10) {
            0 => 0,
            1 => MAX_BATCH + 1 + rng.below(3),
            2 => MAX_BATCH,
            _ => 1 + rng.below(MAX_BATCH),
        };
        let only_notifications = rng.chance(10);
        let items = (0..len)
            .map(|_| {
                let mut call = self.call(rng);
                if only_notifications {
                    call.remove("id");
                    return call;
                }
                match rng.below(10) {
                    0..=3 => {}
                    4..=6 => self.mutate(rng, &mut call),
                    7 => call.remove("id"),
                    8 => call = J::raw(rng.pick(&["1", "null", "[]", "[[]]", r#""x""#, "{}"])),
                    _ => call = J::Arr(vec![call, self.call(rng)]),
                }
                call
            })
            .collect();
        J::Arr(items)
    }

    /// Whole bodies that are odd as a whole.
    fn special(&self, rng: &mut Rng) -> Vec<u8> {
        let call = self.call(rng).bytes();
        let text = String::from_utf8(call.clone()).expect("UTF-8");
        match rng.below(12) {
            0 => "[".repeat(10_000).into_bytes(),
            1 => format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
            2 => r#"{"a":"#.repeat(10_000).into_bytes(),
            3 => {
                let mut call = self.call(rng);
                call.set("params", nested(if rng.chance(50) { 100 } else { 10_000 }));
                call.bytes()
            }
            4 => rng
                .pick(&[
                    "1",
                    r#""x""#,
                    "null",
                    "true",
                    "-0",
                    "1e400",
                    r#""\ud800""#,
                    "{}",
                    "[[]]",
                    "[1,2]",
                ])
                .as_bytes()
                .to_vec(),
            5 => rng.pick(&["", " ", "\n\t\r "]).as_bytes().to_vec(),
            // Past the 128 bytes jsonrpsee looks at (HTTP cuts them off).
            6 => format!("{}{text}", " ".repeat(200)).into_bytes(),
            7 => format!("{text} x").into_bytes(),
            8 => format!("{text}{text}").into_bytes(),
            9 => format!("\u{feff}{text}").into_bytes(),
            10 => text.replacen("\"2.0\"", "\"2.0\u{0}\"", 1).into_bytes(),
            _ => text.replacen(':', " : ", 3).into_bytes(),
        }
    }

    /// A body or a call's params sized to a limit, give or take a byte: a
    /// `download.add` whose URL (too long to be one, so nothing starts)
    /// fills it.
    fn giant(&self, rng: &mut Rng, ws: bool) -> Case {
        let id = rng.below(1_000_000);
        let head = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"download.add","params":"#);
        let params = |size: usize| {
            let url = "http://127.0.0.1:9/";
            let fixed = r#"{"url":""}"#.len() + url.len();
            format!(r#"{{"url":"{url}{}"}}"#, "a".repeat(size - fixed))
        };
        let delta = rng.pick(&[-1_isize, 0, 1, 1_000]);
        let limit = if ws && rng.chance(50) {
            MAX_FRAME
        } else {
            MAX_REQUEST
        };
        let target = (limit as isize + delta) as usize;
        let (body, code) = if ws && limit == MAX_REQUEST {
            // The params alone sized against `--max-request-size`: within
            // it the URL is too long a param, past it the call too large.
            let body = format!("{head}{}}}", params(target));
            (
                body,
                Some(if target > MAX_REQUEST { -32007 } else { -32602 }),
            )
        } else {
            let size = target - head.len() - 1;
            let code = if size > MAX_REQUEST { -32007 } else { -32602 };
            (format!("{head}{}}}", params(size)), Some(code))
        };
        Case {
            body: body.into_bytes(),
            code,
        }
    }
}

/// `depth` arrays, one in another.
fn nested(depth: usize) -> J {
    J::Raw(format!("{}{}", "[".repeat(depth), "]".repeat(depth)))
}

/// `value` with every URL turned to a port on this machine where nothing
/// listens: the fuzzing must not reach out.
fn local(value: &Value) -> Value {
    match value {
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => {
            json!("http://127.0.0.1:9/fuzz")
        }
        Value::Array(items) => Value::Array(items.iter().map(local).collect()),
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), local(v))).collect())
        }
        other => other.clone(),
    }
}
