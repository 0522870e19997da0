//! haul-codegen: turns haul's `openrpc.json` into code and docs.
//!
//! - [`model`]: parses the document into a small intermediate model
//!   ([`Api`]), strictly — a construct the emitters cannot express faithfully
//!   is an [`Error`] naming its JSON pointer.
//! - [`rust`]: emits the Rust API module that `build.rs` writes to `OUT_DIR`.
//! - [`typescript`]: emits the generated part of `clients/typescript`.
//! - [`python`]: emits the generated part of `clients/python`.
//! - [`docs`]: emits `docs/api.md`, `docs/api-changes.md` (what changed in
//!   each release) and `docs/site/`, the self-contained HTML page (both in
//!   one), the changes page and the document, ready for static hosting.
//! - [`snippets`]: each method's first example as a `curl` request and an
//!   SDK call in Rust, TypeScript and Python, for the docs, and as code the
//!   SDKs' tests build.
//! - [`diff`]: the contract checker: what changed between two documents,
//!   each change breaking, compatible or docs (`haul-codegen diff OLD NEW`).
//! - [`release`]: the released contracts (`contract/released/`) and the
//!   rules their versions follow.
//! - [`outputs`]: every checked-in generated file, by path; the
//!   `haul-codegen` binary writes them and a test fails when one is stale.
//!
//! The emitters read only the model, never the raw document, so every output
//! agrees on names, types and optionality.
//!
//! Without the `emitters` feature (on by default) only [`model`] and
//! [`rust`] are built: all that an SDK user's build of haul runs.

#[cfg(feature = "emitters")]
pub mod diff;
#[cfg(feature = "emitters")]
pub mod docs;
pub mod model;
#[cfg(feature = "emitters")]
pub mod python;
#[cfg(feature = "emitters")]
pub mod release;
pub mod rust;
#[cfg(feature = "emitters")]
pub mod snippets;
#[cfg(feature = "emitters")]
pub mod typescript;

pub use model::Api;

/// Why the document cannot be turned into code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", if pointer.is_empty() { "document" } else { pointer.as_str() })]
pub struct Error {
    /// JSON pointer into the document, e.g. `/methods/0/params/2/schema`.
    pub pointer: String,
    pub message: String,
}

impl Error {
    pub(crate) fn new(pointer: &str, message: impl Into<String>) -> Error {
        Error {
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }
}

/// One generated file checked into the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Relative to the repository root, with `/` separators.
    pub path: String,
    pub text: String,
}

/// The command that rewrites every file [`outputs`] lists.
pub const REGENERATE: &str = "cargo run -p haul-codegen";

/// Every generated file under `clients/`, `docs/` and `tests/`, in a
/// stable order, from `api` (parsed from `document`, `openrpc.json`, which
/// the docs site copies) and the released contracts, oldest first
/// ([`release::load`] of [`release::RELEASED_DIR`]), which the changes page
/// compares. (The Rust module is not listed: `build.rs` writes it to `OUT_DIR`.)
#[cfg(feature = "emitters")]
pub fn outputs(document: &str, api: &Api, released: &[release::Release]) -> Vec<Output> {
    let mut all = Vec::new();
    all.extend(typescript::generate(api));
    all.extend(python::generate(api));
    all.extend(docs::generate(document, api, released));
    all.extend(snippets::generate(api));
    all
}

/// The header every generated file starts with, as a comment in the file's
/// own syntax (`prefix` is the line-comment marker, e.g. `//` or `#`).
pub fn header(prefix: &str) -> String {
    format!("{prefix} generated from openrpc.json by haul-codegen — do not edit; regenerate with `{REGENERATE}`\n")
}
