//! Text normalisation: the one canonical form in which listings and terms are compared.
//!
//! Both the catalogue's terms and every listing go through [`normalize`], so whatever it
//! folds together matches:
//! - case and width (`ＮＩＫＥ` → `nike`), compatibility forms (NFKC), accents (`Gúcci`);
//! - look-alike letters from other scripts, by the UTS #39 confusable skeleton (`Nіke` with
//!   a Cyrillic і);
//! - leetspeak: `0→o 1→i 3→e 4→a 5→s 7→t @→a $→s !→i |→i`, and `l→i` so that `1` can stand
//!   for either;
//! - separators: any run of spaces and punctuation becomes one space, and three or more
//!   single letters separated by them are joined (`N.i.k.e`, `G U C C I`);
//! - invisible characters (zero-width spaces and joiners) disappear.
//!
//! Each output byte remembers the input byte it came from and how it was transformed, so a
//! match can be reported on the listing's own text and explained.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// A character came from leetspeak (`0`, `1`, `@`, `$`, ...).
pub const LEET: u8 = 1;
/// A character came from a look-alike in another script.
pub const CONFUSABLE: u8 = 2;
/// An accent or mark was removed.
pub const DIACRITIC: u8 = 4;
/// Single letters were joined across separators.
pub const SPACED: u8 = 8;

/// A normalised text with its provenance.
#[derive(Debug, Default, Clone)]
pub struct Normalized {
    /// The canonical text, UTF-8.
    pub text: Vec<u8>,
    /// For each byte of `text`: the offset of the input byte it came from.
    pub origin: Vec<u32>,
    /// For each byte of `text`: how it was transformed (`LEET | CONFUSABLE | ...`).
    pub marks: Vec<u8>,
}

impl Normalized {
    pub fn clear(&mut self) {
        self.text.clear();
        self.origin.clear();
        self.marks.clear();
    }

    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 sequences are pushed.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    fn push_byte(&mut self, byte: u8, origin: u32, marks: u8) {
        self.text.push(byte);
        self.origin.push(origin);
        self.marks.push(marks);
    }

    fn push_char(&mut self, c: char, origin: u32, marks: u8) {
        let mut buf = [0u8; 4];
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            self.push_byte(b, origin, marks);
        }
    }

    /// A separator: one space, never two in a row, never leading.
    fn push_space(&mut self, origin: u32) {
        if self.text.last().is_some_and(|&b| b != b' ') {
            self.push_byte(b' ', origin, 0);
        }
    }

    /// The marks of every byte in `start..end`.
    pub fn marks_in(&self, start: usize, end: usize) -> u8 {
        self.marks[start..end].iter().fold(0, |acc, m| acc | m)
    }
}

/// What an ASCII byte becomes.
#[derive(Clone, Copy)]
enum Ascii {
    /// A letter or digit, mapped, with marks.
    Word(u8, u8),
    /// Kept as a symbol of its own (`1:1`, `A+`, `D&G`).
    Symbol(u8),
    /// A symbol that stands for a letter when a letter follows it (`$upreme`, `N!ke`), and
    /// is punctuation otherwise (`$100`, `wow!`).
    LeetSymbol(u8),
    /// A space or punctuation.
    Separator,
    /// Control characters vanish.
    Drop,
}

const fn ascii_table() -> [Ascii; 128] {
    let mut table = [Ascii::Separator; 128];
    let mut b = 0u8;
    while b < 128 {
        table[b as usize] = match b {
            b'a'..=b'z' => Ascii::Word(b, 0),
            b'A'..=b'Z' => Ascii::Word(b + 32, 0),
            b'2' | b'6' | b'8' | b'9' => Ascii::Word(b, 0),
            b':' | b'+' | b'&' | b'#' => Ascii::Symbol(b),
            0..=8 | 14..=31 | 127 => Ascii::Drop,
            _ => Ascii::Separator,
        };
        b += 1;
    }
    // One letter for l, I and 1: `1` stands for either, so both must meet.
    table[b'l' as usize] = Ascii::Word(b'i', 0);
    table[b'L' as usize] = Ascii::Word(b'i', 0);
    table[b'0' as usize] = Ascii::Word(b'o', LEET);
    table[b'1' as usize] = Ascii::Word(b'i', LEET);
    table[b'3' as usize] = Ascii::Word(b'e', LEET);
    table[b'4' as usize] = Ascii::Word(b'a', LEET);
    table[b'5' as usize] = Ascii::Word(b's', LEET);
    table[b'7' as usize] = Ascii::Word(b't', LEET);
    table[b'@' as usize] = Ascii::LeetSymbol(b'a');
    table[b'$' as usize] = Ascii::LeetSymbol(b's');
    table[b'!' as usize] = Ascii::LeetSymbol(b'i');
    table[b'|' as usize] = Ascii::LeetSymbol(b'i');
    table
}

static ASCII: [Ascii; 128] = ascii_table();

/// CJK ideographs pass through untouched (no case, no confusables).
fn is_cjk_ideograph(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0x20000..=0x2A6DF)
}

/// Normalises `input` into `out` (cleared first).
pub fn normalize(input: &str, out: &mut Normalized) {
    out.clear();
    out.text.reserve(input.len());
    out.origin.reserve(input.len());
    out.marks.reserve(input.len());
    let bytes = input.as_bytes();
    let mut i = 0;
    let mut single_letter_tokens = 0usize;
    let mut token_chars = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            match ASCII[b as usize] {
                Ascii::Word(mapped, marks) => {
                    out.push_byte(mapped, i as u32, marks);
                    token_chars += 1;
                }
                Ascii::LeetSymbol(mapped)
                    if bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) =>
                {
                    out.push_byte(mapped, i as u32, LEET);
                    token_chars += 1;
                }
                Ascii::Symbol(symbol) => {
                    end_token(&mut token_chars, &mut single_letter_tokens);
                    out.push_byte(symbol, i as u32, 0);
                }
                Ascii::Separator | Ascii::LeetSymbol(_) => {
                    end_token(&mut token_chars, &mut single_letter_tokens);
                    out.push_space(i as u32);
                }
                Ascii::Drop => {}
            }
            i += 1;
            continue;
        }
        let c = input[i..].chars().next().unwrap_or('\u{FFFD}');
        let origin = i as u32;
        i += c.len_utf8();
        if is_cjk_ideograph(c) {
            end_token(&mut token_chars, &mut single_letter_tokens);
            out.push_char(c, origin, 0);
            continue;
        }
        normalize_char(c, origin, out, &mut token_chars, &mut single_letter_tokens);
    }
    end_token(&mut token_chars, &mut single_letter_tokens);
    if out.text.last() == Some(&b' ') {
        out.text.pop();
        out.origin.pop();
        out.marks.pop();
    }
    if single_letter_tokens >= 3 {
        join_spaced_letters(out);
    }
}

fn end_token(token_chars: &mut usize, single_letter_tokens: &mut usize) {
    if *token_chars == 1 {
        *single_letter_tokens += 1;
    }
    *token_chars = 0;
}

/// A non-ASCII, non-ideograph character: compatibility decomposition, marks dropped,
/// lower case, then the confusable skeleton of what is still not ASCII.
fn normalize_char(
    c: char,
    origin: u32,
    out: &mut Normalized,
    token_chars: &mut usize,
    single_letter_tokens: &mut usize,
) {
    let mut dropped_mark = false;
    decompose_compatible(c, |d| {
        if is_combining_mark(d) {
            dropped_mark = true;
            return;
        }
        for lower in d.to_lowercase() {
            emit_folded(
                lower,
                origin,
                out,
                token_chars,
                single_letter_tokens,
                0,
                SKELETON_ROUNDS,
            );
        }
    });
    if dropped_mark {
        // Mark what the accent sat on.
        if let Some(last) = out.marks.last_mut() {
            *last |= DIACRITIC;
        }
    }
}

/// How many times a skeleton's prototypes are themselves mapped: lower-casing a prototype
/// can give a character with a prototype of its own, and the canonical form must be a
/// fixed point (normalising twice changes nothing).
const SKELETON_ROUNDS: u8 = 4;

/// Emits a decomposed, lower-case character; non-ASCII ones go through the confusable
/// skeleton (up to `rounds` more times), whose prototypes are decomposed and lowered in
/// turn.
fn emit_folded(
    c: char,
    origin: u32,
    out: &mut Normalized,
    token_chars: &mut usize,
    single_letter_tokens: &mut usize,
    marks: u8,
    rounds: u8,
) {
    if c.is_ascii() {
        emit_ascii(
            c as u8,
            origin,
            out,
            token_chars,
            single_letter_tokens,
            marks,
        );
        return;
    }
    if is_cjk_ideograph(c) {
        end_token(token_chars, single_letter_tokens);
        out.push_char(c, origin, marks);
        return;
    }
    let mut buf = [0u8; 4];
    let skeleton = rounds > 0;
    let mut prototypes = if skeleton {
        Some(unicode_security::skeleton(c.encode_utf8(&mut buf)))
    } else {
        None
    };
    let first = prototypes.as_mut().and_then(Iterator::next);
    match (skeleton, first) {
        // An invisible character.
        (true, None) => {}
        (true, Some(same))
            if same == c && prototypes.as_mut().and_then(Iterator::next).is_none() =>
        {
            emit_kept(c, origin, out, token_chars, single_letter_tokens, marks);
        }
        (true, Some(first)) => {
            let rest = prototypes.into_iter().flatten();
            for prototype in std::iter::once(first).chain(rest) {
                decompose_compatible(prototype, |d| {
                    if is_combining_mark(d) {
                        return;
                    }
                    for lower in d.to_lowercase() {
                        emit_folded(
                            lower,
                            origin,
                            out,
                            token_chars,
                            single_letter_tokens,
                            marks | CONFUSABLE,
                            rounds - 1,
                        );
                    }
                });
            }
        }
        (false, _) => emit_kept(c, origin, out, token_chars, single_letter_tokens, marks),
    }
}

/// A non-ASCII character that stays as it is: part of a word, or a separator.
fn emit_kept(
    c: char,
    origin: u32,
    out: &mut Normalized,
    token_chars: &mut usize,
    single_letter_tokens: &mut usize,
    marks: u8,
) {
    if c.is_alphanumeric() {
        out.push_char(c, origin, marks);
        *token_chars += 1;
    } else {
        end_token(token_chars, single_letter_tokens);
        out.push_space(origin);
    }
}

fn emit_ascii(
    b: u8,
    origin: u32,
    out: &mut Normalized,
    token_chars: &mut usize,
    single_letter_tokens: &mut usize,
    extra: u8,
) {
    match ASCII[b as usize] {
        Ascii::Word(mapped, marks) => {
            out.push_byte(mapped, origin, marks | extra);
            *token_chars += 1;
        }
        Ascii::Symbol(symbol) => {
            end_token(token_chars, single_letter_tokens);
            out.push_byte(symbol, origin, extra);
        }
        Ascii::Separator | Ascii::LeetSymbol(_) => {
            end_token(token_chars, single_letter_tokens);
            out.push_space(origin);
        }
        Ascii::Drop => {}
    }
}

/// Joins runs of three or more single-character tokens separated by single spaces:
/// `n i k e` → `nike`, marked SPACED.
fn join_spaced_letters(out: &mut Normalized) {
    let text = &out.text;
    let n = text.len();
    // Token boundaries: (start, end) of each run of non-space bytes.
    let mut tokens: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, &b) in text.iter().enumerate() {
        match (b == b' ', start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                tokens.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push((s, n));
    }
    let single = |&(s, e): &(usize, usize)| {
        let token = &text[s..e];
        std::str::from_utf8(token).is_ok_and(|t| t.chars().count() == 1)
            && token
                .iter()
                .all(|b| !matches!(b, b':' | b'+' | b'&' | b'#'))
    };
    // Spaces to remove: those inside runs of >= 3 single-character tokens.
    let mut remove = vec![false; n];
    let mut joined = vec![false; n];
    let mut run_start = 0;
    while run_start < tokens.len() {
        let mut run_end = run_start;
        while run_end < tokens.len() && single(&tokens[run_end]) {
            run_end += 1;
        }
        if run_end - run_start >= 3 {
            for pair in tokens[run_start..run_end].windows(2) {
                for flag in &mut remove[pair[0].1..pair[1].0] {
                    *flag = true;
                }
            }
            for &(s, e) in &tokens[run_start..run_end] {
                for flag in &mut joined[s..e] {
                    *flag = true;
                }
            }
        }
        run_start = run_end.max(run_start + 1);
    }
    let mut write = 0;
    for read in 0..n {
        if remove[read] {
            continue;
        }
        out.text[write] = out.text[read];
        out.origin[write] = out.origin[read];
        out.marks[write] = out.marks[read] | if joined[read] { SPACED } else { 0 };
        write += 1;
    }
    out.text.truncate(write);
    out.origin.truncate(write);
    out.marks.truncate(write);
}

/// A normalised copy of a term, for building matchers.
pub fn normalize_term(term: &str) -> String {
    let mut out = Normalized::default();
    normalize(term, &mut out);
    out.as_str().to_owned()
}

fn char_starting_at(text: &[u8], start: usize) -> Option<char> {
    let len = match *text.get(start)? {
        0..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => return None,
    };
    std::str::from_utf8(text.get(start..start + len)?)
        .ok()?
        .chars()
        .next()
}

fn char_ending_at(text: &[u8], end: usize) -> Option<char> {
    let mut start = end.checked_sub(1)?;
    while start > 0 && (text[start] & 0xC0) == 0x80 {
        start -= 1;
    }
    char_starting_at(text, start)
}

/// Letters and digits of alphabetic scripts; not spaces, symbols or ideographs.
fn is_word_char(c: Option<char>) -> bool {
    c.is_some_and(|c| {
        c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphanumeric() && !is_cjk_ideograph(c))
    })
}

/// Whether `start..end` of normalised text stands as whole words: no word character
/// continues it on either side. Ideographic text needs no spaces around it.
pub fn is_whole_word(text: &[u8], start: usize, end: usize) -> bool {
    let joined_before =
        is_word_char(char_ending_at(text, start)) && is_word_char(char_starting_at(text, start));
    let joined_after =
        is_word_char(char_starting_at(text, end)) && is_word_char(char_ending_at(text, end));
    !joined_before && !joined_after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize_term(s)
    }

    #[test]
    fn case_width_and_compatibility_forms() {
        assert_eq!(norm("NIKE Air"), "nike air");
        assert_eq!(norm("ＮＩＫＥ"), "nike");
        assert_eq!(norm("Gúcci"), "gucci");
        assert_eq!(norm("ﬁne"), "fine");
    }

    #[test]
    fn confusables_and_leetspeak() {
        assert_eq!(norm("Nіke"), "nike"); // Cyrillic і
        assert_eq!(norm("N1KE"), "nike");
        assert_eq!(norm("$upreme"), "supreme");
        assert_eq!(norm("R0lex"), "roiex");
        assert_eq!(norm("Rolex"), "roiex");
        assert_eq!(norm("N!ke"), "nike");
        assert_eq!(norm("$100 wow!"), "ioo wow");
        assert_eq!(norm("Ρrada"), "prada"); // Greek capital rho
    }

    #[test]
    fn separators_and_spaced_letters() {
        assert_eq!(norm("  Louis -- Vuitton!! "), "iouis vuitton");
        assert_eq!(norm("N.i.k.e shoes"), "nike shoes");
        assert_eq!(norm("G U C C I bag"), "gucci bag");
        assert_eq!(norm("a b bag"), "a b bag");
        assert_eq!(norm("1:1 replica"), "i:i repiica");
        assert_eq!(norm("Ni\u{200B}ke"), "nike");
        assert_eq!(norm("路易威登 包"), "路易威登 包");
    }

    #[test]
    fn marks_and_origins_point_back() {
        let input = "Top N1ke";
        let mut out = Normalized::default();
        normalize(input, &mut out);
        assert_eq!(out.as_str(), "top nike");
        let start = 4;
        assert_eq!(out.origin[start] as usize, 4);
        assert_eq!(out.marks_in(start, start + 4), LEET);

        normalize("N.I.K.E", &mut out);
        assert_eq!(out.as_str(), "nike");
        assert_eq!(out.marks_in(0, 4) & SPACED, SPACED);
        assert_eq!(out.origin[3] as usize, 6);

        normalize("Nіke", &mut out);
        assert_eq!(out.marks_in(0, out.text.len()) & CONFUSABLE, CONFUSABLE);
    }

    #[test]
    fn word_boundaries() {
        let text = b"the nike store";
        assert!(is_whole_word(text, 4, 8));
        assert!(!is_whole_word(b"unike store", 1, 5));
        let cjk = "正品路易威登包".as_bytes();
        let start = "正品".len();
        let end = start + "路易威登".len();
        assert!(is_whole_word(cjk, start, end), "ideographs need no spaces");
    }
}
