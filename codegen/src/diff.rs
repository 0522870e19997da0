//! The contract checker (`haul-codegen diff OLD NEW`): every difference
//! between two versions of the document, found in their models (never in
//! their text), each classed by what it does to clients already deployed.
//!
//! Direction decides the class. Params are *inputs*: clients send them and
//! the daemon holds them to the schema. Results, notification payloads and
//! error `data` are *outputs*: the daemon sends them and clients decode
//! them. A named type is an input, an output or both by where the old or the
//! new document uses it; a type neither uses counts as both, since every SDK
//! exports it all the same. An input may widen but not narrow (what deployed
//! clients send must still be accepted), an output may narrow but not widen
//! (what the daemon sends must still decode), and a type that is both may do
//! neither:
//!
//! | change | input | output |
//! | --- | --- | --- |
//! | member removed (method, notification, error, type, param, field) | breaking | breaking |
//! | new method, notification, error, type | compatible | compatible |
//! | new param or field, optional | compatible | compatible |
//! | new param or field, required | breaking | compatible |
//! | made required / made optional | breaking / compatible | compatible / breaking |
//! | made nullable / no longer nullable | compatible / breaking | breaking / compatible |
//! | enum value added / removed | compatible / breaking | breaking / compatible |
//! | bound loosened / tightened | compatible / breaking | breaking / compatible |
//! | pattern or format added / removed | breaking / compatible | compatible / breaking |
//! | pattern or format changed, type changed | breaking | breaking |
//! | default changed | breaking (omitting it does something else) | docs |
//!
//! Besides: an error's code or message changed, or its code reused for
//! another error, is breaking (clients match on codes, and DESIGN.md makes
//! messages stable); an error that gains `data` is compatible, one that
//! loses it breaking; a method that may return a new error (or no longer
//! returns one) is compatible, since every SDK takes a code it does not know;
//! required params in another order are breaking, because the Rust SDK's
//! `Params::new` takes them in document order. Descriptions, summaries,
//! examples, tags and an output's default are the third class, `docs`:
//! nothing on the wire changes, but the changes page lists them.
//!
//! Why a new value in an output enum is breaking — what each generated SDK
//! does today with a value it does not know (read from the emitters and the
//! hand-written runtimes):
//! - Rust: enums derive `Deserialize` without a catch-all variant, so the
//!   whole result (or notification) fails to decode: a `ClientError`. Unknown
//!   struct fields are ignored (only params structs deny them), so a new
//!   output field is safe.
//! - TypeScript: nothing is checked at run time; the value reaches code whose
//!   type is a closed union of literals, so an exhaustive `switch` meets a
//!   case its types say cannot happen. Not an exception, still a break.
//! - Python: output enum fields are typed `Union[Enum, str]` and keep an
//!   unknown value as a plain `str` (`enum_or_str`): the one SDK that copes.
//!
//! Every SDK skips a pushed notification it does not know, but the
//! `Notification` union is also an output (`events.poll` returns a list of
//! them), and there the Rust (serde's tagged enum) and Python
//! (`NOTIFICATIONS[method]`) SDKs fail on an unknown one: a new notification
//! is compatible in itself and breaking as a new variant of a union clients
//! receive.
//!
//! The walk over methods, notifications, errors and types is here;
//! `shape` compares what they are made of (members, types, bounds), and
//! `flow` says who sends each named type.

mod flow;
mod shape;

use std::fmt;

use serde_json::Value;

use crate::model::{Api, ErrorDef, Method};
use flow::{INPUT, OUTPUT};
use shape::params;

/// What a change does to deployed clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Some deployed client stops working: a release needs a new major
    /// version (a new minor one before 1.0).
    Breaking,
    /// Deployed clients keep working.
    Compatible,
    /// Only the documentation changed: descriptions, summaries, examples, tags.
    Docs,
}

impl Class {
    pub const fn as_str(self) -> &'static str {
        match self {
            Class::Breaking => "breaking",
            Class::Compatible => "compatible",
            Class::Docs => "docs",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that `{:<10}` lines the classes up.
        f.pad(self.as_str())
    }
}

/// One difference between two documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub class: Class,
    /// JSON pointer into the new document, or into the old one for what the
    /// new one no longer has.
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<10}  {}  {}", self.class, self.pointer, self.message)
    }
}

/// Every difference from `old` to `new`: the breaking ones first, then the
/// compatible ones, then the docs, each class in document order.
pub fn diff(old: &Api, new: &Api) -> Vec<Change> {
    let mut diff = Diff {
        old,
        new,
        flows: flow::of_both(old, new),
        changes: Vec::new(),
    };
    diff.info();
    diff.methods();
    diff.notifications();
    diff.errors();
    diff.types();
    let mut changes = diff.changes;
    changes.sort_by_key(|c| c.class);
    changes
}

/// Whether any of `changes` is breaking.
pub fn breaks(changes: &[Change]) -> bool {
    changes.iter().any(|c| c.class == Class::Breaking)
}

/// How many changes of each class, as a phrase: `2 breaking, 1 compatible
/// and 5 docs changes`, or `no changes`.
pub fn summary(changes: &[Change]) -> String {
    let counts: Vec<String> = [Class::Breaking, Class::Compatible, Class::Docs]
        .into_iter()
        .filter_map(|class| {
            let n = changes.iter().filter(|c| c.class == class).count();
            (n > 0).then(|| format!("{n} {class}"))
        })
        .collect();
    match counts.as_slice() {
        [] => "no changes".to_owned(),
        [one] if changes.len() == 1 => format!("{one} change"),
        _ => format!("{} changes", listed(&counts)),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn listed<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// An item of one list matched by name with the other's, by index.
enum Pair {
    Both(usize, usize),
    Added(usize),
    Removed(usize),
}

/// The items of `new` in order (each matched or added), then those of
/// `old` that `new` lacks.
fn pairs<T>(old: &[T], new: &[T], key: impl Fn(&T) -> &str) -> Vec<Pair> {
    let mut pairs: Vec<Pair> = new
        .iter()
        .enumerate()
        .map(|(j, n)| match old.iter().position(|o| key(o) == key(n)) {
            Some(i) => Pair::Both(i, j),
            None => Pair::Added(j),
        })
        .collect();
    pairs.extend(
        old.iter()
            .enumerate()
            .filter(|(_, o)| !new.iter().any(|n| key(n) == key(o)))
            .map(|(i, _)| Pair::Removed(i)),
    );
    pairs
}

/// The names of `m`'s required params, in document order.
fn required(m: &Method) -> Vec<&str> {
    let names = m.params.iter().filter(|p| p.required);
    names.map(|p| p.name.as_str()).collect()
}

/// A name as one JSON pointer token.
fn token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn schema_ptr(name: &str) -> String {
    format!("/components/schemas/{}", token(name))
}

fn error_ptr(name: &str) -> String {
    format!("/components/errors/{}", token(name))
}

/// A string as it is written in the document (quoted, escaped).
fn quoted(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

struct Diff<'a> {
    old: &'a Api,
    new: &'a Api,
    /// Of the named types, over both documents.
    flows: flow::Flows,
    changes: Vec<Change>,
}

impl<'a> Diff<'a> {
    fn push(&mut self, class: Class, pointer: &str, message: String) {
        self.changes.push(Change {
            class,
            pointer: pointer.to_owned(),
            message,
        });
    }

    /// Matches `old` and `new` by name: what only `new` has is a compatible
    /// addition, what only `old` had a breaking removal, and `both`
    /// compares the rest.
    fn top_level<T>(
        &mut self,
        old: &'a [T],
        new: &'a [T],
        noun: &str,
        name: impl Fn(&T) -> &str,
        pointer: impl Fn(&T) -> String,
        mut both: impl FnMut(&mut Self, &'a T, &'a T),
    ) {
        for pair in pairs(old, new, &name) {
            match pair {
                Pair::Both(i, j) => both(self, &old[i], &new[j]),
                Pair::Added(j) => {
                    let message = format!("new {noun} {}", name(&new[j]));
                    self.push(Class::Compatible, &pointer(&new[j]), message);
                }
                Pair::Removed(i) => {
                    let message = format!("{noun} {} removed", name(&old[i]));
                    self.push(Class::Breaking, &pointer(&old[i]), message);
                }
            }
        }
    }

    fn info(&mut self) {
        let (old, new) = (self.old, self.new);
        if old.title != new.title {
            let message = format!(
                "title changed from {} to {}",
                quoted(&old.title),
                quoted(&new.title)
            );
            self.push(Class::Docs, "/info/title", message);
        }
        if old.description != new.description {
            let message = "description changed".to_owned();
            self.push(Class::Docs, "/info/description", message);
        }
    }

    fn methods(&mut self) {
        self.top_level(
            &self.old.methods,
            &self.new.methods,
            "method",
            |m| &m.name,
            |m| m.pointer.clone(),
            Self::method,
        );
    }

    fn method(&mut self, o: &Method, n: &Method) {
        self.method_docs(o, n);
        self.scope(o, n);
        self.members(&params(o, n, "param"), &o.params, &n.params, INPUT);
        let (was, is) = (required(o), required(n));
        let (mut was_sorted, mut is_sorted) = (was.clone(), is.clone());
        was_sorted.sort_unstable();
        is_sorted.sort_unstable();
        // Only the same required params in another order: one added or
        // removed is reported as such.
        if was != is && was_sorted == is_sorted {
            let message = format!(
                "{}: required params reordered from [{}] to [{}] (the Rust SDK's Params::new takes them in document order)",
                n.name,
                was.join(", "),
                is.join(", ")
            );
            self.push(Class::Breaking, &format!("{}/params", n.pointer), message);
        }
        if let (Some(was), Some(is)) = (&o.result, &n.result) {
            let ptr = format!("{}/result", n.pointer);
            let what = format!("{}: result", n.name);
            if was.name != is.name {
                let message = format!(
                    "{what} renamed from {} to {} (not on the wire)",
                    quoted(&was.name),
                    quoted(&is.name)
                );
                self.push(Class::Docs, &ptr, message);
            }
            let at = shape::At {
                flow: OUTPUT,
                ptr: &ptr,
                what: &what,
            };
            self.ty(&was.ty, &is.ty, at);
            self.field_docs(was, is, at);
        }
        // One line per method, not per error: a new error is often added
        // to every method at once.
        let (mut gained, mut lost) = (Vec::new(), Vec::new());
        for pair in pairs(&o.errors, &n.errors, |e| e) {
            match pair {
                Pair::Both(..) => {}
                Pair::Added(j) => gained.push(&n.errors[j]),
                Pair::Removed(i) => lost.push(&o.errors[i]),
            }
        }
        let ptr = format!("{}/errors", n.pointer);
        for (errors, verb) in [(gained, "may now return"), (lost, "no longer returns")] {
            if !errors.is_empty() {
                let message = format!("{}: {verb} {}", n.name, listed(&errors));
                self.push(Class::Compatible, &ptr, message);
            }
        }
    }

    fn notifications(&mut self) {
        self.top_level(
            &self.old.notifications,
            &self.new.notifications,
            "notification",
            |m| &m.name,
            |m| m.pointer.clone(),
            |diff, o, n| {
                diff.method_docs(o, n);
                diff.members(&params(o, n, "field"), &o.params, &n.params, OUTPUT);
            },
        );
    }

    /// A method that needs a wider scope than it did refuses the tokens
    /// that could call it; one that needs less refuses none. A contract
    /// from before scopes had one token, which could call everything: its
    /// methods count as `admin`.
    fn scope(&mut self, o: &Method, n: &Method) {
        let rank = |scope: Option<&str>| {
            let scope = scope.unwrap_or("admin");
            crate::model::SCOPES.iter().position(|s| *s == scope)
        };
        fn effective(m: &Method) -> Vec<(Option<String>, Option<&str>)> {
            let mut all = vec![(None, m.scope.as_deref())];
            all.extend(m.raised_scopes.iter().map(|(param, when, scope)| {
                (Some(format!("{param} {when}")), Some(scope.as_str()))
            }));
            all
        }
        let old = effective(o);
        for (when, scope) in effective(n) {
            let was = old
                .iter()
                .find(|(w, _)| *w == when)
                .map_or(old[0].1, |(_, s)| *s);
            let (before, after) = (rank(was), rank(scope));
            if before == after {
                continue;
            }
            let what = match &when {
                None => n.name.clone(),
                Some(when) => format!("{} with {when}", n.name),
            };
            let (was, is) = (was.unwrap_or("admin"), scope.unwrap_or("admin"));
            let (class, message) = match after > before {
                true => (
                    Class::Breaking,
                    format!("{what}: needs the {is} scope, not {was}"),
                ),
                false => (
                    Class::Compatible,
                    format!("{what}: needs the {is} scope instead of {was}"),
                ),
            };
            self.push(class, &format!("{}/x-scope", n.pointer), message);
        }
    }

    /// What methods and notifications share that only documents them.
    fn method_docs(&mut self, o: &Method, n: &Method) {
        for (what, changed) in [
            ("summary", o.summary != n.summary),
            ("description", o.description != n.description),
            ("examples", o.examples != n.examples),
        ] {
            if changed {
                let message = format!("{}: {what} changed", n.name);
                self.push(Class::Docs, &n.pointer, message);
            }
        }
        if o.tags != n.tags {
            let message = format!(
                "{}: tags changed from [{}] to [{}]",
                n.name,
                o.tags.join(", "),
                n.tags.join(", ")
            );
            self.push(Class::Docs, &format!("{}/tags", n.pointer), message);
        }
    }

    /// Errors are matched by name, and then by code: a code that stays
    /// under another name is a rename, one taken by another error a reuse.
    fn errors(&mut self) {
        let (old, new) = (&self.old.errors, &self.new.errors);
        let is_new = |name: &str| !old.iter().any(|e| e.name == name);
        let is_gone = |name: &str| !new.iter().any(|e| e.name == name);
        for pair in pairs(old, new, |e| &e.name) {
            let (class, ptr, message) = match pair {
                Pair::Both(i, j) => {
                    self.error(&old[i], &new[j]);
                    continue;
                }
                Pair::Added(j) => {
                    let n = &new[j];
                    let (class, message) = match old.iter().find(|o| o.code == n.code) {
                        Some(o) if is_gone(&o.name) => (
                            Class::Breaking,
                            format!("error {} ({}) renamed to {}", o.name, o.code, n.name),
                        ),
                        Some(o) => (
                            Class::Breaking,
                            format!(
                                "new error {} reuses code {}, which was {}'s",
                                n.name, n.code, o.name
                            ),
                        ),
                        None => (
                            Class::Compatible,
                            format!("new error {} ({})", n.name, n.code),
                        ),
                    };
                    (class, error_ptr(&n.name), message)
                }
                Pair::Removed(i) => {
                    let o = &old[i];
                    // A rename is reported once, at its new name.
                    if new.iter().any(|n| n.code == o.code && is_new(&n.name)) {
                        continue;
                    }
                    let message = format!("error {} ({}) removed", o.name, o.code);
                    (Class::Breaking, error_ptr(&o.name), message)
                }
            };
            self.push(class, &ptr, message);
        }
    }

    fn error(&mut self, o: &ErrorDef, n: &ErrorDef) {
        let (ptr, name) = (error_ptr(&n.name), &n.name);
        if o.code != n.code {
            let message = format!("error {name}: code changed from {} to {}", o.code, n.code);
            self.push(Class::Breaking, &ptr, message);
        }
        if o.message != n.message {
            let message = format!(
                "error {name}: message changed from {} to {} (messages are stable: clients may match them)",
                quoted(&o.message),
                quoted(&n.message)
            );
            self.push(Class::Breaking, &ptr, message);
        }
        if o.data_example != n.data_example {
            let message = format!("error {name}: example data changed");
            self.push(Class::Docs, &ptr, message);
        }
        // An error's description is its data schema's.
        let data_ptr = schema_ptr(&format!("{name}ErrorData"));
        if o.description != n.description {
            let message = format!("error {name}: description changed");
            self.push(Class::Docs, &data_ptr, message);
        }
        let (class, message) = match (&o.data, &n.data) {
            (None, None) => return,
            (None, Some(_)) => (Class::Compatible, "now carries data"),
            (Some(_), None) => (Class::Breaking, "no longer carries data"),
            (Some(was), Some(is)) => {
                return self.named(was, is, OUTPUT, &format!("error {name} data"));
            }
        };
        self.push(class, &data_ptr, format!("error {name} {message}"));
    }

    fn types(&mut self) {
        self.top_level(
            &self.old.types,
            &self.new.types,
            "type",
            |t| &t.name,
            |t| schema_ptr(&t.name),
            |diff, o, n| {
                if o.description != n.description {
                    let message = format!("{}: description changed", n.name);
                    diff.push(Class::Docs, &schema_ptr(&n.name), message);
                }
                diff.named(o, n, diff.flows.of(&n.name), &n.name);
            },
        );
    }
}
