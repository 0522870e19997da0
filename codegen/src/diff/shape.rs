//! What methods, notifications, errors and types are made of, compared:
//! members (params, fields), types, their bounds and enum values. Each
//! comparison knows who sends the value ([`Flow`]), which decides whether
//! a narrower or a wider schema breaks.

use std::fmt;

use serde_json::Value;

use super::flow::{Flow, Shift};
use super::{pairs, quoted, schema_ptr, token, Class, Diff, Pair};
use crate::model::{ArrayRules, Field, Method, NamedType, StringRules, Type, TypeKind};

/// Where a value is, who sends it and how messages name it
/// (`download.add: param "dir"`).
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    pub(super) flow: Flow,
    pub(super) ptr: &'a str,
    pub(super) what: &'a str,
}

/// Where a list of members (params, fields) is, in each document.
pub(super) struct Members<'a> {
    /// Whose members they are, as messages name it: `download.add`.
    owner: &'a str,
    /// `param` or `field`.
    noun: &'a str,
    old_base: String,
    new_base: String,
    /// Params are an array (pointed at by index), fields an object (by name).
    by_index: bool,
}

impl Members<'_> {
    fn pointer(&self, base: &str, index: usize, name: &str) -> String {
        if self.by_index {
            format!("{base}/{index}")
        } else {
            format!("{base}/{}", token(name))
        }
    }
}

/// The params of a method or the payload of a notification, in each document.
pub(super) fn params<'a>(o: &Method, n: &'a Method, noun: &'a str) -> Members<'a> {
    Members {
        owner: &n.name,
        noun,
        old_base: format!("{}/params", o.pointer),
        new_base: format!("{}/params", n.pointer),
        by_index: true,
    }
}

impl Diff<'_> {
    /// A named type's shape (its description is the caller's: an error's
    /// lives on the error).
    pub(super) fn named(&mut self, o: &NamedType, n: &NamedType, flow: Flow, owner: &str) {
        let ptr = schema_ptr(&n.name);
        if o.schema.get("examples") != n.schema.get("examples") {
            self.push(Class::Docs, &ptr, format!("{owner}: examples changed"));
        }
        match (&o.kind, &n.kind) {
            (TypeKind::Struct(was), TypeKind::Struct(is)) => {
                let members = Members {
                    owner,
                    noun: "field",
                    old_base: format!("{ptr}/properties"),
                    new_base: format!("{ptr}/properties"),
                    by_index: false,
                };
                self.members(&members, was, is, flow);
            }
            (TypeKind::Enum(was), TypeKind::Enum(is)) => {
                let (was, is) = (as_strs(was), as_strs(is));
                self.variants(&was, &is, flow, owner, "value", &|i| {
                    format!("{ptr}/enum/{i}")
                });
            }
            (TypeKind::Alias(was), TypeKind::Alias(is)) => {
                let at = At {
                    flow,
                    ptr: &ptr,
                    what: owner,
                };
                self.ty(was, is, at);
            }
            // The union's variants are the notifications.
            (TypeKind::Notifications, TypeKind::Notifications) => {
                let names =
                    |ms: &[Method]| -> Vec<String> { ms.iter().map(|m| m.name.clone()).collect() };
                let was = names(&self.old.notifications);
                let is = names(&self.new.notifications);
                let (was, is) = (as_strs(&was), as_strs(&is));
                self.variants(&was, &is, flow, owner, "variant", &|_| ptr.clone());
            }
            (was, is) => {
                let message = format!("{owner}: changed from {} to {}", kind(was), kind(is));
                self.push(Class::Breaking, &ptr, message);
            }
        }
    }

    /// An enum's values, or the union's notifications: one added widens
    /// the type, one removed narrows it.
    fn variants(
        &mut self,
        was: &[&str],
        is: &[&str],
        flow: Flow,
        owner: &str,
        noun: &str,
        ptr: &dyn Fn(usize) -> String,
    ) {
        for pair in pairs(was, is, |v| v) {
            let (shift, index, message) = match pair {
                Pair::Both(..) => continue,
                Pair::Added(j) => {
                    // Said only where it breaks: an input may gain values.
                    let receives = if flow.output {
                        format!(" (clients receive {owner} and do not know it)")
                    } else {
                        String::new()
                    };
                    let message = format!("{owner}: new {noun} {}{receives}", quoted(is[j]));
                    (Shift::Wider, j, message)
                }
                Pair::Removed(i) => {
                    let message = format!("{owner}: {noun} {} removed", quoted(was[i]));
                    (Shift::Narrower, i, message)
                }
            };
            self.push(flow.class(shift), &ptr(index), message);
        }
    }

    pub(super) fn members(&mut self, at: &Members, old: &[Field], new: &[Field], flow: Flow) {
        let (owner, noun) = (at.owner, at.noun);
        for pair in pairs(old, new, |f| &f.name) {
            match pair {
                Pair::Both(i, j) => {
                    let (o, n) = (&old[i], &new[j]);
                    let ptr = at.pointer(&at.new_base, j, &n.name);
                    let what = format!("{owner}: {noun} {}", quoted(&n.name));
                    self.field(
                        o,
                        n,
                        At {
                            flow,
                            ptr: &ptr,
                            what: &what,
                        },
                    );
                }
                Pair::Added(j) => {
                    let n = &new[j];
                    // Clients ignore members they do not know (every SDK
                    // but for params), so only a required input breaks.
                    let (class, which) = match (flow.input, n.required) {
                        (true, true) => (Class::Breaking, "required"),
                        (false, true) => (Class::Compatible, "required"),
                        (_, false) => (Class::Compatible, "optional"),
                    };
                    let message = format!("{owner}: new {which} {noun} {}", quoted(&n.name));
                    self.push(class, &at.pointer(&at.new_base, j, &n.name), message);
                }
                Pair::Removed(i) => {
                    let o = &old[i];
                    let message = format!("{owner}: {noun} {} removed", quoted(&o.name));
                    let ptr = at.pointer(&at.old_base, i, &o.name);
                    self.push(Class::Breaking, &ptr, message);
                }
            }
        }
    }

    fn field(&mut self, o: &Field, n: &Field, at: At) {
        if o.required != n.required {
            let (shift, now) = if n.required {
                (Shift::Narrower, "required")
            } else {
                (Shift::Wider, "optional")
            };
            let message = format!("{} is now {now}", at.what);
            self.push(at.flow.class(shift), at.ptr, message);
        }
        self.ty(&o.ty, &n.ty, at);
        self.field_docs(o, n, at);
    }

    pub(super) fn field_docs(&mut self, o: &Field, n: &Field, at: At) {
        let what = at.what;
        if o.default != n.default {
            let show = |d: &Option<Value>| d.as_ref().map_or("none".to_owned(), Value::to_string);
            // A client that leaves an input out now gets something else;
            // an output's default only documents it.
            let class = if at.flow.input {
                Class::Breaking
            } else {
                Class::Docs
            };
            let message = format!(
                "{what}: default changed from {} to {}",
                show(&o.default),
                show(&n.default)
            );
            self.push(class, at.ptr, message);
        }
        if o.description != n.description {
            self.push(Class::Docs, at.ptr, format!("{what}: description changed"));
        }
        if o.schema.get("examples") != n.schema.get("examples") {
            self.push(Class::Docs, at.ptr, format!("{what}: examples changed"));
        }
    }

    pub(super) fn ty(&mut self, o: &Type, n: &Type, at: At) {
        match (o, n) {
            (Type::Nullable(was), Type::Nullable(is)) => self.ty(was, is, at),
            (Type::Nullable(was), is) => {
                let message = format!("{} is no longer nullable", at.what);
                self.push(at.flow.class(Shift::Narrower), at.ptr, message);
                self.ty(was, is, at);
            }
            (was, Type::Nullable(is)) => {
                let message = format!("{} is now nullable", at.what);
                self.push(at.flow.class(Shift::Wider), at.ptr, message);
                self.ty(was, is, at);
            }
            (Type::String(was), Type::String(is)) => self.string_rules(was, is, at),
            (
                Type::Integer {
                    minimum: min0,
                    maximum: max0,
                },
                Type::Integer {
                    minimum: min1,
                    maximum: max1,
                },
            ) => {
                self.bound(at, "minimum", *min0, *min1, true);
                self.bound(at, "maximum", *max0, *max1, false);
            }
            (Type::Array(was, r0), Type::Array(is, r1)) => {
                self.array_rules(r0, r1, at);
                let what = format!("{}'s items", at.what);
                self.ty(was, is, At { what: &what, ..at });
            }
            (Type::Map(was, r0), Type::Map(is, r1)) => {
                self.rule(at, "key pattern", &r0.key_pattern, &r1.key_pattern);
                let what = format!("{}'s values", at.what);
                self.ty(was, is, At { what: &what, ..at });
            }
            (Type::Named(was), Type::Named(is)) if was == is => {}
            (Type::Boolean, Type::Boolean) | (Type::Json, Type::Json) => {}
            (was, is) => {
                let message = format!(
                    "{}: type changed from {} to {}",
                    at.what,
                    describe(was),
                    describe(is)
                );
                self.push(Class::Breaking, at.ptr, message);
            }
        }
    }

    fn string_rules(&mut self, o: &StringRules, n: &StringRules, at: At) {
        self.bound(at, "minLength", o.min_length, n.min_length, true);
        self.bound(at, "maxLength", o.max_length, n.max_length, false);
        self.rule(at, "pattern", &o.pattern, &n.pattern);
        self.rule(at, "format", &o.format, &n.format);
    }

    fn array_rules(&mut self, o: &ArrayRules, n: &ArrayRules, at: At) {
        self.bound(at, "minItems", o.min_items, n.min_items, true);
        self.bound(at, "maxItems", o.max_items, n.max_items, false);
        if o.unique != n.unique {
            let (shift, message) = if n.unique {
                (Shift::Narrower, "items must now be unique")
            } else {
                (Shift::Wider, "items need no longer be unique")
            };
            self.push(
                at.flow.class(shift),
                at.ptr,
                format!("{}: {message}", at.what),
            );
        }
    }

    /// A bound that is absent, or a number; `lower`: a minimum (raising it
    /// narrows), else a maximum (lowering it narrows).
    fn bound<T: PartialOrd + fmt::Display>(
        &mut self,
        at: At,
        keyword: &str,
        old: Option<T>,
        new: Option<T>,
        lower: bool,
    ) {
        let (shift, message) = match (old, new) {
            (None, None) => return,
            (Some(a), Some(b)) if a == b => return,
            (None, Some(b)) => (Shift::Narrower, format!("{keyword} {b} added")),
            (Some(a), None) => (Shift::Wider, format!("{keyword} {a} removed")),
            (Some(a), Some(b)) => {
                let raised = b > a;
                let shift = if raised == lower {
                    Shift::Narrower
                } else {
                    Shift::Wider
                };
                let verb = if raised { "raised" } else { "lowered" };
                (shift, format!("{keyword} {verb} from {a} to {b}"))
            }
        };
        self.push(
            at.flow.class(shift),
            at.ptr,
            format!("{}: {message}", at.what),
        );
    }

    /// A pattern or a format: one added narrows, one removed widens, one
    /// changed is neither (regular expressions do not compare).
    fn rule(&mut self, at: At, keyword: &str, old: &Option<String>, new: &Option<String>) {
        let (shift, message) = match (old, new) {
            (None, None) => return,
            (Some(a), Some(b)) if a == b => return,
            (None, Some(b)) => (Shift::Narrower, format!("{keyword} {} added", quoted(b))),
            (Some(a), None) => (Shift::Wider, format!("{keyword} {} removed", quoted(a))),
            (Some(a), Some(b)) => (
                Shift::Other,
                format!("{keyword} changed from {} to {}", quoted(a), quoted(b)),
            ),
        };
        self.push(
            at.flow.class(shift),
            at.ptr,
            format!("{}: {message}", at.what),
        );
    }
}

fn as_strs(values: &[String]) -> Vec<&str> {
    values.iter().map(String::as_str).collect()
}

fn kind(kind: &TypeKind) -> &'static str {
    match kind {
        TypeKind::Struct(_) => "an object",
        TypeKind::Enum(_) => "an enum",
        TypeKind::Alias(_) => "an alias",
        TypeKind::Notifications => "the union of the notifications",
    }
}

/// A type as messages name it: `array of DownloadState`, `string or null`.
fn describe(ty: &Type) -> String {
    ty.describe(&str::to_owned)
}
