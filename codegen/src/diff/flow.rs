//! Who sends what: every named type is an input (clients send it), an
//! output (the daemon sends it) or both, by where a document uses it.

use std::collections::HashMap;
use std::ops::BitOr;

use super::Class;
use crate::model::{Api, Type, TypeKind};

/// Who sends a value: clients (input), the daemon (output), or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Flow {
    pub(super) input: bool,
    pub(super) output: bool,
}

pub(super) const INPUT: Flow = Flow {
    input: true,
    output: false,
};
pub(super) const OUTPUT: Flow = Flow {
    input: false,
    output: true,
};
const BOTH: Flow = Flow {
    input: true,
    output: true,
};

impl BitOr for Flow {
    type Output = Flow;

    fn bitor(self, other: Flow) -> Flow {
        Flow {
            input: self.input || other.input,
            output: self.output || other.output,
        }
    }
}

/// What a change does to the set of values a schema allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shift {
    Narrower,
    Wider,
    /// Neither contains the other (another pattern, another type).
    Other,
}

impl Flow {
    /// An input must keep accepting what clients send (so it may only
    /// widen); an output must keep decoding in clients (so it may only narrow).
    pub(super) fn class(self, shift: Shift) -> Class {
        let breaks_input = self.input && shift != Shift::Wider;
        let breaks_output = self.output && shift != Shift::Narrower;
        if breaks_input || breaks_output {
            Class::Breaking
        } else {
            Class::Compatible
        }
    }
}

/// The flow of each named type, by name.
pub(super) struct Flows(HashMap<String, Flow>);

impl Flows {
    /// A type neither document uses counts as both: every SDK exports it,
    /// so clients may send it and decode it all the same.
    pub(super) fn of(&self, name: &str) -> Flow {
        self.0.get(name).copied().unwrap_or(BOTH)
    }
}

/// How `old` or `new` uses each type: deployed clients were built from the
/// old document, and the new one is what the daemon will do.
pub(super) fn of_both(old: &Api, new: &Api) -> Flows {
    let mut flows = of(old);
    // Each document is walked on its own: a type the old one already marks
    // may reach other types in the new one.
    for (name, flow) in of(new) {
        let seen = flows.entry(name).or_default();
        *seen = *seen | flow;
    }
    Flows(flows)
}

fn of(api: &Api) -> HashMap<String, Flow> {
    let mut flows = HashMap::new();
    for m in &api.methods {
        for p in &m.params {
            mark(api, &p.ty, INPUT, &mut flows);
        }
        if let Some(r) = &m.result {
            mark(api, &r.ty, OUTPUT, &mut flows);
        }
    }
    for p in api.notifications.iter().flat_map(|n| &n.params) {
        mark(api, &p.ty, OUTPUT, &mut flows);
    }
    for data in api.errors.iter().filter_map(|e| e.data.as_ref()) {
        mark_kind(api, &data.kind, OUTPUT, &mut flows);
    }
    flows
}

fn mark(api: &Api, ty: &Type, flow: Flow, flows: &mut HashMap<String, Flow>) {
    match ty {
        Type::Named(name) => {
            let seen = flows.entry(name.clone()).or_default();
            // Already known to flow this way: also what ends a cycle.
            if *seen | flow == *seen {
                return;
            }
            *seen = *seen | flow;
            if let Some(t) = api.named(name) {
                mark_kind(api, &t.kind, flow, flows);
            }
        }
        Type::Array(t, _) | Type::Map(t, _) | Type::Nullable(t) => mark(api, t, flow, flows),
        Type::String(_) | Type::Integer { .. } | Type::Boolean | Type::Json => {}
    }
}

fn mark_kind(api: &Api, kind: &TypeKind, flow: Flow, flows: &mut HashMap<String, Flow>) {
    match kind {
        TypeKind::Struct(fields) => {
            for f in fields {
                mark(api, &f.ty, flow, flows);
            }
        }
        TypeKind::Alias(ty) => mark(api, ty, flow, flows),
        // The union carries the notifications' payloads.
        TypeKind::Notifications => {
            for p in api.notifications.iter().flat_map(|n| &n.params) {
                mark(api, &p.ty, flow, flows);
            }
        }
        TypeKind::Enum(_) => {}
    }
}
