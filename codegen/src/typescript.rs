//! The typescript emitter.

use crate::{Api, Output};

/// The generated files, by path relative to the repository root.
pub fn generate(_api: &Api) -> Vec<Output> {
    Vec::new()
}
