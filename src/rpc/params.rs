//! Params validation against the document itself, and each call's scope.
//!
//! jsonrpsee's server is lenient: it hands a handler whatever params came,
//! positional arrays included, and knows nothing of ranges or patterns. This
//! middleware holds every call to the contract before it reaches a handler:
//! params by name only, no unknown fields, and every value valid against its
//! schema in `openrpc.json` — one check, compiled from the params schemas the
//! generator emits ([`crate::api::METHOD_PARAMS`]) from the same model as
//! everything else. Methods the document does not define are "method not
//! found", whatever else is registered internally.
//!
//! Before its params, a call's scope is checked: a named token's calls
//! beyond its scope (the method's `x-scope`, raised by a param's) are
//! refused with `Forbidden` and never run, in batches and notifications
//! too.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use jsonrpsee::core::middleware::{Batch, BatchEntry, BatchEntryErr, Notification, RpcServiceT};
use jsonrpsee::core::server::BatchResponseBuilder;
use jsonrpsee::types::{ErrorCode as JsonRpcCode, ErrorObjectOwned, Id, Request};
use jsonrpsee::MethodResponse;
use serde_json::{Map, Value};

use super::tokens::Scope;
use crate::api::{errors, method, METHOD_PARAMS};

/// The compiled params schema of every method in the document.
pub struct ParamsSchemas {
    methods: HashMap<&'static str, MethodSchema>,
    /// `--max-request-size`, for WebSocket calls (HTTP bodies are bounded
    /// before they are read).
    max_params_size: usize,
    /// `--max-response-size`, for the answer to a whole batch.
    max_response_size: usize,
}

struct MethodSchema {
    /// The least scope a call needs.
    scope: Scope,
    /// Params that raise it: (param, the value that raises it, the scope then).
    raised: Vec<(&'static str, Value, Scope)>,
    validator: jsonschema::Validator,
    /// Params that may be left out (and so may be given as null).
    optional: &'static [&'static str],
    takes_params: bool,
    /// Whether some param is required, so leaving them all out is an error.
    requires_some: bool,
}

impl ParamsSchemas {
    /// Compiles the schemas of the shipped document.
    pub fn new(max_params_size: usize, max_response_size: usize) -> Arc<ParamsSchemas> {
        let methods = METHOD_PARAMS
            .iter()
            .map(|method| {
                let schema: Value =
                    serde_json::from_str(method.schema).expect("a generated schema is JSON");
                // Formats stay annotations: a bad URL is the engine's "invalid
                // URL" error, which says what is wrong with it.
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft7)
                    .should_validate_formats(false)
                    .build(&schema)
                    .unwrap_or_else(|e| {
                        panic!("the params schema of {} does not compile: {e}", method.name)
                    });
                let scope_of = |name: &str| {
                    Scope::parse(name).unwrap_or_else(|| panic!("unknown scope `{name}`"))
                };
                let scope = method::SCOPES
                    .iter()
                    .find(|(name, _)| *name == method.name)
                    .map_or(Scope::Admin, |(_, scope)| scope_of(scope));
                let raised = method::RAISED_SCOPES
                    .iter()
                    .filter(|(name, ..)| *name == method.name)
                    .map(|(_, param, when, scope)| {
                        let when = serde_json::from_str(when).expect("a generated value is JSON");
                        (*param, when, scope_of(scope))
                    })
                    .collect();
                let schema = MethodSchema {
                    scope,
                    raised,
                    validator,
                    optional: method.optional,
                    takes_params: method.takes_params(),
                    requires_some: !method.required.is_empty(),
                };
                (method.name, schema)
            })
            .collect();
        Arc::new(ParamsSchemas {
            methods,
            max_params_size,
            max_response_size,
        })
    }

    /// Checks that `scope` may make the call (unknown methods pass, for
    /// [`ParamsSchemas::check`] to call them not found).
    pub fn check_scope(
        &self,
        method: &str,
        params: Option<&str>,
        scope: Scope,
    ) -> Result<(), ErrorObjectOwned> {
        let Some(schema) = self.methods.get(method) else {
            return Ok(());
        };
        let mut needed = schema.scope;
        // Parsed only when a param could raise the scope above this token's.
        if schema
            .raised
            .iter()
            .any(|(_, _, raised)| *raised > scope.max(needed))
        {
            let given: Option<Map<String, Value>> =
                params.and_then(|p| serde_json::from_str(p).ok());
            for (param, when, raised) in &schema.raised {
                if given.as_ref().and_then(|g| g.get(*param)) == Some(when) {
                    needed = needed.max(*raised);
                }
            }
        }
        match scope >= needed {
            true => Ok(()),
            false => Err(errors::forbidden(needed.into(), scope.into())),
        }
    }

    /// Checks a call's params; the error is the response to send.
    pub fn check(&self, method: &str, params: Option<&str>) -> Result<(), ErrorObjectOwned> {
        let Some(schema) = self.methods.get(method) else {
            return Err(JsonRpcCode::MethodNotFound.into());
        };
        if params.map_or(0, str::len) > self.max_params_size {
            let code = crate::api::ErrorCode::RequestTooLarge;
            let limit = format!("Exceeded max limit of {}", self.max_params_size);
            return Err(ErrorObjectOwned::owned(
                code.code(),
                code.message(),
                Some(limit),
            ));
        }
        let mut value: Value = match params {
            // Nothing to check (the most frequent calls: versions, stats).
            None if !schema.requires_some => return Ok(()),
            None => Value::Object(Map::new()),
            Some(text) => serde_json::from_str(text)
                .map_err(|e| invalid(None, format!("params are not valid JSON: {e}")))?,
        };
        match &mut value {
            // An empty list is how many clients say "no params".
            Value::Array(items) if items.is_empty() => value = Value::Object(Map::new()),
            Value::Array(_) => {
                let reason = if schema.takes_params {
                    "params must be an object: haul takes params by name"
                } else {
                    "this method takes no params"
                };
                return Err(invalid(None, reason.to_owned()));
            }
            // An optional param given as null counts as left out.
            Value::Object(fields) => {
                fields.retain(|name, v| !v.is_null() || !schema.optional.contains(&name.as_str()))
            }
            _ => return Err(invalid(None, "params must be an object".to_owned())),
        }
        // The API has no fractional numbers; JSON Schema would take 8.0 as
        // an integer, the handlers would not.
        if let Some((path, number)) = fractional(&value, String::new()) {
            let param = path.trim_start_matches('/').split('/').next();
            let reason = format!("{number} is not an integer (at {path})");
            return Err(invalid(param.map(str::to_owned), reason));
        }
        let first = schema
            .validator
            .iter_errors(&value)
            .next()
            .map(|e| describe(&e));
        first.map_or(Ok(()), Err)
    }
}

/// The first number that is not a (64-bit) integer, with its JSON pointer.
fn fractional(value: &Value, path: String) -> Option<(String, serde_json::Number)> {
    match value {
        Value::Number(n) if n.is_f64() => Some((path, n.clone())),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| fractional(v, format!("{path}/{i}"))),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(k, v)| fractional(v, format!("{path}/{k}"))),
        _ => None,
    }
}

fn invalid(param: Option<String>, reason: String) -> ErrorObjectOwned {
    errors::invalid_params(param, reason)
}

/// An invalid-params error naming the param at fault and why, as a phrase.
fn describe(error: &jsonschema::ValidationError) -> ErrorObjectOwned {
    use jsonschema::error::ValidationErrorKind as Kind;
    match &error.kind {
        Kind::AdditionalProperties { unexpected } => {
            let name = unexpected.first().cloned().unwrap_or_default();
            invalid(Some(name.clone()), format!("unknown param `{name}`"))
        }
        Kind::Required { property } => {
            let name = property.as_str().unwrap_or_default().to_owned();
            invalid(
                Some(name.clone()),
                format!("missing required param `{name}`"),
            )
        }
        _ => {
            let path = error.instance_path.to_string();
            let param = path
                .trim_start_matches('/')
                .split('/')
                .next()
                .filter(|p| !p.is_empty())
                .map(str::to_owned);
            let at = if path.matches('/').count() > 1 {
                format!(" (at {path})")
            } else {
                String::new()
            };
            invalid(param, format!("{error}{at}"))
        }
    }
}

/// Marks a call made as part of a batch: its answer goes into the batch's,
/// so a WebSocket's `events.*` calls cannot be answered in line (`push`).
#[derive(Debug, Clone, Copy)]
pub struct InBatch;

/// Marks a call made from a client notification (`CheckParams::as_call`):
/// whatever it answers is dropped, so a layer that answers on its own
/// (`push`, in line with a WebSocket's notifications) must send nothing.
#[derive(Debug, Clone, Copy)]
pub struct FromNotification;

/// Marks the response to a client notification, which must carry no body:
/// over HTTP it becomes `204 No Content` (jsonrpsee alone would send `null`).
#[derive(Debug, Clone, Copy)]
pub struct Unanswered;

/// The middleware: one per connection (WebSocket) or request (HTTP).
#[derive(Clone)]
pub struct CheckParams<S> {
    inner: S,
    schemas: Arc<ParamsSchemas>,
    scope: Scope,
}

/// Builds [`CheckParams`] around the RPC service, for calls made with a
/// token of `scope`.
#[derive(Clone)]
pub struct CheckParamsLayer {
    pub schemas: Arc<ParamsSchemas>,
    pub scope: Scope,
}

impl<S> tower::Layer<S> for CheckParamsLayer {
    type Service = CheckParams<S>;

    fn layer(&self, inner: S) -> CheckParams<S> {
        CheckParams {
            inner,
            schemas: self.schemas.clone(),
            scope: self.scope,
        }
    }
}

impl<S> CheckParams<S> {
    /// The scope, then the params.
    fn check(&self, method: &str, params: Option<&str>) -> Result<(), ErrorObjectOwned> {
        // The daemon's own token (most calls) may make every call.
        if self.scope < Scope::Admin {
            self.schemas.check_scope(method, params, self.scope)?;
        }
        self.schemas.check(method, params)
    }
}

impl<S> RpcServiceT for CheckParams<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let checked = self.check(
            request.method_name(),
            request.params.as_deref().map(|p| p.get()),
        );
        let inner = self.inner.clone();
        async move {
            match checked {
                Ok(()) => inner.call(request).await,
                Err(error) => MethodResponse::error(request.id, error),
            }
        }
    }

    fn batch<'a>(&self, mut batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let mut notifications = Vec::new();
        for entry in batch.iter_mut() {
            match entry {
                Ok(BatchEntry::Call(call)) => {
                    if let Err(error) =
                        self.check(call.method_name(), call.params.as_deref().map(|p| p.get()))
                    {
                        *entry = Err(BatchEntryErr::new(call.id.clone(), error));
                    }
                }
                Ok(BatchEntry::Notification(n)) => notifications.extend(self.as_call(n)),
                Err(_) => {}
            }
        }
        let inner = self.inner.clone();
        let limit = self.schemas.max_response_size;
        async move {
            // JSON-RPC lets a batch's calls run in any order, so they run
            // concurrently: a mutating call answers once its record is
            // committed, and this way the calls of a batch share a commit
            // instead of waiting for one each. Answers keep the batch's order.
            let mut got_notification = false;
            let calls = batch.into_iter().map(|entry| {
                let inner = inner.clone();
                let notification = matches!(entry, Ok(BatchEntry::Notification(_)));
                got_notification |= notification;
                async move {
                    match entry {
                        Ok(BatchEntry::Call(mut call)) => {
                            call.extensions_mut().insert(InBatch);
                            Some(inner.call(call).await)
                        }
                        // Run above as calls, answered by nothing.
                        Ok(BatchEntry::Notification(_)) => None,
                        Err(error) => {
                            let (error, id) = error.into_parts();
                            Some(MethodResponse::error(id, error))
                        }
                    }
                }
            });
            let calls: Vec<_> = calls.collect();
            let (answers, _) = futures::join!(
                futures::future::join_all(calls),
                run_all(&inner, notifications)
            );
            let mut response = BatchResponseBuilder::new_with_limit(limit);
            let mut answered = false;
            for answer in answers.into_iter().flatten() {
                answered = true;
                if let Err(too_large) = response.append(answer) {
                    return too_large;
                }
            }
            // A batch of notifications only is answered with nothing at all.
            if !answered && got_notification {
                let mut extensions = jsonrpsee::Extensions::new();
                extensions.insert(Unanswered);
                return MethodResponse::notification().with_extensions(extensions);
            }
            MethodResponse::from_batch(response.finish())
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        let call = self.as_call(&n);
        let inner = self.inner.clone();
        async move {
            run_all(&inner, call.into_iter().collect()).await;
            let mut extensions = n.extensions;
            extensions.insert(Unanswered);
            MethodResponse::notification().with_extensions(extensions)
        }
    }
}

impl<S> CheckParams<S> {
    /// A client notification is a call whose answer nobody wants: it runs
    /// like one (jsonrpsee alone would ignore it) and an invalid one is
    /// dropped, since a notification gets no reply either way.
    fn as_call(&self, n: &Notification<'_>) -> Option<Request<'static>> {
        let params = n.params().as_ref().map(|p| p.get());
        self.check(n.method_name(), params).ok()?;
        let params = params
            .map(|p| serde_json::value::RawValue::from_string(p.to_owned()))
            .transpose()
            .ok()?;
        let mut call = Request::owned(n.method_name().to_owned(), params, Id::Null);
        call.extensions_mut().insert(FromNotification);
        Some(call)
    }
}

async fn run_all<S: RpcServiceT>(inner: &S, calls: Vec<Request<'static>>) {
    futures::future::join_all(calls.into_iter().map(|call| inner.call(call))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(method: &str, params: &str) -> Result<(), String> {
        let schemas = ParamsSchemas::new(1 << 20, 1 << 20);
        schemas
            .check(method, Some(params))
            .map_err(|e| serde_json::to_string(&e).unwrap())
    }

    #[test]
    fn a_value_out_of_range_names_the_param_and_the_bound() {
        assert_eq!(
            check(
                "download.add",
                r#"{"url":"https://e.com/x","connections":65}"#
            )
            .unwrap_err(),
            r#"{"code":-32602,"message":"Invalid params","data":{"param":"connections","reason":"65 is greater than the maximum of 64"}}"#
        );
    }

    #[test]
    fn unknown_and_missing_params_are_named() {
        assert_eq!(
            check(
                "download.add",
                r#"{"url":"https://e.com/x","file_name":"x"}"#
            )
            .unwrap_err(),
            r#"{"code":-32602,"message":"Invalid params","data":{"param":"file_name","reason":"unknown param `file_name`"}}"#
        );
        assert_eq!(
            check("download.status", "{}").unwrap_err(),
            r#"{"code":-32602,"message":"Invalid params","data":{"param":"gid","reason":"missing required param `gid`"}}"#
        );
    }

    #[test]
    fn leaving_params_out_passes_only_where_none_is_required() {
        let schemas = ParamsSchemas::new(1 << 20, 1 << 20);
        assert!(schemas.check("system.getVersion", None).is_ok());
        assert!(schemas.check("download.list", None).is_ok());
        let error = schemas.check("download.status", None).unwrap_err();
        assert_eq!(
            serde_json::to_string(&error).unwrap(),
            r#"{"code":-32602,"message":"Invalid params","data":{"param":"gid","reason":"missing required param `gid`"}}"#
        );
    }

    #[test]
    fn positional_params_are_refused_but_an_empty_list_means_none() {
        assert!(check("download.status", r#"["2f1c0d9a7b3e4a51"]"#)
            .unwrap_err()
            .contains("haul takes params by name"));
        assert!(check("system.getVersion", "[]").is_ok());
        assert!(check("system.getVersion", "[1]")
            .unwrap_err()
            .contains("this method takes no params"));
    }

    #[test]
    fn optional_params_given_as_null_count_as_left_out() {
        assert!(check(
            "download.add",
            r#"{"url":"https://e.com/x","fileName":null,"connections":null}"#
        )
        .is_ok());
        assert!(check("download.status", r#"{"gid":null}"#).is_err());
    }

    #[test]
    fn unknown_params_are_refused_even_as_null_and_fractions_are_not_integers() {
        let bogus = check(
            "download.status",
            r#"{"gid":"0123456789abcdef","bogus":null}"#,
        );
        assert!(bogus.unwrap_err().contains("unknown param `bogus`"));
        let error = check(
            "download.add",
            r#"{"url":"https://e.com/x","connections":8.0}"#,
        )
        .unwrap_err();
        let expected =
            r#""param":"connections","reason":"8.0 is not an integer (at /connections)""#;
        assert!(error.contains(expected), "{error}");
        let huge = check("download.list", r#"{"offset":18446744073709551616}"#);
        assert!(huge.unwrap_err().contains("is not an integer"));
    }

    #[test]
    fn nested_values_are_checked_with_their_path() {
        let error = check("download.list", r#"{"states":["active","done"]}"#).unwrap_err();
        assert!(
            error.contains(r#""param":"states""#) && error.contains("(at /states/1)"),
            "{error}"
        );
    }

    #[test]
    fn methods_outside_the_document_are_not_found() {
        assert_eq!(
            check("haul.internal", "{}").unwrap_err(),
            r#"{"code":-32601,"message":"Method not found"}"#
        );
        assert_eq!(
            check("download.started", "{}").unwrap_err(),
            r#"{"code":-32601,"message":"Method not found"}"#
        );
    }
}
