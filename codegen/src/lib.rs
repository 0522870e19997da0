//! haul-codegen: turns haul's `openrpc.json` into code and docs.
//!
//! - [`model`]: parses the document into a small intermediate model
//!   ([`Api`]), strictly — a construct the emitters cannot express faithfully
//!   is an [`Error`] naming its JSON pointer.
//! - [`rust`]: emits the Rust API module that `build.rs` writes to `OUT_DIR`.
//!
//! The emitters read only the model, never the raw document, so every output
//! agrees on names, types and optionality.

pub mod model;
pub mod rust;

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
