//! Messages of a simple shape, written without Fluent's resolver.
//!
//! Screening writes a few messages for every listing it answers, a hundred thousand a
//! second; Fluent's resolver spends about two thousand instructions on each (its arguments
//! gathered, its scope kept, every placeable tracked). Most of Assay's messages are text,
//! arguments shown as they are, choices on a text argument and references to other such
//! messages. Those are compiled here, once, from the same parsed source, and written by
//! walking them. Anything else (counts and their plural forms, functions, terms, escapes in
//! string literals) is left to Fluent, as is a message whose arguments are missing. A test
//! writes every compiled message both ways and compares them.

use std::collections::HashMap;

use fluent_syntax::ast::{
    Entry, Expression, InlineExpression, Pattern, PatternElement, VariantKey,
};

use super::COUNTS;

/// The compiled messages of one language's source, by id.
pub(super) struct Templates(HashMap<&'static str, Vec<Piece>, foldhash::fast::FixedState>);

#[derive(Debug)]
enum Piece {
    Text(&'static str),
    Arg(&'static str),
    /// The variant whose key is the argument's value, or else the default.
    Select {
        on: &'static str,
        variants: Vec<(&'static str, Vec<Piece>)>,
        default: usize,
    },
}

/// Message references followed at most this deep.
const DEPTH: usize = 4;

type Patterns<'r> = HashMap<&'static str, &'r Pattern<&'static str>, foldhash::fast::FixedState>;

impl Templates {
    pub(super) fn compile(source: &'static str) -> Templates {
        let resource =
            fluent_syntax::parser::parse(source).unwrap_or_else(|(resource, _)| resource);
        let mut patterns = Patterns::default();
        for entry in &resource.body {
            if let Entry::Message(message) = entry
                && let Some(pattern) = &message.value
            {
                patterns.entry(message.id.name).or_insert(pattern);
            }
        }
        let compiled = patterns
            .iter()
            .filter_map(|(&id, pattern)| Some((id, pieces(pattern, &patterns, 0)?)))
            .collect();
        Templates(compiled)
    }

    /// Writes message `id` with the arguments `arg` gives, when it is compiled and has every
    /// argument it uses; otherwise writes nothing and answers false.
    pub(super) fn write<'a>(
        &self,
        id: &str,
        arg: impl Fn(&str) -> Option<&'a str>,
        out: &mut String,
    ) -> bool {
        let Some(pieces) = self.0.get(id) else {
            return false;
        };
        let start = out.len();
        if write(pieces, &arg, out) {
            return true;
        }
        out.truncate(start);
        false
    }

    /// The messages that are text alone, written.
    pub(super) fn texts(&self) -> HashMap<&'static str, String> {
        self.0
            .iter()
            .filter_map(|(&id, pieces)| {
                let mut text = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(t) => text.push_str(t),
                        _ => return None,
                    }
                }
                Some((id, text))
            })
            .collect()
    }

    pub(super) fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.keys().copied()
    }

    /// The arguments message `id` uses, each with the values its choices name.
    pub(super) fn arguments(&self, id: &str) -> Vec<(&'static str, Vec<&'static str>)> {
        fn walk(pieces: &[Piece], out: &mut Vec<(&'static str, Vec<&'static str>)>) {
            for piece in pieces {
                match piece {
                    Piece::Text(_) => {}
                    Piece::Arg(name) => {
                        if !out.iter().any(|(n, _)| n == name) {
                            out.push((name, Vec::new()));
                        }
                    }
                    Piece::Select { on, variants, .. } => {
                        let keys = variants.iter().map(|(key, _)| *key);
                        match out.iter_mut().find(|(n, _)| n == on) {
                            Some((_, values)) => values.extend(keys),
                            None => out.push((on, keys.collect())),
                        }
                        for (_, pieces) in variants {
                            walk(pieces, out);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0[id], &mut out);
        out
    }
}

fn write<'a>(pieces: &[Piece], arg: &impl Fn(&str) -> Option<&'a str>, out: &mut String) -> bool {
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Arg(name) => match arg(name) {
                Some(value) => out.push_str(value),
                None => return false,
            },
            Piece::Select {
                on,
                variants,
                default,
            } => {
                let Some(value) = arg(on) else {
                    return false;
                };
                let chosen = variants
                    .iter()
                    .find(|(key, _)| *key == value)
                    .unwrap_or(&variants[*default]);
                if !write(&chosen.1, arg, out) {
                    return false;
                }
            }
        }
    }
    true
}

/// A pattern's pieces, if every element of it is of the simple shape.
fn pieces(
    pattern: &Pattern<&'static str>,
    patterns: &Patterns<'_>,
    depth: usize,
) -> Option<Vec<Piece>> {
    let mut out = Vec::with_capacity(pattern.elements.len());
    for element in &pattern.elements {
        match element {
            PatternElement::TextElement { value } => out.push(Piece::Text(value)),
            PatternElement::Placeable { expression } => {
                expression_pieces(expression, patterns, depth, &mut out)?
            }
        }
    }
    Some(out)
}

fn expression_pieces(
    expression: &Expression<&'static str>,
    patterns: &Patterns<'_>,
    depth: usize,
    out: &mut Vec<Piece>,
) -> Option<()> {
    match expression {
        Expression::Inline(inline) => inline_pieces(inline, patterns, depth, out),
        Expression::Select { selector, variants } => {
            let InlineExpression::VariableReference { id } = selector else {
                return None;
            };
            if COUNTS.contains(&id.name) {
                return None;
            }
            let mut compiled = Vec::with_capacity(variants.len());
            for variant in variants {
                let VariantKey::Identifier { name } = variant.key else {
                    return None;
                };
                compiled.push((name, pieces(&variant.value, patterns, depth)?));
            }
            out.push(Piece::Select {
                on: id.name,
                default: variants.iter().position(|v| v.default)?,
                variants: compiled,
            });
            Some(())
        }
    }
}

fn inline_pieces(
    inline: &InlineExpression<&'static str>,
    patterns: &Patterns<'_>,
    depth: usize,
    out: &mut Vec<Piece>,
) -> Option<()> {
    match inline {
        InlineExpression::StringLiteral { value } if !value.contains('\\') => {
            out.push(Piece::Text(value));
        }
        InlineExpression::VariableReference { id } if !COUNTS.contains(&id.name) => {
            out.push(Piece::Arg(id.name));
        }
        InlineExpression::MessageReference {
            id,
            attribute: None,
        } if depth < DEPTH => {
            out.extend(pieces(patterns.get(id.name)?, patterns, depth + 1)?);
        }
        InlineExpression::Placeable { expression } => {
            expression_pieces(expression, patterns, depth, out)?;
        }
        _ => return None,
    }
    Some(())
}
