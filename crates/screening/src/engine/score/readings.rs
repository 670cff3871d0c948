//! Other readings of a word than the automaton's and the misspelling index's: leet symbols
//! read as punctuation ("Ch|loe"), names glued to other words ("#guccioutlet",
//! "bestgucci", "GucciOfficial"), a name in the plural, and short names found only through
//! the `l`/`i` folding, which are no names.

use super::*;
use crate::engine::fuzzy::SHORT_TERM;

/// A leet symbol inside a word may be punctuation after all: "Ch|loe" is "Ch" and "loe"
/// glued by a bar (not "chiloe"), "Sale!Gucci" two words glued by a bang. Reads the word at
/// `start..end` both ways: its letters without the symbols, a name with separators inside;
/// and each piece between them, a name of its own.
pub(super) fn symbols_as_separators(
    engine: &Engine,
    (input, normalized): (&str, &Normalized),
    (field, start, end): (Field, usize, usize),
    looked: &mut Vec<Looked>,
) {
    if end - start > MAX_WORD {
        return;
    }
    let mut symbols = [0usize; MAX_WORD];
    let mut count = 0;
    for (slot, at) in symbols
        .iter_mut()
        .zip(normalized.symbol_letters(input, (start, end)))
    {
        *slot = at;
        count += 1;
    }
    let symbols = &symbols[..count];
    if symbols.is_empty() {
        return;
    }
    let text = &normalized.text;
    let mut letters = [0u8; MAX_WORD];
    let mut len = 0;
    let mut piece = start;
    for at in symbols.iter().copied().chain([end]) {
        if at < piece {
            continue;
        }
        letters[len..len + at - piece].copy_from_slice(&text[piece..at]);
        len += at - piece;
        if at - piece >= MIN_TERM && at - piece < end - start {
            push_named(engine, &text[piece..at], (field, piece, at), 0, looked);
        }
        piece = at + 1;
    }
    let from = looked.len();
    push_named(engine, &letters[..len], (field, start, end), 0, looked);
    for found in &mut looked[from..] {
        found.separated = true;
        found.symbols_apart = true;
    }
}

/// A name glued to a word after it, as hashtags and run-together titles write them
/// ("#guccioutlet", "Rolexsale"): the automaton found the name at the start of the word at
/// `start..end` and more of it.
#[inline(never)]
pub(super) fn name_glued_to_a_word(
    engine: &Engine,
    text: &[u8],
    (start, end): (usize, usize),
    looked: &mut Vec<Looked>,
) {
    let rest = &text[end..];
    let word = rest
        .iter()
        .position(|b| !b.is_ascii_lowercase())
        .map_or(rest, |n| &rest[..n]);
    let ends_a_word = rest
        .get(word.len())
        .is_none_or(|b| !b.is_ascii_alphanumeric());
    if end - start < MIN_TERM
        || !ends_a_word
        || !text[start..end].iter().all(u8::is_ascii_lowercase)
        || !gluable_word(word)
        // "Fendinebbia" (fog lights) and "bulgarische" are words of their own.
        || lexicon().kind(&text[start..end + word.len()]).is_real()
    {
        return;
    }
    let from = looked.len();
    push_named(
        engine,
        &text[start..end],
        (Field::Title, start, end),
        0,
        looked,
    );
    glued_names(looked, from);
}

/// The readings of a word at `start..end` that matched nothing which few words need, apart
/// from the hot loop: with its leet symbols as punctuation (`leet`: the field has some),
/// in camel-case pieces (`camel`: the field has some), a name glued after a word (titles).
#[inline(never)]
pub(super) fn other_readings(
    engine: &Engine,
    (input, normalized): (&str, &Normalized),
    (field, start, end): (Field, usize, usize),
    (leet, camel): (bool, bool),
    looked: &mut Vec<Looked>,
) {
    if leet {
        symbols_as_separators(engine, (input, normalized), (field, start, end), looked);
    }
    if field == Field::Title {
        name_after_a_word(engine, &normalized.text, (start, end), looked);
    }
    if camel && end - start <= MAX_WORD {
        camel_case_pieces(engine, (input, normalized), (field, start, end), looked);
    }
}

/// Whether a capital follows a lower-case letter somewhere in `text`.
pub(super) fn camel_case(text: &[u8]) -> bool {
    let mut lower = false;
    for &b in text {
        if lower && b.is_ascii_uppercase() {
            return true;
        }
        lower = b.is_ascii_lowercase();
    }
    false
}

/// Names in the pieces of a word written in camel case ("newGucci", "LouisVuittonOutlet"):
/// each lower-case letter followed by a capital starts a piece, and a name may take up to
/// three pieces.
fn camel_case_pieces(
    engine: &Engine,
    (input, normalized): (&str, &Normalized),
    (field, start, end): (Field, usize, usize),
    looked: &mut Vec<Looked>,
) {
    const MAX_PIECES: usize = 8;
    // Only a word written letter for letter in ASCII: its first and last letters are as
    // far apart in what was written, with nothing but letters between.
    let origin = normalized.origin(start);
    let Some(written) = input.as_bytes().get(origin..origin + (end - start)) else {
        return;
    };
    if normalized.origin(end - 1) != origin + (end - start - 1)
        || !written.iter().all(u8::is_ascii_alphabetic)
    {
        return;
    }
    let mut bounds = [0usize; MAX_PIECES + 1];
    bounds[0] = start;
    let mut count = 0;
    for at in start + 1..end {
        let k = at - start;
        if written[k - 1].is_ascii_lowercase() && written[k].is_ascii_uppercase() {
            if count + 1 == MAX_PIECES {
                return;
            }
            count += 1;
            bounds[count] = at;
        }
    }
    count += 1;
    bounds[count] = end;
    for first in 0..count {
        for last in first..count.min(first + 3) {
            let (from, to) = (bounds[first], bounds[last + 1]);
            if to - from >= MIN_TERM && to - from < end - start {
                push_named(
                    engine,
                    &normalized.text[from..to],
                    (field, from, to),
                    0,
                    looked,
                );
            }
        }
    }
}

/// A name glued to a word before it ("bestgucci", "#newrolex"): the automaton finds names
/// only where a word starts, so the word's ends are tried for one.
fn name_after_a_word(
    engine: &Engine,
    text: &[u8],
    (start, end): (usize, usize),
    looked: &mut Vec<Looked>,
) {
    const SHORTEST_WORD: usize = 3;
    let len = end - start;
    if !(MIN_TERM + SHORTEST_WORD..=MAX_WORD).contains(&len) {
        return;
    }
    // Names of the lengths that fit, ending with the word's last letter: most words have
    // none, and are done in one load.
    let fits = (1u32 << (len - SHORTEST_WORD + 1)) - (1 << MIN_TERM);
    let mut lengths = engine.compact_lengths_ending(text[end - 1]) & fits;
    if lengths == 0 || !text[start..end].iter().all(u8::is_ascii_lowercase) {
        return;
    }
    // The longest name first.
    while lengths != 0 {
        let n = 31 - lengths.leading_zeros() as usize;
        lengths &= !(1 << n);
        let at = end - n;
        if engine.compact_pattern(&text[at..end]).is_none() || !gluable_word(&text[start..at]) {
            continue;
        }
        if lexicon().kind(&text[start..end]).is_real() {
            return;
        }
        let from = looked.len();
        push_named(engine, &text[at..end], (Field::Title, at, end), 0, looked);
        glued_names(looked, from);
        return;
    }
}

/// Marks the names found from `from` on as glued to another word.
fn glued_names(looked: &mut [Looked], from: usize) {
    for found in &mut looked[from..] {
        found.glued = true;
    }
}

/// Whether `word` may be glued to a name: a common word of some language ("outlet", "new",
/// "sale"), or a rarer one of five letters or more ("submariner"). Three or four letters
/// of a rarer word are too often the end of another ("bulgari-cus").
fn gluable_word(word: &[u8]) -> bool {
    if !(3..=MAX_WORD).contains(&word.len()) {
        return false;
    }
    let kind = lexicon().kind(word);
    kind.is_common() || (word.len() >= 5 && kind.is_real())
}

/// Whether a name of three letters or fewer is found at `start..end` only because
/// normalisation writes `l` and `i` alike: "IV" is no "LV", nor "Ysi" "YSL". A longer name
/// so written is a disguise ("GUCCl"); two or three letters are a word or an abbreviation
/// of their own.
pub(super) fn short_name_by_folding(
    (original, normalized): (&str, &Normalized),
    (start, end): (usize, usize),
    name: &str,
) -> bool {
    let text = &normalized.text[start..end];
    if text.len() > 3 || name.len() != text.len() || !text.contains(&b'i') {
        return false;
    }
    (start..end).zip(name.bytes()).any(|(at, letter)| {
        let written = original.as_bytes().get(normalized.origin(at));
        normalized.text[at] == b'i' && written.is_none_or(|w| !w.eq_ignore_ascii_case(&letter))
    })
}

/// Records the brand name `word` is the plural of, one letter off: an `s` on a name of four
/// letters or more.
pub(super) fn plural_of_name(
    engine: &Engine,
    place: (Field, usize, usize),
    word: &[u8],
    looked: &mut Vec<Looked>,
) {
    let Some(name) = word.strip_suffix(b"s").filter(|n| n.len() >= MIN_TERM) else {
        return;
    };
    let from = looked.len();
    push_named(engine, name, place, 1, looked);
    for found in &mut looked[from..] {
        found.short = name.len() <= SHORT_TERM;
    }
}
