//! The Rust emitter: serde types, the `DaemonApiServer` trait with its
//! jsonrpsee registration, the typed `Client` methods, the `Notification`
//! enum, the `ErrorCode` enum with its constructors, method-name constants,
//! each method's params schema and the document itself.
//!
//! The output is `include!`d into `haul::api`, so it names the crate's own
//! runtime (`crate::client::Client`) and must not contain inner attributes.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::model::{pascal, Api, ErrorDef, Field, Method, NamedType, Type, TypeKind};

/// Pretty-printed Rust source for the whole API.
pub fn generate(api: &Api) -> String {
    let tokens = tokens(api);
    let file: syn::File = match syn::parse2(tokens) {
        Ok(file) => file,
        Err(e) => panic!("haul-codegen emitted invalid Rust: {e}"),
    };
    format!(
        "// generated from openrpc.json by haul-codegen — do not edit\n\n{}",
        prettyplease::unparse(&file)
    )
}

fn tokens(api: &Api) -> TokenStream {
    let types = api.types.iter().map(|t| named_type(api, t, Role::Shared));
    let error_data = api
        .errors
        .iter()
        .filter_map(|e| e.data.as_ref())
        .map(|t| named_type(api, t, Role::Shared));
    let params = api
        .methods
        .iter()
        .filter(|m| !m.params.is_empty())
        .map(|m| params_struct(api, m, Role::Params));
    let events = api
        .notifications
        .iter()
        .map(|m| params_struct(api, m, Role::Event));
    let names = method_names(api);
    let method_params = method_params(api);
    let errors = error_code(api);
    let trait_ = daemon_trait(api);
    let client = client_methods(api);
    let notification = notification_enum(api);
    let version = &api.version;
    quote! {
        use std::collections::BTreeMap;
        use std::fmt;

        use serde::{Deserialize, Serialize};

        /// The OpenRPC document this module was generated from, as shipped.
        pub const OPENRPC_JSON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/openrpc.json"));

        /// The version of the API contract this crate speaks, the document's
        /// `info.version` (the crate's own version is the daemon's).
        pub const API_VERSION: &str = #version;

        #names
        #method_params
        #(#types)*
        #(#error_data)*
        #(#params)*
        #(#events)*
        #notification
        #errors
        #trait_
        #client

        /// A string that is not one of an enum's values.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct UnknownValue {
            /// The enum's name.
            pub type_name: &'static str,
            /// The value that did not match.
            pub value: String,
            /// The values that would have.
            pub expected: &'static [&'static str],
        }

        impl fmt::Display for UnknownValue {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "unknown {} `{}`: expected one of {}", self.type_name, self.value, self.expected.join(", "))
            }
        }

        impl std::error::Error for UnknownValue {}
    }
}

/// Whether a struct is decoded from untrusted input (params: strict) or
/// read by clients that must tolerate newer servers (everything else).
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Params,
    Event,
    Shared,
}

fn method_names(api: &Api) -> TokenStream {
    let consts = |ms: &[Method]| -> (Vec<TokenStream>, Vec<Ident>) {
        ms.iter()
            .map(|m| {
                let id = format_ident!("{}", m.name.to_shouty_snake_case());
                let (name, summary) = (&m.name, doc(&m.summary));
                (quote! { #summary pub const #id: &str = #name; }, id)
            })
            .unzip()
    };
    let (methods, method_ids) = consts(&api.methods);
    let (notifications, notification_ids) = consts(&api.notifications);
    let scopes = api.methods.iter().map(|m| {
        let id = format_ident!("{}", m.name.to_shouty_snake_case());
        let scope = m.scope.as_deref().unwrap_or("admin");
        quote! { (#id, #scope) }
    });
    let raised = api.methods.iter().flat_map(|m| {
        let id = format_ident!("{}", m.name.to_shouty_snake_case());
        m.raised_scopes.iter().map(move |(param, when, scope)| {
            let when = when.to_string();
            quote! { (#id, #param, #when, #scope) }
        })
    });
    quote! {
        /// Method names, as sent on the wire.
        pub mod method {
            #(#methods)*
            /// Every method a client can call, in document order.
            pub const ALL: &[&str] = &[#(#method_ids),*];
            /// The least token scope each method needs (its `x-scope`).
            pub const SCOPES: &[(&str, &str)] = &[#(#scopes),*];
            /// Params that raise their method's scope (their `x-scope`):
            /// (method, param, the value that raises it as JSON, the scope then needed).
            pub const RAISED_SCOPES: &[(&str, &str, &str, &str)] = &[#(#raised),*];
        }
        /// Notification names, as sent on the wire.
        pub mod notification {
            #(#notifications)*
            /// Every notification the daemon sends, in document order.
            pub const ALL: &[&str] = &[#(#notification_ids),*];
        }
    }
}

fn named_type(api: &Api, t: &NamedType, role: Role) -> TokenStream {
    let name = format_ident!("{}", t.name);
    let doc_text = &t.description;
    match &t.kind {
        TypeKind::Alias(ty) => {
            let ty = rust_type(ty);
            let doc = doc(doc_text);
            quote! { #doc pub type #name = #ty; }
        }
        TypeKind::Enum(values) => enum_type(&name, doc_text, values),
        TypeKind::Struct(fields) => struct_type(api, &name, doc_text, fields, role),
        // The `Notification` enum, written from the notification methods.
        TypeKind::Notifications => TokenStream::new(),
    }
}

fn enum_type(name: &Ident, text: &str, values: &[String]) -> TokenStream {
    let variants: Vec<Ident> = values.iter().map(|v| variant_ident(v)).collect();
    let variant_docs = values.iter().map(|v| doc(&format!("`{v}`")));
    let (doc, count) = (doc(text), lit(values.len()));
    let type_name = name.to_string().to_snake_case().replace('_', " ");
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum #name {
            #( #[serde(rename = #values)] #variant_docs #variants, )*
        }

        impl #name {
            /// Every value, in document order.
            pub const ALL: [#name; #count] = [#(#name::#variants),*];

            /// The value as sent on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { #(#name::#variants => #values,)* }
            }
        }

        impl fmt::Display for #name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for #name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    #(#values => Ok(#name::#variants),)*
                    _ => Err(UnknownValue { type_name: #type_name, value: s.to_owned(), expected: &[#(#values),*] }),
                }
            }
        }
    }
}

fn struct_type(api: &Api, name: &Ident, text: &str, fields: &[Field], role: Role) -> TokenStream {
    let mut derives = vec![quote!(Debug), quote!(Clone)];
    if fields.iter().all(|f| comparable(api, &f.ty)) {
        derives.extend([quote!(PartialEq), quote!(Eq)]);
    }
    if fields
        .iter()
        .all(|f| !f.required || defaultable(api, &f.ty))
    {
        derives.push(quote!(Default));
    }
    let strict = (role == Role::Params).then(|| quote!(#[serde(deny_unknown_fields)]));
    let members = fields.iter().map(|f| {
        let id = field_ident(&f.name);
        let ty = field_type(f);
        let wire = &f.name;
        let rename = (id != f.name).then(|| quote!(rename = #wire,));
        let optional =
            (!f.required).then(|| quote!(default, skip_serializing_if = "Option::is_none",));
        let serde =
            (rename.is_some() || optional.is_some()).then(|| quote!(#[serde(#rename #optional)]));
        let doc = doc(&f.description);
        quote! { #doc #serde pub #id: #ty, }
    });
    let constructor = (role == Role::Params).then(|| {
        let (required, optional): (Vec<&Field>, Vec<&Field>) =
            fields.iter().partition(|f| f.required);
        let args = required.iter().map(|f| {
            let (id, ty) = (field_ident(&f.name), field_type(f));
            quote!(#id: impl Into<#ty>)
        });
        let set = required.iter().map(|f| {
            let id = field_ident(&f.name);
            quote!(#id: #id.into())
        });
        let unset = optional.iter().map(|f| field_ident(&f.name));
        quote! {
            impl #name {
                /// The params with every required field given and every optional one left out.
                pub fn new(#(#args),*) -> Self {
                    #name { #(#set,)* #(#unset: None,)* }
                }
            }
        }
    });
    let doc = doc(text);
    quote! {
        #doc
        #[derive(#(#derives),*, Serialize, Deserialize)]
        #strict
        pub struct #name { #(#members)* }
        #constructor
    }
}

/// The params of a method (`DownloadAddParams`), or a notification's payload
/// (`DownloadProgressEvent`), as a struct of its param list.
fn params_struct(api: &Api, m: &Method, role: Role) -> TokenStream {
    let (suffix, doc) = match role {
        Role::Params => (
            "Params",
            format!("The params of `{}`: {}", m.name, m.summary.to_lowercase()),
        ),
        _ => (
            "Event",
            format!(
                "The payload of the `{}` notification: {}\n\n{}",
                m.name,
                m.summary.to_lowercase(),
                m.description
            ),
        ),
    };
    let name = format_ident!("{}{}", pascal(&m.name), suffix);
    struct_type(api, &name, &doc, &m.params, role)
}

fn notification_enum(api: &Api) -> TokenStream {
    let variants = api.notifications.iter().map(|m| {
        let (variant, payload) = (
            format_ident!("{}", pascal(&m.name)),
            format_ident!("{}Event", pascal(&m.name)),
        );
        let (wire, doc) = (&m.name, doc(&m.description));
        quote! { #[serde(rename = #wire)] #doc #variant(#payload), }
    });
    let arms = api.notifications.iter().map(|m| {
        let (variant, wire) = (format_ident!("{}", pascal(&m.name)), &m.name);
        quote! { Notification::#variant(_) => #wire, }
    });
    quote! {
        /// A notification pushed by the daemon to every authenticated WebSocket
        /// connection. Serialises as `{"method": …, "params": {…}}`, the
        /// JSON-RPC notification without its `"jsonrpc": "2.0"` member.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "method", content = "params")]
        pub enum Notification { #(#variants)* }

        impl Notification {
            /// The notification's method name.
            pub const fn method(&self) -> &'static str {
                match self { #(#arms)* }
            }
        }
    }
}

fn error_code(api: &Api) -> TokenStream {
    let variants: Vec<Ident> = api
        .errors
        .iter()
        .map(|e| format_ident!("{}", e.name))
        .collect();
    let docs = api
        .errors
        .iter()
        .map(|e| doc(&format!("`{}` {}: {}", e.code, e.message, e.description)));
    let codes: Vec<proc_macro2::Literal> = api
        .errors
        .iter()
        .map(|e| proc_macro2::Literal::i32_unsuffixed(error_code_value(e)))
        .collect();
    let messages: Vec<&String> = api.errors.iter().map(|e| &e.message).collect();
    let count = lit(variants.len());
    let constructors = api.errors.iter().filter_map(error_constructor);
    let shared: Vec<String> = api
        .shared_errors()
        .map(|e| format!("[`ErrorCode::{}`]", e.name))
        .collect();
    let doc = doc(&format!(
        "The API's error codes (`components/errors`).\n\nEvery method can return {}; each method's docs name the others it returns.",
        shared.join(", ")
    ));
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { #( #docs #variants, )* }

        impl ErrorCode {
            /// Every error code, in document order.
            pub const ALL: [ErrorCode; #count] = [#(ErrorCode::#variants),*];

            /// The numeric code sent on the wire.
            pub const fn code(self) -> i32 {
                match self { #(ErrorCode::#variants => #codes,)* }
            }

            /// The stable message sent with this code.
            pub const fn message(self) -> &'static str {
                match self { #(ErrorCode::#variants => #messages,)* }
            }

            /// The error code with this number, if the API defines one.
            pub const fn from_code(code: i32) -> Option<ErrorCode> {
                match code { #(#codes => Some(ErrorCode::#variants),)* _ => None }
            }

            /// An error object with this code, its message and no data.
            pub fn into_error_object(self) -> jsonrpsee::types::ErrorObjectOwned {
                jsonrpsee::types::ErrorObject::owned(self.code(), self.message(), None::<()>)
            }
        }

        /// Error objects with their typed `data`, one constructor per error that carries data.
        pub mod errors {
            use super::*;
            #(#constructors)*
        }
    }
}

fn error_code_value(e: &ErrorDef) -> i32 {
    match i32::try_from(e.code) {
        Ok(code) => code,
        Err(_) => panic!(
            "/components/errors/{}: code {} does not fit in i32",
            e.name, e.code
        ),
    }
}

/// A typed constructor for an error whose data is an object; errors with
/// other data (the transport's, which jsonrpsee builds) get none.
fn error_constructor(e: &ErrorDef) -> Option<TokenStream> {
    let data = e.data.as_ref()?;
    let TypeKind::Struct(fields) = &data.kind else {
        return None;
    };
    let fn_name = format_ident!("{}", e.name.to_snake_case());
    let data_ty = format_ident!("{}", data.name);
    let args = fields.iter().map(|f| {
        let (id, ty) = (field_ident(&f.name), field_type(f));
        quote!(#id: #ty)
    });
    let ids = fields.iter().map(|f| field_ident(&f.name));
    let variant = format_ident!("{}", e.name);
    let doc = doc(&format!("`{}` {}: {}", e.code, e.message, e.description));
    Some(quote! {
        #doc
        pub fn #fn_name(#(#args),*) -> jsonrpsee::types::ErrorObjectOwned {
            let code = ErrorCode::#variant;
            jsonrpsee::types::ErrorObject::owned(code.code(), code.message(), Some(#data_ty { #(#ids),* }))
        }
    })
}

/// What the server checks a call's params against, per method: the
/// document read once, here, rather than again at run time.
fn method_params(api: &Api) -> TokenStream {
    let entries = api.methods.iter().map(|m| {
        let constant = format_ident!("{}", m.name.to_shouty_snake_case());
        let schema = api.params_schema(m).to_string();
        let schema = raw_str(&schema);
        let (required, optional): (Vec<&Field>, Vec<&Field>) =
            m.params.iter().partition(|p| p.required);
        let (required, optional) = (
            required.iter().map(|p| &p.name),
            optional.iter().map(|p| &p.name),
        );
        quote! {
            MethodParams {
                name: method::#constant,
                schema: #schema,
                required: &[#(#required),*],
                optional: &[#(#optional),*],
            },
        }
    });
    quote! {
        /// A method's params as the server checks them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct MethodParams {
            /// The method's wire name.
            pub name: &'static str,
            /// The params object's JSON Schema (draft-07), with the
            /// `components/schemas` it references, so that its
            /// `#/components/schemas/…` references resolve inside it.
            pub schema: &'static str,
            /// The params a call must give, in document order.
            pub required: &'static [&'static str],
            /// The params a call may leave out, in document order.
            pub optional: &'static [&'static str],
        }

        impl MethodParams {
            /// Whether the method takes any params at all.
            pub const fn takes_params(&self) -> bool {
                !self.required.is_empty() || !self.optional.is_empty()
            }
        }

        /// The params of every method a client can call, in document order.
        pub const METHOD_PARAMS: &[MethodParams] = &[#(#entries)*];
    }
}

/// The server side: one trait method per API method, taking the method's
/// params struct (the same one [`client_methods`] sends), and `into_rpc`,
/// which registers each under its wire name. Written out rather than left
/// to jsonrpsee's `#[rpc]` macro, which only takes params one by one.
fn daemon_trait(api: &Api) -> TokenStream {
    let methods = api.methods.iter().map(|m| {
        let fn_name = method_ident(m);
        let doc = doc(&method_doc(api, m));
        let result = rust_type(&m.result.as_ref().expect("methods have results").ty);
        let params = (!m.params.is_empty()).then(|| {
            let params = format_ident!("{}Params", pascal(&m.name));
            quote!(params: #params)
        });
        quote! {
            #doc
            fn #fn_name(&self, #params) -> impl std::future::Future<Output = jsonrpsee::core::RpcResult<#result>> + Send;
        }
    });
    let registrations = api.methods.iter().map(|m| {
        let fn_name = method_ident(m);
        let constant = format_ident!("{}", m.name.to_shouty_snake_case());
        let (params, call) = if m.params.is_empty() {
            (quote!(_), quote!(server.#fn_name().await))
        } else {
            (
                quote!(params),
                quote!(server.#fn_name(decode_params(&params)?).await),
            )
        };
        quote! {
            module
                .register_async_method(method::#constant, |#params, server, _| async move { #call })
                .unwrap_or_else(|e| panic!("{}: {e}", method::#constant));
        }
    });
    quote! {
        /// The daemon's side of the API: implement each method as an `async fn`
        /// (whose future is `Send`), then `into_rpc()`. A method takes its
        /// params struct, decoded from a params object that the daemon's
        /// params check has already held to the document.
        #[cfg(feature = "server")]
        pub trait DaemonApiServer: Sized + Send + Sync + 'static {
            #(#methods)*

            /// Every method, registered under its wire name.
            fn into_rpc(self) -> jsonrpsee::RpcModule<Self> {
                let mut module = jsonrpsee::RpcModule::new(self);
                #(#registrations)*
                module
            }
        }

        /// A method's params struct from its params, where no params and `[]`
        /// mean none (the params check has refused other positional params).
        #[cfg(feature = "server")]
        fn decode_params<P: serde::de::DeserializeOwned>(
            params: &jsonrpsee::types::Params<'_>,
        ) -> Result<P, jsonrpsee::types::ErrorObjectOwned> {
            let none = params.as_str().is_none_or(|p| {
                p.strip_prefix('[')
                    .and_then(|p| p.strip_suffix(']'))
                    .is_some_and(|p| p.trim().is_empty())
            });
            if none {
                jsonrpsee::types::Params::new(Some("{}")).parse()
            } else {
                params.parse()
            }
        }
    }
}

fn client_methods(api: &Api) -> TokenStream {
    let methods = api.methods.iter().map(|m| {
        let fn_name = method_ident(m);
        let constant = format_ident!("{}", m.name.to_shouty_snake_case());
        let doc = doc(&method_doc(api, m));
        let result = rust_type(&m.result.as_ref().expect("methods have results").ty);
        if m.params.is_empty() {
            quote! {
                #doc
                pub async fn #fn_name(&self) -> Result<#result, crate::client::ClientError> {
                    self.call::<(), _>(method::#constant, None).await
                }
            }
        } else {
            let params = format_ident!("{}Params", pascal(&m.name));
            quote! {
                #doc
                pub async fn #fn_name(&self, params: &#params) -> Result<#result, crate::client::ClientError> {
                    self.call(method::#constant, Some(params)).await
                }
            }
        }
    });
    quote! {
        /// One typed method per API method.
        impl crate::client::Client { #(#methods)* }
    }
}

/// A method's summary, description and the errors only it returns (those
/// every method can return are documented once, on [`ErrorCode`]).
fn method_doc(api: &Api, m: &Method) -> String {
    let own: Vec<String> = api
        .own_errors(m)
        .map(|e| format!("[`ErrorCode::{}`]", e.name))
        .collect();
    let errors = if own.is_empty() {
        String::new()
    } else {
        format!("\n\nErrors: {}.", own.join(", "))
    };
    format!(
        "{} (`{}`).\n\n{} {}{errors}",
        m.summary,
        m.name,
        m.description,
        m.scope_sentence()
    )
}

fn field_type(f: &Field) -> TokenStream {
    match (&f.ty, f.required) {
        (Type::Nullable(_), _) | (_, true) => rust_type(&f.ty),
        (ty, false) => {
            let ty = rust_type(ty);
            quote!(Option<#ty>)
        }
    }
}

fn rust_type(ty: &Type) -> TokenStream {
    match ty {
        Type::String(_) => quote!(String),
        Type::Boolean => quote!(bool),
        Type::Integer { minimum, maximum } => {
            let t = format_ident!("{}", integer_type(*minimum, *maximum));
            quote!(#t)
        }
        Type::Array(t, _) => {
            let t = rust_type(t);
            quote!(Vec<#t>)
        }
        Type::Map(t, _) => {
            let t = rust_type(t);
            quote!(BTreeMap<String, #t>)
        }
        Type::Named(n) => {
            let n = format_ident!("{}", n);
            quote!(#n)
        }
        Type::Nullable(t) => {
            let t = rust_type(t);
            quote!(Option<#t>)
        }
        Type::Json => quote!(Box<serde_json::value::RawValue>),
    }
}

/// An integer's Rust type, the narrowest its bounds allow of `u32`, `u64`
/// and `i64`.
pub(crate) fn integer_type(minimum: Option<i64>, maximum: Option<i64>) -> &'static str {
    match (minimum, maximum) {
        (Some(min), Some(max)) if min >= 0 && max <= i64::from(u32::MAX) => "u32",
        (Some(min), _) if min >= 0 => "u64",
        _ => "i64",
    }
}

/// An enum value's variant: `remote-changed` → `RemoteChanged`.
pub(crate) fn variant_ident(value: &str) -> Ident {
    format_ident!("{}", value.to_upper_camel_case())
}

/// A method's name on the client: `download.setUrl` → `download_set_url`.
pub(crate) fn method_ident(m: &Method) -> Ident {
    format_ident!("{}", m.name.to_snake_case())
}

/// Free-form JSON is passed through as raw bytes, which do not compare.
fn comparable(api: &Api, ty: &Type) -> bool {
    match ty {
        Type::Json => false,
        Type::Array(t, _) | Type::Map(t, _) | Type::Nullable(t) => comparable(api, t),
        Type::Named(n) => match api.named(n).map(|t| &t.kind) {
            Some(TypeKind::Alias(t)) => comparable(api, t),
            Some(TypeKind::Struct(fields)) => fields.iter().all(|f| comparable(api, &f.ty)),
            _ => true,
        },
        _ => true,
    }
}

fn defaultable(api: &Api, ty: &Type) -> bool {
    match ty {
        Type::Json => false,
        Type::Named(n) => match api.named(n).map(|t| &t.kind) {
            Some(TypeKind::Alias(t)) => defaultable(api, t),
            Some(TypeKind::Struct(fields)) => fields
                .iter()
                .all(|f| !f.required || defaultable(api, &f.ty)),
            _ => false,
        },
        _ => true,
    }
}

/// Doc attributes, one per line, so they print as `/// text`.
fn doc(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote!(#(#[doc = #lines])*)
}

/// A raw string literal (`r#"…"#`), with as many `#`s as `text` needs.
fn raw_str(text: &str) -> proc_macro2::Literal {
    let mut hashes = "#".to_owned();
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    match format!("r{hashes}\"{text}\"{hashes}").parse() {
        Ok(literal) => literal,
        Err(e) => panic!("haul-codegen emitted an invalid string literal: {e}"),
    }
}

/// An unsuffixed integer literal (`5`, not `5usize`).
fn lit(n: usize) -> proc_macro2::Literal {
    proc_macro2::Literal::usize_unsuffixed(n)
}

/// A field's Rust name: snake case, raw when it is a keyword.
pub(crate) fn field_ident(wire: &str) -> Ident {
    let snake = wire.to_snake_case();
    match syn::parse_str::<Ident>(&snake) {
        Ok(id) => id,
        Err(_) => Ident::new_raw(&snake, Span::call_site()),
    }
}
