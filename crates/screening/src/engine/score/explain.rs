//! What a piece of text evidence is, said exactly: the listing's own text of a match, how
//! it differs from the term (look-alikes, accents, leetspeak, styled or reversed letters,
//! separators, a misspelling), and the sentence that says so.

use super::*;

pub(super) fn method_name(method: i32) -> &'static str {
    match MatchMethod::try_from(method).unwrap_or_default() {
        MatchMethod::Confusable => "look-alike characters",
        MatchMethod::Leetspeak => "leetspeak",
        MatchMethod::Spaced => "separators between its letters",
        MatchMethod::Fuzzy => "a misspelling",
        MatchMethod::Diacritics => "added accents",
        MatchMethod::Styled => "styled letters",
        MatchMethod::Reversed => "writing it backwards under a right-to-left override",
        MatchMethod::Exact | MatchMethod::Unspecified => "exactly",
    }
}

pub(super) fn text_explanation(
    detail: &TextMatch,
    text: &TextEvidence,
    brand: &str,
    substitutions: &str,
) -> String {
    use std::fmt::Write as _;
    let what = match text.strength {
        _ if text.compat => "names what the product fits:",
        _ if text.real_word => "is a real word close to",
        Strength::Distinctive => "matches",
        Strength::Ambiguous => "is an ordinary word that matches",
        Strength::Partial => "matches part of",
        Strength::Common => "is a common word that is part of",
    };
    let mut explanation = sentence!(
        "{:?} in the {} {what} brand {brand:?}",
        detail.matched_text,
        field_name(text.field)
    );
    for (i, method) in detail.methods.iter().enumerate() {
        explanation.push_str(if i == 0 { " through " } else { " and " });
        explanation.push_str(method_name(*method));
    }
    if !substitutions.is_empty() {
        let _ = write!(explanation, " ({substitutions})");
    }
    if detail.edit_distance > 0 {
        let _ = write!(
            explanation,
            " ({} letter{} off {:?})",
            detail.edit_distance,
            if detail.edit_distance == 1 { "" } else { "s" },
            detail.term
        );
    }
    explanation
}

/// The characters of a normalised span that stand for other letters, as the listing wrote
/// them: `"0" for "o", "с" (U+0441) for "c"`. At most four, each once.
pub(super) fn substitutions(
    original: &str,
    normalized: &Normalized,
    start: usize,
    end: usize,
    term: &str,
) -> String {
    use std::fmt::Write as _;
    let mut seen: Vec<(usize, &str)> = Vec::new();
    let mut listed = String::new();
    let mut i = start;
    while i < end {
        let origin = normalized.origin(i);
        let mut j = i + 1;
        while j < end && normalized.origin(j) == origin {
            j += 1;
        }
        let shown = original.get(origin..).and_then(|rest| rest.chars().next());
        let became = std::str::from_utf8(&normalized.text[i..j]).unwrap_or_default();
        if let Some(c) = shown
            // ASCII letters only change case (and l becomes i, as I and 1 do); a letter the
            // brand writes itself ("è" of "Lumière") stands for nothing else.
            && !c.is_ascii_alphabetic()
            && !term.contains(c)
            && !became.trim().is_empty()
            && !c.to_lowercase().eq(became.chars())
            && !seen.iter().any(|&(o, _)| original[o..].starts_with(c))
        {
            seen.push((origin, became));
            if seen.len() <= 4 {
                if !listed.is_empty() {
                    listed.push_str(", ");
                }
                let _ = write!(listed, "\"{c}\"");
                if !c.is_ascii() {
                    let _ = write!(listed, " (U+{:04X})", c as u32);
                }
                let _ = write!(listed, " for \"{became}\"");
            }
        }
        i = j;
    }
    if seen.len() > 4 {
        listed.push_str(", ...");
    }
    listed
}

/// The letters of a normalised span that pass for the term's, as the listing wrote them:
/// `"rn" for "m", "q" for "g"`.
pub(super) fn lookalikes_listed(
    (original, normalized): (&str, &Normalized),
    (start, end): (usize, usize),
    term: &str,
) -> String {
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
    let listed: Vec<String> = swaps
        .iter()
        .map(|swap| {
            let (from, to) =
                normalized.input_span(original, at[swap.at], at[swap.at + swap.len - 1] + 1);
            format!(
                "{:?} for {:?}",
                &original[from..to],
                String::from_utf8_lossy(&swap.stands_for)
            )
        })
        .collect();
    listed.join(", ")
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
