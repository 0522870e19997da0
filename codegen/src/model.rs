//! The intermediate model: what the emitters need to know about the document,
//! parsed strictly. A schema construct the emitters cannot express faithfully
//! is an error naming its JSON pointer, never a silently mistyped output.

use serde_json::{Map, Value};

use crate::Error;

/// The whole API as the emitters see it.
#[derive(Debug, Clone)]
pub struct Api {
    pub title: String,
    pub version: String,
    pub description: String,
    /// Methods a client calls, in document order.
    pub methods: Vec<Method>,
    /// Server→client notifications (`"x-notification": true`), in document order.
    pub notifications: Vec<Method>,
    /// `components/errors`, in document order.
    pub errors: Vec<ErrorDef>,
    /// `components/schemas` except the errors' data schemas, in document order.
    pub types: Vec<NamedType>,
}

#[derive(Debug, Clone)]
pub struct Method {
    /// The wire name, e.g. `download.add`.
    pub name: String,
    pub summary: String,
    pub description: String,
    pub params: Vec<Field>,
    /// `None` for notifications.
    pub result: Option<Field>,
    /// Names of the `components/errors` entries this method can return.
    pub errors: Vec<String>,
    /// The `examples` array as written (validated against the schemas by tests).
    pub examples: Vec<Value>,
    /// The names of its `tags`, in document order.
    pub tags: Vec<String>,
    /// Where it is in the document, e.g. `/methods/3`: methods and
    /// notifications share one array, so the model's two lists lose the index.
    pub pointer: String,
    /// `x-scope`: the least token scope a call needs (`read`, `control`,
    /// `admin`); `None` for notifications, which are sent, not called, and
    /// in contracts from before scopes, whose one token could call
    /// everything (so `admin`).
    pub scope: Option<String>,
    /// Params whose `x-scope` raises the method's scope when they have a
    /// value: (param, that value, the scope then needed).
    pub raised_scopes: Vec<(String, Value, String)>,
}

/// The token scopes, narrowest first: each may do what the ones before it may.
pub const SCOPES: [&str; 3] = ["read", "control", "admin"];

impl Method {
    /// The sentence the docs and every SDK show about the token a call
    /// needs, e.g. "Needs a `control` token (`admin` with `deleteFiles`
    /// `true`)."; empty for notifications.
    pub fn scope_sentence(&self) -> String {
        let Some(scope) = &self.scope else {
            return String::new();
        };
        let raised: Vec<String> = self
            .raised_scopes
            .iter()
            .map(|(param, when, scope)| format!("`{scope}` with `{param}` `{when}`"))
            .collect();
        match raised.is_empty() {
            true => format!("Needs a `{scope}` token."),
            false => format!("Needs a `{scope}` token ({}).", raised.join(", ")),
        }
    }
}

/// A named value: a param, a result, or an object property.
#[derive(Debug, Clone)]
pub struct Field {
    /// The wire name, e.g. `fileName`.
    pub name: String,
    pub description: String,
    pub required: bool,
    pub ty: Type,
    /// The schema's `default`, if any.
    pub default: Option<Value>,
    /// The schema as written, for documentation (constraints, formats).
    pub schema: Value,
}

#[derive(Debug, Clone)]
pub struct ErrorDef {
    /// The key in `components/errors`, e.g. `DownloadNotFound`.
    pub name: String,
    pub code: i64,
    pub message: String,
    /// From the `<name>ErrorData` schema, which every error must have.
    pub description: String,
    /// The fields of `data`; `None` when the error carries no data.
    pub data: Option<NamedType>,
    /// The example `data` value in the error object, if any.
    pub data_example: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct NamedType {
    pub name: String,
    pub description: String,
    pub kind: TypeKind,
    /// The schema as written, for documentation.
    pub schema: Value,
}

#[derive(Debug, Clone)]
pub enum TypeKind {
    /// An object with fixed properties (`additionalProperties: false`).
    Struct(Vec<Field>),
    /// A string enum.
    Enum(Vec<String>),
    /// Anything else with a name: a constrained string, a map, free-form JSON.
    Alias(Type),
    /// Any of the document's notifications, as sent (`"x-notifications":
    /// true`): every emitter already writes this union from the notification
    /// methods, so a schema of this kind only names it for references.
    Notifications,
}

/// A value's type, as far as the emitters care, with the bounds that narrow
/// it: emitters pick an integer's width from its bounds, and the contract
/// checker tells a tightened bound from a loosened one.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    String(StringRules),
    Integer {
        minimum: Option<i64>,
        maximum: Option<i64>,
    },
    Boolean,
    Array(Box<Type>, ArrayRules),
    /// An object of arbitrary keys with values of one type.
    Map(Box<Type>, MapRules),
    /// A reference to `components/schemas/<name>`.
    Named(String),
    /// The type or `null`.
    Nullable(Box<Type>),
    /// Free-form JSON, passed through as written.
    Json,
}

impl Type {
    /// The type in words, as the docs and the contract checker name it
    /// (`array of DownloadState or null`), `named` spelling each reference.
    pub fn describe(&self, named: &dyn Fn(&str) -> String) -> String {
        match self {
            Type::String(_) => "string".into(),
            Type::Integer { .. } => "integer".into(),
            Type::Boolean => "boolean".into(),
            Type::Array(t, _) => format!("array of {}", t.describe(named)),
            Type::Map(t, _) => format!("object of {}", t.describe(named)),
            Type::Named(n) => named(n),
            Type::Nullable(t) => format!("{} or null", t.describe(named)),
            Type::Json => "object".into(),
        }
    }
}

/// What a string must be besides a string (`minLength`, `maxLength`,
/// `pattern`, `format`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringRules {
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    pub format: Option<String>,
}

/// What an array must be besides a list of its items (`minItems`,
/// `maxItems`, `uniqueItems`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArrayRules {
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique: bool,
}

/// What a map's keys must be (`propertyNames`, only as `{"pattern": …}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapRules {
    pub key_pattern: Option<String>,
}

const SCHEMA_PREFIX: &str = "#/components/schemas/";
/// What every emitter calls the union of the notifications.
pub const NOTIFICATION_UNION: &str = "Notification";
const ERROR_PREFIX: &str = "#/components/errors/";
/// Keywords that only document or constrain a value without changing its type.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "examples",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "uniqueItems",
    "minItems",
    "maxItems",
    "propertyNames",
];

impl Api {
    /// Parses an OpenRPC document.
    pub fn parse_str(text: &str) -> Result<Api, Error> {
        let doc: Value = serde_json::from_str(text).map_err(|e| Error::new("", e.to_string()))?;
        Api::parse(&doc)
    }

    pub fn parse(doc: &Value) -> Result<Api, Error> {
        let schemas = obj(doc, "", "/components/schemas")?;
        let mut types = Vec::new();
        for (name, schema) in schemas {
            if !name.ends_with("ErrorData") {
                types.push(named_type(
                    name,
                    schema,
                    &format!("/components/schemas/{name}"),
                )?);
            }
        }
        let mut errors = Vec::new();
        for (name, error) in obj(doc, "", "/components/errors")? {
            errors.push(error_def(name, error, schemas)?);
        }
        let (mut methods, mut notifications) = (Vec::new(), Vec::new());
        for (i, m) in arr(doc, "", "/methods")?.iter().enumerate() {
            let ptr = format!("/methods/{i}");
            let method = method(m, &ptr, &errors)?;
            let is_notification = m.get("x-notification") == Some(&Value::Bool(true));
            // A method without one is from a contract before scopes, when
            // the one token could call everything (see `Method::scope`).
            if is_notification && method.scope.is_some() {
                return Err(Error::new(
                    &ptr,
                    "a notification is sent, not called: it has no x-scope",
                ));
            }
            match (is_notification, &method.result) {
                (true, None) => notifications.push(method),
                (false, Some(_)) => methods.push(method),
                (true, Some(_)) => {
                    return Err(Error::new(&ptr, "a notification must not have a result"))
                }
                (false, None) => {
                    return Err(Error::new(
                        &ptr,
                        "a method without a result must be marked \"x-notification\": true",
                    ))
                }
            }
        }
        let api = Api {
            title: string(doc, "", "/info/title")?,
            version: string(doc, "", "/info/version")?,
            description: string(doc, "", "/info/description")?,
            methods,
            notifications,
            errors,
            types,
        };
        api.check_references()?;
        Ok(api)
    }

    pub fn named(&self, name: &str) -> Option<&NamedType> {
        self.types.iter().find(|t| t.name == name)
    }

    /// The errors every method can return: the emitters document them once,
    /// on the error-code type, rather than on each method.
    pub fn shared_errors(&self) -> impl Iterator<Item = &ErrorDef> {
        self.errors
            .iter()
            .filter(|e| self.methods.iter().all(|m| m.errors.contains(&e.name)))
    }

    /// The errors `m` returns besides the shared ones, in document order.
    pub fn own_errors<'a>(&'a self, m: &'a Method) -> impl Iterator<Item = &'a ErrorDef> {
        self.errors.iter().filter(|e| {
            m.errors.contains(&e.name) && !self.methods.iter().all(|o| o.errors.contains(&e.name))
        })
    }

    /// The JSON Schema (draft-07) of `m`'s params object, as the server
    /// checks a call against it: the params by name, the required ones
    /// required, no others. The `components/schemas` its `$ref`s reach
    /// (directly or through one another) come along under the same pointer,
    /// so `#/components/schemas/<name>` resolves inside it.
    pub fn params_schema(&self, m: &Method) -> Value {
        let properties: Map<String, Value> = m
            .params
            .iter()
            .map(|p| (p.name.clone(), p.schema.clone()))
            .collect();
        let required: Vec<&str> = m
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name.as_str())
            .collect();
        let mut reached = Vec::new();
        let mut pending: Vec<&Value> = m.params.iter().map(|p| &p.schema).collect();
        while let Some(schema) = pending.pop() {
            for name in references(schema) {
                if !reached.contains(&name) {
                    match self.named(&name) {
                        Some(t) => pending.push(&t.schema),
                        None => panic!("method {}: check_references missed `{name}`", m.name),
                    }
                    reached.push(name);
                }
            }
        }
        // In document order, whatever order they were reached in.
        let schemas: Map<String, Value> = self
            .types
            .iter()
            .filter(|t| reached.contains(&t.name))
            .map(|t| (t.name.clone(), t.schema.clone()))
            .collect();
        serde_json::json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
            "components": { "schemas": schemas },
        })
    }

    /// Every `Named` type must resolve to a schema the model knows.
    fn check_references(&self) -> Result<(), Error> {
        fn walk(api: &Api, ty: &Type, ptr: &str) -> Result<(), Error> {
            match ty {
                Type::Named(n) if api.named(n).is_none() => Err(Error::new(
                    ptr,
                    format!("reference to unknown schema `{n}`"),
                )),
                Type::Array(t, _) | Type::Map(t, _) | Type::Nullable(t) => walk(api, t, ptr),
                _ => Ok(()),
            }
        }
        let fields = self.types.iter().flat_map(|t| match &t.kind {
            TypeKind::Struct(fields) => fields.iter().map(|f| (&f.ty, t.name.as_str())).collect(),
            TypeKind::Alias(ty) => vec![(ty, t.name.as_str())],
            TypeKind::Enum(_) | TypeKind::Notifications => vec![],
        });
        for (ty, owner) in fields {
            walk(self, ty, &format!("/components/schemas/{owner}"))?;
        }
        for m in self.methods.iter().chain(&self.notifications) {
            for f in m.params.iter().chain(&m.result) {
                walk(self, &f.ty, &format!("method {}", m.name))?;
            }
        }
        Ok(())
    }
}

/// The names of the `components/schemas` that `schema` references, anywhere in it.
fn references(schema: &Value) -> Vec<String> {
    match schema {
        Value::Object(o) => o
            .iter()
            .flat_map(|(k, v)| match (k.as_str(), v.as_str()) {
                ("$ref", Some(target)) => target
                    .strip_prefix(SCHEMA_PREFIX)
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
                _ => references(v),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(references).collect(),
        _ => Vec::new(),
    }
}

fn method(m: &Value, ptr: &str, errors: &[ErrorDef]) -> Result<Method, Error> {
    if m.get("paramStructure").and_then(Value::as_str) != Some("by-name") {
        return Err(Error::new(
            ptr,
            "every method must declare \"paramStructure\": \"by-name\"",
        ));
    }
    let params = arr(m, ptr, "/params")?
        .iter()
        .enumerate()
        .map(|(i, p)| content_descriptor(p, &format!("{ptr}/params/{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let result = match m.get("result") {
        Some(r) => Some(content_descriptor(r, &format!("{ptr}/result"))?),
        None => None,
    };
    let mut error_names = Vec::new();
    for (i, e) in m
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let eptr = format!("{ptr}/errors/{i}");
        let target = e
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix(ERROR_PREFIX));
        match target {
            Some(name) if errors.iter().any(|d| d.name == name) => {
                error_names.push(name.to_owned())
            }
            _ => {
                return Err(Error::new(
                    &eptr,
                    "errors must be references to #/components/errors/<name>",
                ))
            }
        }
    }
    let examples = arr(m, ptr, "/examples")?.clone();
    if examples.is_empty() {
        return Err(Error::new(
            &format!("{ptr}/examples"),
            "every method needs at least one example",
        ));
    }
    let tags = m
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, t)| string(t, &format!("{ptr}/tags/{i}"), "/name"))
        .collect::<Result<Vec<_>, _>>()?;
    let scope = match m.get("x-scope") {
        None => None,
        Some(scope) => Some(scope_name(scope, &format!("{ptr}/x-scope"))?),
    };
    let mut raised_scopes = Vec::new();
    for (i, p) in arr(m, ptr, "/params")?.iter().enumerate() {
        let Some(raise) = p.get("x-scope") else {
            continue;
        };
        let pptr = format!("{ptr}/params/{i}/x-scope");
        let when = raise.get("when").cloned().ok_or_else(|| {
            Error::new(
                &pptr,
                "a param's x-scope needs `when`: the value that raises it",
            )
        })?;
        let raised = scope_name(
            raise.get("scope").unwrap_or(&Value::Null),
            &format!("{pptr}/scope"),
        )?;
        raised_scopes.push((params[i].name.clone(), when, raised));
    }
    Ok(Method {
        scope,
        raised_scopes,
        name: string(m, ptr, "/name")?,
        summary: string(m, ptr, "/summary")?,
        description: string(m, ptr, "/description")?,
        params,
        result,
        errors: error_names,
        examples,
        tags,
        pointer: ptr.to_owned(),
    })
}

fn scope_name(scope: &Value, ptr: &str) -> Result<String, Error> {
    match scope.as_str() {
        Some(name) if SCOPES.contains(&name) => Ok(name.to_owned()),
        _ => Err(Error::new(
            ptr,
            format!("a scope is one of {}", SCOPES.join(", ")),
        )),
    }
}

fn content_descriptor(d: &Value, ptr: &str) -> Result<Field, Error> {
    let schema = d
        .get("schema")
        .ok_or_else(|| Error::new(ptr, "missing `schema`"))?;
    Ok(Field {
        name: string(d, ptr, "/name")?,
        description: string(d, ptr, "/description")?,
        required: d.get("required").and_then(Value::as_bool).unwrap_or(false),
        ty: type_of(schema, &format!("{ptr}/schema"))?,
        default: schema.get("default").cloned(),
        schema: schema.clone(),
    })
}

fn error_def(name: &str, e: &Value, schemas: &Map<String, Value>) -> Result<ErrorDef, Error> {
    let ptr = format!("/components/errors/{name}");
    let data_name = format!("{name}ErrorData");
    let data_schema = schemas.get(&data_name).ok_or_else(|| {
        Error::new(&ptr, format!("every error needs a schema #/components/schemas/{data_name} describing it and its data"))
    })?;
    let data_ptr = format!("/components/schemas/{data_name}");
    let description = string(data_schema, &data_ptr, "/description")?;
    let data = match data_schema.get("type").and_then(Value::as_str) {
        Some("null") => None,
        _ => Some(named_type(&data_name, data_schema, &data_ptr)?),
    };
    let code = e
        .get("code")
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::new(&ptr, "missing integer `code`"))?;
    Ok(ErrorDef {
        name: name.to_owned(),
        code,
        message: string(e, &ptr, "/message")?,
        description,
        data,
        data_example: e.get("data").cloned(),
    })
}

fn named_type(name: &str, schema: &Value, ptr: &str) -> Result<NamedType, Error> {
    let description = string(schema, ptr, "/description")?;
    let kind = if schema.get("x-notifications") == Some(&Value::Bool(true)) {
        if name != NOTIFICATION_UNION {
            return Err(Error::new(
                ptr,
                format!("the union of the notifications must be named `{NOTIFICATION_UNION}`"),
            ));
        }
        TypeKind::Notifications
    } else if let Some(values) = schema.get("enum") {
        if schema.get("type").and_then(Value::as_str) != Some("string") {
            return Err(Error::new(ptr, "only string enums are supported"));
        }
        let values = values
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    Error::new(&format!("{ptr}/enum"), "enum values must be strings")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        TypeKind::Enum(values)
    } else if schema.get("properties").is_some() {
        TypeKind::Struct(properties(schema, ptr)?)
    } else {
        TypeKind::Alias(type_of(schema, ptr)?)
    };
    Ok(NamedType {
        name: name.to_owned(),
        description,
        kind,
        schema: schema.clone(),
    })
}

fn properties(schema: &Value, ptr: &str) -> Result<Vec<Field>, Error> {
    check_keywords(
        schema,
        ptr,
        &["type", "properties", "required", "additionalProperties"],
    )?;
    if schema.get("additionalProperties") != Some(&Value::Bool(false)) {
        return Err(Error::new(
            ptr,
            "objects with properties must set \"additionalProperties\": false",
        ));
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let props = obj(schema, ptr, "/properties")?;
    if let Some(missing) = required.iter().find(|r| !props.contains_key(**r)) {
        return Err(Error::new(
            &format!("{ptr}/required"),
            format!("`{missing}` is required but not a property"),
        ));
    }
    props
        .iter()
        .map(|(name, s)| {
            let fptr = format!("{ptr}/properties/{name}");
            Ok(Field {
                name: name.clone(),
                description: string(s, &fptr, "/description")?,
                required: required.contains(&name.as_str()),
                ty: type_of(s, &fptr)?,
                default: s.get("default").cloned(),
                schema: s.clone(),
            })
        })
        .collect()
}

/// The type of an anonymous schema (a param, a property, an alias).
fn type_of(schema: &Value, ptr: &str) -> Result<Type, Error> {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        check_keywords(schema, ptr, &["$ref"])?;
        return match target.strip_prefix(SCHEMA_PREFIX) {
            Some(name) => Ok(Type::Named(name.to_owned())),
            None => Err(Error::new(
                ptr,
                format!("unsupported reference `{target}`: only #/components/schemas/<name>"),
            )),
        };
    }
    if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
        check_keywords(schema, ptr, &["oneOf"])?;
        let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
        return match variants.as_slice() {
            [a, b] if is_null(b) => Ok(Type::Nullable(Box::new(type_of(
                a,
                &format!("{ptr}/oneOf/0"),
            )?))),
            _ => Err(Error::new(
                ptr,
                "oneOf is only supported as [<schema>, {\"type\": \"null\"}]",
            )),
        };
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => {
            return match ts.as_slice() {
                [Value::String(t), Value::String(null)] if null == "null" => {
                    let mut inner = schema.clone();
                    inner["type"] = Value::String(t.clone());
                    Ok(Type::Nullable(Box::new(type_of(&inner, ptr)?)))
                }
                _ => Err(Error::new(
                    ptr,
                    "a type list is only supported as [\"<type>\", \"null\"]",
                )),
            };
        }
        _ => {
            return Err(Error::new(
                ptr,
                "a schema needs a `type`, a `$ref` or a nullable `oneOf`",
            ))
        }
    };
    match ty {
        "string" | "boolean" => {
            if schema.get("enum").is_some() {
                return Err(Error::new(
                    ptr,
                    "inline enums are not supported: move the enum to components/schemas",
                ));
            }
            check_keywords(schema, ptr, &["type"])?;
            Ok(if ty == "string" {
                Type::String(StringRules {
                    min_length: count(schema, ptr, "minLength")?,
                    max_length: count(schema, ptr, "maxLength")?,
                    pattern: text(schema, ptr, "pattern")?,
                    format: text(schema, ptr, "format")?,
                })
            } else {
                Type::Boolean
            })
        }
        "integer" => {
            check_keywords(schema, ptr, &["type"])?;
            let bound = |k: &str| match schema.get(k) {
                None => Ok(None),
                Some(v) => v
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| Error::new(&format!("{ptr}/{k}"), "bounds must be integers")),
            };
            Ok(Type::Integer {
                minimum: bound("minimum")?,
                maximum: bound("maximum")?,
            })
        }
        "array" => {
            check_keywords(schema, ptr, &["type", "items"])?;
            let items = schema
                .get("items")
                .ok_or_else(|| Error::new(ptr, "arrays need `items`"))?;
            let unique = match schema.get("uniqueItems") {
                None => false,
                Some(v) => v.as_bool().ok_or_else(|| {
                    Error::new(&format!("{ptr}/uniqueItems"), "must be a boolean")
                })?,
            };
            Ok(Type::Array(
                Box::new(type_of(items, &format!("{ptr}/items"))?),
                ArrayRules {
                    min_items: count(schema, ptr, "minItems")?,
                    max_items: count(schema, ptr, "maxItems")?,
                    unique,
                },
            ))
        }
        "object" => {
            if schema.get("properties").is_some() {
                return Err(Error::new(ptr, "an object with properties must be named: move it to components/schemas and use $ref"));
            }
            check_keywords(schema, ptr, &["type", "additionalProperties"])?;
            match schema.get("additionalProperties") {
                Some(Value::Bool(true)) => Ok(Type::Json),
                Some(values @ Value::Object(_)) => Ok(Type::Map(
                    Box::new(type_of(values, &format!("{ptr}/additionalProperties"))?),
                    map_rules(schema, ptr)?,
                )),
                _ => Err(Error::new(
                    ptr,
                    "an anonymous object needs `additionalProperties`: a schema for a map, or true for free-form JSON",
                )),
            }
        }
        other => Err(Error::new(ptr, format!("unsupported type `{other}`"))),
    }
}

/// A map's key rules. Only a pattern is read, so anything else in
/// `propertyNames` is refused rather than ignored.
fn map_rules(schema: &Value, ptr: &str) -> Result<MapRules, Error> {
    let Some(names) = schema.get("propertyNames") else {
        return Ok(MapRules::default());
    };
    let names_ptr = format!("{ptr}/propertyNames");
    match names.as_object() {
        Some(o) if o.keys().all(|k| k == "pattern") => Ok(MapRules {
            key_pattern: text(names, &names_ptr, "pattern")?,
        }),
        _ => Err(Error::new(
            &names_ptr,
            "propertyNames is only supported as {\"pattern\": \"…\"}",
        )),
    }
}

/// A non-negative integer keyword (`maxLength`, `minItems`…), if present.
fn count(schema: &Value, ptr: &str, key: &str) -> Result<Option<u64>, Error> {
    schema
        .get(key)
        .map(|v| {
            v.as_u64().ok_or_else(|| {
                Error::new(&format!("{ptr}/{key}"), "must be a non-negative integer")
            })
        })
        .transpose()
}

/// A string keyword (`pattern`, `format`), if present.
fn text(schema: &Value, ptr: &str, key: &str) -> Result<Option<String>, Error> {
    schema
        .get(key)
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| Error::new(&format!("{ptr}/{key}"), "must be a string"))
        })
        .transpose()
}

/// Refuses keywords that would change the meaning of a schema in a way the
/// emitters ignore, so nothing is silently mistyped.
fn check_keywords(schema: &Value, ptr: &str, allowed: &[&str]) -> Result<(), Error> {
    let unknown = schema
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .find(|k| !allowed.contains(&k.as_str()) && !ANNOTATIONS.contains(&k.as_str()));
    match unknown {
        Some(k) => Err(Error::new(ptr, format!("unsupported schema keyword `{k}`"))),
        None => Ok(()),
    }
}

/// `v` is the value at pointer `base`; `key` is a pointer below it.
fn string(v: &Value, base: &str, key: &str) -> Result<String, Error> {
    v.pointer(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::new(&format!("{base}{key}"), "missing string"))
}

fn obj<'a>(v: &'a Value, base: &str, key: &str) -> Result<&'a Map<String, Value>, Error> {
    v.pointer(key)
        .and_then(Value::as_object)
        .ok_or_else(|| Error::new(&format!("{base}{key}"), "missing object"))
}

fn arr<'a>(v: &'a Value, base: &str, key: &str) -> Result<&'a Vec<Value>, Error> {
    v.pointer(key)
        .and_then(Value::as_array)
        .ok_or_else(|| Error::new(&format!("{base}{key}"), "missing array"))
}

/// A wire name as a type-name prefix: `download.setSpeedLimit` → `DownloadSetSpeedLimit`.
pub fn pascal(wire: &str) -> String {
    heck::ToUpperCamelCase::to_upper_camel_case(wire)
}
