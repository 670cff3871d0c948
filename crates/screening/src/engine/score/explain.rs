//! What a piece of text evidence is, said exactly: the listing's own text of a match, how
//! it differs from the term (look-alikes, accents, leetspeak, styled or reversed letters,
//! separators, a misspelling), and the sentence that says so.

use super::*;
use assay_common::language::{Text, message, quoted};
use assay_proto::common::v1::Message;

/// A match method as the catalogue names it.
fn method_code(method: i32) -> &'static str {
    match MatchMethod::try_from(method).unwrap_or_default() {
        MatchMethod::Confusable => "confusable",
        MatchMethod::Leetspeak => "leetspeak",
        MatchMethod::Spaced => "spaced",
        MatchMethod::Fuzzy => "fuzzy",
        MatchMethod::Diacritics => "diacritics",
        MatchMethod::Styled => "styled",
        MatchMethod::Reversed => "reversed",
        MatchMethod::Exact | MatchMethod::Unspecified => "exact",
    }
}

/// The explanation of a brand's name in the text: what the text is to the name, how it
/// differs (`listed`: what stands for what), and how many letters off it is.
pub(super) fn text_explanation(
    detail: &TextMatch,
    text: &TextEvidence,
    brand: &str,
    listed: &[(Text, Text)],
) -> Vec<Message> {
    // An ordinary or common word written otherwise ("M4rquise", "Fossiil") is no such word:
    // the text only matches the name, or part of it.
    let written_otherwise = !detail.methods.is_empty();
    // A name of a letter or two ("LV") is ambiguous for being short, not a word.
    let short = detail.term.chars().filter(|c| c.is_alphanumeric()).count() < 3;
    let strength = match text.strength {
        _ if text.compat => "compat",
        _ if text.real_word => "real-word",
        Strength::Ambiguous if written_otherwise || short => "name",
        Strength::Common if written_otherwise => "partial",
        Strength::Distinctive => "distinctive",
        Strength::Ambiguous => "ambiguous",
        Strength::Partial => "partial",
        Strength::Common => "common",
    };
    let mut parts = Vec::with_capacity(2 + detail.methods.len() + listed.len());
    parts.push(message(
        "signal-brand-text",
        [
            ("brand", quoted(brand)),
            ("field", field_of(detail.field).into()),
            ("strength", strength.into()),
            ("text", quoted(&detail.matched_text)),
        ],
    ));
    for (i, method) in detail.methods.iter().enumerate() {
        parts.push(message(
            if i == 0 {
                "signal-through"
            } else {
                "signal-and"
            },
            [("method", method_code(*method).into())],
        ));
    }
    list_stands_for(&mut parts, listed);
    if detail.edit_distance > 0 {
        parts.push(message(
            "signal-letters-off",
            [
                ("count", detail.edit_distance.to_string().into()),
                ("term", quoted(&detail.term)),
            ],
        ));
    }
    parts
}

fn field_of(field: i32) -> &'static str {
    match TextField::try_from(field) {
        Ok(TextField::Description) => "description",
        _ => "title",
    }
}

/// What stands for what, in brackets: the first four, and "..." for more.
fn list_stands_for(parts: &mut Vec<Message>, listed: &[(Text, Text)]) {
    for (i, (shown, letters)) in listed.iter().take(4).enumerate() {
        parts.push(message(
            if i == 0 {
                "signal-stands-for-first"
            } else {
                "signal-stands-for"
            },
            [("letters", letters.clone()), ("shown", shown.clone())],
        ));
    }
    if listed.len() > 4 {
        parts.push(message("signal-stands-for-more", []));
    }
    if !listed.is_empty() {
        parts.push(message("signal-list-end", []));
    }
}

/// The characters of a normalised span that stand for other letters, as the listing wrote
/// them: `("\"0\"", "\"o\""), ("\"с\" (U+0441)", "\"c\"")`. Each once; five at most,
/// of which an explanation shows four.
pub(super) fn substitutions(
    original: &str,
    normalized: &Normalized,
    start: usize,
    end: usize,
    term: &str,
    symbols_apart: bool,
) -> Vec<(Text, Text)> {
    let mut seen: Vec<usize> = Vec::new();
    let mut listed = Vec::new();
    // Normalisation writes `l` as `i`; where the term is written letter for letter as the
    // span reads, its own letter says which of the two a digit or symbol stands for ("1"
    // for "l" in "Ro1ex").
    let letters = (term.is_ascii() && term.len() == end - start).then_some(term.as_bytes());
    let mut i = start;
    while i < end && listed.len() < 5 {
        let origin = normalized.origin(i);
        let mut j = i + 1;
        while j < end && normalized.origin(j) == origin {
            j += 1;
        }
        let shown = original.get(origin..).and_then(|rest| rest.chars().next());
        let mut became = std::str::from_utf8(&normalized.text[i..j]).unwrap_or_default();
        if became == "i" && letters.is_some_and(|t| t[i - start].eq_ignore_ascii_case(&b'l')) {
            became = "l";
        }
        if let Some(c) = shown
            // ASCII letters only change case (and l becomes i, as I and 1 do); a letter the
            // brand writes itself ("è" of "Lumière") stands for nothing else.
            && !c.is_ascii_alphabetic()
            && !term.contains(c)
            // Leet symbols read as punctuation stand for no letter.
            && !(symbols_apart && "!|$@".contains(c))
            && !became.trim().is_empty()
            && !c.to_lowercase().eq(became.chars())
            && !seen.iter().any(|&o| original[o..].starts_with(c))
        {
            seen.push(origin);
            let shown = if c.is_ascii() {
                format!("\"{c}\"")
            } else {
                format!("\"{c}\" (U+{:04X})", c as u32)
            };
            listed.push((shown.into(), quoted(became)));
        }
        i = j;
    }
    listed
}

/// The letters of a normalised span that pass for the term's, as the listing wrote them,
/// each with the letters it stands for, quoted: `("\"rn\"", "\"m\"")`.
pub(super) fn lookalikes_listed(
    (original, normalized): (&str, &Normalized),
    (start, end): (usize, usize),
    term: &str,
) -> Vec<(Text, Text)> {
    let name: Vec<u8> = crate::engine::normalize::normalize_term(term)
        .bytes()
        .filter(u8::is_ascii_lowercase)
        .collect();
    // The letters of the span, and where each stands: a name read across a space ("Caraba
    // Goose") is read without it.
    let (letters, at): (Vec<u8>, Vec<usize>) = (start..end)
        .filter(|&i| normalized.text[i].is_ascii_lowercase())
        .map(|i| (normalized.text[i], i))
        .unzip();
    let swaps = crate::engine::lookalike::read_as(&letters, &name).unwrap_or_default();
    swaps
        .iter()
        .map(|swap| {
            let (from, to) =
                normalized.input_span(original, at[swap.at], at[swap.at + swap.len - 1] + 1);
            (
                quoted(&original[from..to]),
                quoted(&String::from_utf8_lossy(&swap.stands_for)),
            )
        })
        .collect()
}

/// The listing's own text of a normalised span, its character offsets, and how it differs
/// from the term.
pub(super) fn text_match(
    original: &str,
    normalized: &Normalized,
    field: Field,
    start: usize,
    end: usize,
    term: &str,
) -> TextMatch {
    let (byte_start, byte_end) = normalized.input_span(original, start, end);
    let matched = &original[byte_start..byte_end];
    let char_start = original[..byte_start].chars().count();
    let char_end = char_start + matched.chars().count();
    let marks = normalized.marks_in(start, end);

    let mut methods = Vec::new();
    for (mark, method) in [
        (SPACED, MatchMethod::Spaced),
        (STYLED, MatchMethod::Styled),
        (REVERSED, MatchMethod::Reversed),
    ] {
        if marks & mark != 0 {
            methods.push(method as i32);
        }
    }
    if !same_letters(matched, term) {
        if fold(matched, true) == fold(term, true) {
            if marks & DIACRITIC != 0 && accented_letters(matched) > accented_letters(term) {
                methods.push(MatchMethod::Diacritics as i32);
            }
        } else {
            // Accents count where the listing has more than the brand writes ("Lumière"
            // has its own).
            let accents =
                marks & DIACRITIC != 0 && accented_letters(matched) > accented_letters(term);
            for (present, method) in [
                (marks & LEET != 0, MatchMethod::Leetspeak),
                (marks & CONFUSABLE != 0, MatchMethod::Confusable),
                (accents, MatchMethod::Diacritics),
            ] {
                if present {
                    methods.push(method as i32);
                }
            }
            if methods.is_empty() && same_letters(&i_for_l(matched), &i_for_l(term)) {
                // l for I, I for l: look-alikes within Latin.
                methods.push(MatchMethod::Confusable as i32);
            }
        }
    } else if marks & DIACRITIC != 0 && accented_letters(matched) > accented_letters(term) {
        // Marks that join no letter, struck through or underlined ("Guc̶ci").
        methods.push(MatchMethod::Diacritics as i32);
    }
    if !methods.contains(&(MatchMethod::Spaced as i32)) && matched.chars().any(invisible) {
        // A zero-width space or joiner inside the name separates its letters unseen.
        methods.insert(0, MatchMethod::Spaced as i32);
    }
    TextMatch {
        field: match field {
            Field::Title => TextField::Title,
            Field::Description => TextField::Description,
        } as i32,
        start: char_start as i32,
        end: char_end as i32,
        matched_text: matched.to_owned(),
        term: term.to_owned(),
        methods,
        edit_distance: 0,
        compatibility_reference: false,
    }
}

/// Letters of `text` that carry an accent or mark.
pub(super) fn accented_letters(text: &str) -> usize {
    text.chars()
        .filter(|&c| {
            let mut marked = false;
            unicode_normalization::char::decompose_canonical(c, |d| {
                marked |= is_combining_mark(d);
            });
            marked
        })
        .count()
}

/// A character that shows nothing: a zero-width space, joiner or non-joiner, a word joiner,
/// a soft hyphen.
fn invisible(c: char) -> bool {
    !c.is_ascii() && {
        let mut buf = [0u8; 4];
        unicode_security::skeleton(c.encode_utf8(&mut buf))
            .next()
            .is_none()
    }
}

pub(super) fn i_for_l(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'l' | 'L' | 'I' => 'i',
            c => c,
        })
        .collect()
}

/// Lower-case letters and digits only (and without accents if `strip_marks`).
/// Whether two texts have the same letters and digits, ignoring case, width and separators.
pub(super) fn same_letters(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        let (mut x, mut y) = (
            a.bytes().filter(u8::is_ascii_alphanumeric),
            b.bytes().filter(u8::is_ascii_alphanumeric),
        );
        loop {
            match (x.next(), y.next()) {
                (None, None) => return true,
                (Some(p), Some(q)) if p.eq_ignore_ascii_case(&q) => {}
                _ => return false,
            }
        }
    }
    fold(a, false) == fold(b, false)
}

pub(super) fn fold(text: &str, strip_marks: bool) -> String {
    let lowered: String = text
        .nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect();
    if strip_marks {
        lowered.nfd().filter(|c| !is_combining_mark(*c)).collect()
    } else {
        lowered
    }
}
