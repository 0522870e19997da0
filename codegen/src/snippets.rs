//! Each method's first example as a call: a `curl` request and the SDK call
//! in Rust, TypeScript and Python. The docs page shows them; each SDK's
//! tests compile or type-check the same text from a generated file
//! ([`generate`]), so a snippet that no longer builds fails a test.
//!
//! The values are the example's JSON, spelled in each language by the
//! param's type: enums become the SDK's enum values, objects its structs,
//! with the names each emitter gives them.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::model::{pascal, Api, Field, Method, Type, TypeKind};
use crate::{header, python, rust, typescript, Output};

/// Where the daemon listens by default, as the snippets call it.
const URL: &str = "http://127.0.0.1:6801/jsonrpc";

/// A method's calls in every language, from its first example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippets {
    /// The example's `name`.
    pub example: String,
    pub curl: String,
    /// Rust: `use` lines, then statements in an async fn with `client:
    /// &haul::Client` that returns `Result<_, haul::ClientError>`.
    pub rust: String,
    /// TypeScript: statements in an async function with `client: Client`.
    pub typescript: String,
    /// Python: imports, then statements with `haul: haul_client.Client`.
    pub python: String,
}

/// `m`'s snippets, or `None` when it has no example.
pub fn snippets(api: &Api, m: &Method) -> Option<Snippets> {
    let example = m.examples.first()?;
    let params: Vec<(&Field, &Value)> = example
        .get("params")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?;
            let field = m.params.iter().find(|f| f.name == name)?;
            Some((field, p.get("value")?))
        })
        .collect();
    Some(Snippets {
        example: example
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("example")
            .to_owned(),
        curl: curl(m, &params),
        rust: rust_call(api, m, &params),
        typescript: typescript_call(m, &params),
        python: python_call(api, m, &params),
    })
}

/// The snippets as code the SDKs' tests build: a Rust module of the
/// integration tests, a TypeScript and a Python test-support module.
pub fn generate(api: &Api) -> Vec<Output> {
    let all: Vec<(&Method, Snippets)> = api
        .methods
        .iter()
        .filter_map(|m| Some((m, snippets(api, m)?)))
        .collect();
    let about = "The API page's snippets (docs/site/index.html), one function per method, and `ALL` of them\n\
                 in document order, which the tests build and call.";
    let comment = |prefix: &str| {
        about
            .lines()
            .map(|l| format!("{prefix} {l}\n"))
            .collect::<String>()
    };
    let mut rs = format!(
        "{}{}\nuse haul::{{Client, ClientError}};\n",
        header("//"),
        comment("//!")
    );
    let mut ts = format!(
        "{}{}\nimport type {{ Client }} from \"../src/index.js\";\n",
        header("//"),
        comment("//")
    );
    let mut py = format!(
        "{}\"\"\"{about}\"\"\"\n\nfrom typing import Callable\n\nfrom haul_client import Client\n",
        header("#")
    );
    let (mut rs_all, mut ts_all, mut py_all) = (String::new(), String::new(), String::new());
    for (m, s) in &all {
        let (rs_name, ts_name, py_name) = (
            rust::method_ident(m),
            typescript::method_name(m),
            python::text::method_name(m),
        );
        let _ = write!(
            rs,
            "\npub async fn {rs_name}(client: &Client) -> Result<(), ClientError> {{\n{}    let _ = result;\n    Ok(())\n}}\n",
            indent(&s.rust, "    ")
        );
        let _ = writeln!(rs_all, "        ({:?}, {rs_name}(client).await),", m.name);
        let _ = write!(
            ts,
            "\nexport async function {ts_name}(client: Client): Promise<unknown> {{\n{}  return result;\n}}\n",
            indent(&s.typescript, "  ")
        );
        let _ = writeln!(ts_all, "  [{:?}, {ts_name}],", m.name);
        let _ = write!(
            py,
            "\n\ndef {py_name}(haul: Client) -> object:\n{}    return result\n",
            indent(&s.python, "    ")
        );
        let _ = writeln!(py_all, "    ({:?}, {py_name}),", m.name);
    }
    let _ = write!(
        rs,
        "\n/// Calls every snippet, in document order: the method each calls, and how it ended.\n\
         pub async fn all(client: &Client) -> Vec<(&'static str, Result<(), ClientError>)> {{\n    vec![\n{rs_all}    ]\n}}\n"
    );
    let _ = write!(
        ts,
        "\n/** Every snippet, in document order, with the method it calls. */\n\
         export const ALL: [string, (client: Client) => Promise<unknown>][] = [\n{ts_all}];\n"
    );
    let _ = write!(
        py,
        "\n\nALL: list[tuple[str, Callable[[Client], object]]] = [\n{py_all}]\n\"\"\"Every snippet, in document order, with the method it calls.\"\"\"\n"
    );
    vec![
        Output {
            path: "tests/it/docs_snippets.rs".into(),
            text: rs,
        },
        Output {
            path: "clients/typescript/test/docs-snippets.ts".into(),
            text: ts,
        },
        Output {
            path: "clients/python/tests/docs_snippets.py".into(),
            text: py,
        },
    ]
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// The example's params as the wire object, in the example's order.
fn wire_params(params: &[(&Field, &Value)]) -> Map<String, Value> {
    params
        .iter()
        .map(|(f, v)| (f.name.clone(), (*v).clone()))
        .collect()
}

fn curl(m: &Method, params: &[(&Field, &Value)]) -> String {
    let mut call = json!({"jsonrpc": "2.0", "id": 1, "method": m.name});
    if !params.is_empty() {
        call["params"] = Value::Object(wire_params(params));
    }
    // Single-quoted for the shell: a quote inside ends it, is escaped, and
    // opens it again.
    let body = call.to_string().replace('\'', r"'\''");
    format!(
        "curl {URL} \\\n  -H \"Authorization: Bearer $(cat \"${{XDG_STATE_HOME:-$HOME/.local/state}}/haul/rpc-secret\")\" \\\n  -H 'Content-Type: application/json' \\\n  -d '{body}'\n"
    )
}

fn rust_call(api: &Api, m: &Method, params: &[(&Field, &Value)]) -> String {
    let name = rust::method_ident(m);
    if m.params.is_empty() {
        return format!("let result = client.{name}().await?;\n");
    }
    let mut uses = BTreeSet::new();
    let struct_name = format!("{}Params", pascal(&m.name));
    uses.insert(struct_name.clone());
    let value = |f: &Field| {
        params
            .iter()
            .find(|(p, _)| p.name == f.name)
            .map(|(_, v)| *v)
    };
    let args: Vec<String> = m
        .params
        .iter()
        .filter(|f| f.required)
        .map(|f| rust_arg(api, &f.ty, value(f).unwrap_or(&Value::Null), &mut uses))
        .collect();
    let optional: Vec<String> = params
        .iter()
        .filter(|(f, _)| !f.required)
        .map(|(f, v)| {
            let v = rust_value(api, &f.ty, v, &mut uses);
            // A nullable field is already an `Option`.
            let v = if matches!(f.ty, Type::Nullable(_)) {
                v
            } else {
                format!("Some({v})")
            };
            format!("params.{} = {v};\n", rust::field_ident(&f.name))
        })
        .collect();
    let new = format!("{struct_name}::new({})", args.join(", "));
    let mut code = match uses.len() {
        1 => format!("use haul::api::{struct_name};\n"),
        _ => format!(
            "use haul::api::{{{}}};\n",
            uses.into_iter().collect::<Vec<_>>().join(", ")
        ),
    };
    if optional.is_empty() {
        let _ = writeln!(code, "let result = client.{name}(&{new}).await?;");
    } else {
        let _ = writeln!(code, "let mut params = {new};");
        code += &optional.concat();
        let _ = writeln!(code, "let result = client.{name}(&params).await?;");
    }
    code
}

/// An argument of a params struct's `new`, which takes `impl Into<T>`: a
/// string literal as is, an integer literal with its type.
fn rust_arg(api: &Api, ty: &Type, v: &Value, uses: &mut BTreeSet<String>) -> String {
    match (resolve(api, ty), v) {
        (Type::String(_), Value::String(s)) => format!("{s:?}"),
        (Type::Integer { minimum, maximum }, Value::Number(n)) => {
            format!("{n}_{}", rust::integer_type(*minimum, *maximum))
        }
        _ => rust_value(api, ty, v, uses),
    }
}

/// `ty` with aliases followed to what they name.
fn resolve<'a>(api: &'a Api, ty: &'a Type) -> &'a Type {
    match ty {
        Type::Named(n) => match api.named(n).map(|t| &t.kind) {
            Some(TypeKind::Alias(t)) => resolve(api, t),
            _ => ty,
        },
        _ => ty,
    }
}

/// `v` as a Rust expression of `ty`'s Rust type.
fn rust_value(api: &Api, ty: &Type, v: &Value, uses: &mut BTreeSet<String>) -> String {
    match (ty, v) {
        (Type::Nullable(_), Value::Null) => "None".into(),
        (Type::Nullable(t), v) => format!("Some({})", rust_value(api, t, v, uses)),
        (Type::String(_), Value::String(s)) => format!("{s:?}.to_owned()"),
        (Type::Array(t, _), Value::Array(items)) => {
            let items: Vec<String> = items.iter().map(|i| rust_value(api, t, i, uses)).collect();
            format!("vec![{}]", items.join(", "))
        }
        (Type::Map(t, _), Value::Object(entries)) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("({k:?}.to_owned(), {})", rust_value(api, t, v, uses)))
                .collect();
            format!("std::collections::BTreeMap::from([{}])", entries.join(", "))
        }
        (Type::Named(n), v) => match api.named(n).map(|t| &t.kind) {
            Some(TypeKind::Alias(t)) => rust_value(api, t, v, uses),
            Some(TypeKind::Enum(_)) => {
                uses.insert(n.clone());
                format!(
                    "{n}::{}",
                    rust::variant_ident(v.as_str().unwrap_or_default())
                )
            }
            Some(TypeKind::Struct(fields)) => {
                uses.insert(n.clone());
                let members: Vec<String> = fields
                    .iter()
                    .map(|f| {
                        let id = rust::field_ident(&f.name);
                        match (v.get(&f.name), f.required) {
                            (Some(v), true) => format!("{id}: {}", rust_value(api, &f.ty, v, uses)),
                            (Some(v), false) if matches!(f.ty, Type::Nullable(_)) => {
                                format!("{id}: {}", rust_value(api, &f.ty, v, uses))
                            }
                            (Some(v), false) => {
                                format!("{id}: Some({})", rust_value(api, &f.ty, v, uses))
                            }
                            (None, _) => format!("{id}: None"),
                        }
                    })
                    .collect();
                format!("{n} {{ {} }}", members.join(", "))
            }
            _ => raw_json(v),
        },
        (Type::Json, v) => raw_json(v),
        (_, v) => v.to_string(),
    }
}

fn raw_json(v: &Value) -> String {
    format!(
        "serde_json::value::RawValue::from_string({:?}.to_owned()).expect(\"valid JSON\")",
        v.to_string()
    )
}

fn typescript_call(m: &Method, params: &[(&Field, &Value)]) -> String {
    let name = typescript::method_name(m);
    let args = if params.is_empty() {
        String::new()
    } else {
        typescript_value(&Value::Object(wire_params(params)))
    };
    format!("const result = await client.{name}({args});\n")
}

/// JSON as a TypeScript literal: object keys that are identifiers unquoted.
fn typescript_value(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(typescript_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(entries) if entries.is_empty() => "{}".into(),
        Value::Object(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    let identifier = k
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    let key = if identifier {
                        k.clone()
                    } else {
                        json!(k).to_string()
                    };
                    format!("{key}: {}", typescript_value(v))
                })
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
        v => v.to_string(),
    }
}

fn python_call(api: &Api, m: &Method, params: &[(&Field, &Value)]) -> String {
    let mut imports = BTreeSet::new();
    let args: Vec<String> = params
        .iter()
        .map(|(f, v)| {
            format!(
                "{}={}",
                python::text::ident(&f.name),
                python_value(api, &f.ty, v, &mut imports)
            )
        })
        .collect();
    let mut code = String::new();
    if !imports.is_empty() {
        let _ = writeln!(
            code,
            "from haul_client import {}",
            imports.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let _ = writeln!(
        code,
        "result = haul.{}({})",
        python::text::ident(&m.name),
        args.join(", ")
    );
    code
}

/// `v` as a Python expression of the type the SDK's params take.
fn python_value(api: &Api, ty: &Type, v: &Value, imports: &mut BTreeSet<String>) -> String {
    match (ty, v) {
        (Type::Nullable(t), v) if !v.is_null() => python_value(api, t, v, imports),
        (Type::Array(t, _), Value::Array(items)) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| python_value(api, t, i, imports))
                .collect();
            format!("[{}]", items.join(", "))
        }
        (Type::Map(t, _), Value::Object(entries)) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", json!(k), python_value(api, t, v, imports)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        (Type::Named(n), v) => match api.named(n).map(|t| &t.kind) {
            Some(TypeKind::Alias(t)) => python_value(api, t, v, imports),
            Some(TypeKind::Enum(_)) => {
                imports.insert(n.clone());
                format!(
                    "{n}.{}",
                    python::text::enum_member(v.as_str().unwrap_or_default())
                )
            }
            Some(TypeKind::Struct(fields)) => {
                imports.insert(n.clone());
                let args: Vec<String> = fields
                    .iter()
                    .filter_map(|f| {
                        let v = v.get(&f.name)?;
                        Some(format!(
                            "{}={}",
                            python::text::ident(&f.name),
                            python_value(api, &f.ty, v, imports)
                        ))
                    })
                    .collect();
                format!("{n}({})", args.join(", "))
            }
            _ => python_json(v),
        },
        (_, v) => python_json(v),
    }
}

/// JSON as a Python literal.
fn python_json(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_json).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", json!(k), python_json(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        v => v.to_string(),
    }
}
