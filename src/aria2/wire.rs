//! aria2's JSON-RPC as aria2 reads and writes it, which is not quite
//! JSON-RPC 2.0, and clients depend on the difference:
//!
//! - the `jsonrpc` member is not looked at (aria2.js sends `"json-rpc"`,
//!   webui-aria2 the number 2), nor is the Content-Type;
//! - `id` is required and echoed with its JSON type;
//! - every error of a method is code 1 with a message, and over HTTP a
//!   single call's error comes with status 400 (500 for a parse error or
//!   params that are not an array), since AriaNg takes any 2xx for success;
//! - an answer is `{"id":…,"jsonrpc":"2.0","result":…}`, in that order.

use hyper::StatusCode;
use serde_json::{Map, Value};

/// A method call, its params positional.
#[derive(Debug)]
pub(crate) struct Call {
    pub id: Value,
    pub method: String,
    pub params: Vec<Value>,
}

/// aria2's error object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub code: i64,
    pub message: String,
}

impl Fault {
    /// A method's refusal: aria2 gives every one code 1.
    pub fn new(message: impl Into<String>) -> Fault {
        Fault {
            code: 1,
            message: message.into(),
        }
    }

    pub fn unauthorized() -> Fault {
        Fault::new("Unauthorized")
    }

    pub fn parse_error() -> Fault {
        Fault {
            code: -32700,
            message: "Parse error.".into(),
        }
    }

    pub fn invalid_request() -> Fault {
        Fault {
            code: -32600,
            message: "Invalid Request.".into(),
        }
    }

    pub fn invalid_params() -> Fault {
        Fault {
            code: -32602,
            message: "Invalid params.".into(),
        }
    }

    /// The HTTP status aria2 sends with this error as a single call's answer.
    pub fn status(&self) -> StatusCode {
        match self.code {
            -32700 | -32602 => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn to_value(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.clone().into());
        Value::Object(error)
    }
}

/// A request body: one call, or a batch of them.
pub(crate) enum Request {
    One(Result<Call, (Value, Fault)>),
    Batch(Vec<Result<Call, (Value, Fault)>>),
}

/// Reads a body as aria2 does; `Err` is the answer to a body that is not JSON.
pub(crate) fn parse(body: &[u8]) -> Result<Request, Fault> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Fault::parse_error())?;
    Ok(match value {
        Value::Array(calls) => Request::Batch(calls.into_iter().map(call).collect()),
        value => Request::One(call(value)),
    })
}

/// One call, or the id and error to answer it with.
pub(crate) fn call(value: Value) -> Result<Call, (Value, Fault)> {
    let Value::Object(mut object) = value else {
        return Err((Value::Null, Fault::invalid_request()));
    };
    let Some(id) = object.remove("id") else {
        return Err((Value::Null, Fault::invalid_request()));
    };
    let Some(Value::String(method)) = object.remove("method") else {
        return Err((id, Fault::invalid_request()));
    };
    let params = match object.remove("params") {
        None => Vec::new(),
        Some(Value::Array(params)) => params,
        Some(_) => return Err((id, Fault::invalid_params())),
    };
    Ok(Call { id, method, params })
}

/// An answer, written as aria2 writes it.
pub(crate) fn answer(id: Value, outcome: Result<Value, Fault>) -> Value {
    let mut answer = Map::new();
    answer.insert("id".into(), id);
    answer.insert("jsonrpc".into(), "2.0".into());
    match outcome {
        Ok(result) => answer.insert("result".into(), result),
        Err(fault) => answer.insert("error".into(), fault.to_value()),
    };
    Value::Object(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_needs_an_id_and_a_method_but_not_the_jsonrpc_member() {
        let ok = call(serde_json::json!({"json-rpc": "2.0", "id": [1], "method": "m"})).unwrap();
        assert_eq!((ok.id, ok.method.as_str()), (serde_json::json!([1]), "m"));
        let (id, fault) = call(serde_json::json!({"method": "m"})).unwrap_err();
        assert_eq!((id, fault.code), (Value::Null, -32600));
        let (id, fault) =
            call(serde_json::json!({"id": "x", "method": "m", "params": {}})).unwrap_err();
        assert_eq!((id, fault.code), ("x".into(), -32602));
    }
}
