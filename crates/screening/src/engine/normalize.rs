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
//! - invisible characters (zero-width spaces and joiners) disappear;
//! - styled and enclosed letters (`𝐍𝐢𝐤𝐞`, `🅽🅸🅺🅴`, `ɴɪᴋᴇ`) become plain ones;
//! - text under a right-to-left override is read in the order it is shown, so a name
//!   written backwards to appear forwards (`\u{202E}ekiN`) reads `nike`.
//!
//! Each output byte remembers the input byte it came from and how it was transformed, so a
//! match can be reported on the listing's own text and explained.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use unicode_normalization::{IsNormalized, is_nfc_quick, is_nfkc_quick};

use super::fuzzy::MAX_WORD;
use super::lexicon::Spelling;

/// A character came from leetspeak (`0`, `1`, `@`, `$`, ...).
pub const LEET: u8 = 1;
/// A character came from a look-alike in another script.
pub const CONFUSABLE: u8 = 2;
/// An accent or mark was removed.
pub const DIACRITIC: u8 = 4;
/// Single letters were joined across separators.
pub const SPACED: u8 = 8;
/// A styled, enclosed or small-capital letter (not full width, which is how CJK keyboards
/// type Latin letters).
pub const STYLED: u8 = 16;
/// Written backwards under a right-to-left override.
pub const REVERSED: u8 = 32;
/// A space that stands for punctuation, symbols or emoji written right after a word with no
/// white space ("Gu-cci", "Ro+lex", "Gu🔥cci"): perhaps one word broken on purpose.
pub const SOFT: u8 = 64;

/// Inputs are normalised up to this many bytes.
pub const MAX_INPUT: usize = u32::MAX as usize;

/// A normalised text with its provenance.
///
/// Provenance is sparse: most output bytes come one for one from consecutive input bytes,
/// so only the points where that correspondence restarts are kept (`anchors`), and only
/// the bytes that were transformed carry marks (`marks`). The hot loop writes little more
/// than the text.
#[derive(Debug, Default, Clone)]
pub struct Normalized {
    /// The canonical text, UTF-8.
    pub text: Vec<u8>,
    /// (output offset, input offset): from this output byte on, output byte `o + n` came
    /// from input byte `i + n`, until the next anchor. Sorted by output offset.
    anchors: Vec<(u32, u32)>,
    /// (output offset, marks) of transformed bytes, sorted by output offset.
    marks: Vec<(u32, u8)>,
    track: bool,
    /// Whether the text holds a symbol kept as one (`+`, `:`, `&`, `#`).
    symbols: bool,
}

impl Normalized {
    pub fn clear(&mut self) {
        self.text.clear();
        self.anchors.clear();
        self.marks.clear();
        self.symbols = false;
    }

    /// Whether words of the text may be broken apart: a symbol or a soft space in it.
    pub fn has_breaks(&self) -> bool {
        self.symbols || self.marks.iter().any(|&(_, m)| m & SOFT != 0)
    }

    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 sequences are pushed.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// The input offset byte `i` of the text came from (0 without provenance).
    pub fn origin(&self, i: usize) -> usize {
        let i = i as u32;
        let at = self.anchors.partition_point(|&(out, _)| out <= i);
        match at.checked_sub(1).map(|a| self.anchors[a]) {
            Some((out, input)) => (input + (i - out)) as usize,
            None => 0,
        }
    }

    /// How the word at `start..end` of the text was written in `input`, the text it was
    /// normalised from, as far as the lexicon needs to know: which of its `i`s were `l`s.
    /// `buf` holds the word as written.
    pub(crate) fn spelling<'b>(
        &self,
        input: &str,
        (start, end): (usize, usize),
        buf: &'b mut [u8; MAX_WORD],
    ) -> Spelling<'b> {
        let word = &self.text[start..end];
        if self.marks_in(start, end) & LEET != 0 {
            return Spelling::Leet;
        }
        if !word.contains(&b'i') {
            return Spelling::WithoutL;
        }
        if !self.track || word.len() > buf.len() {
            return Spelling::Either;
        }
        // A word written byte for byte as it reads lies under one anchor; one that is not
        // was written in other letters, which could be either.
        let next = self
            .anchors
            .partition_point(|&(out, _)| out as usize <= start);
        if self
            .anchors
            .get(next)
            .is_some_and(|&(out, _)| (out as usize) < end)
        {
            return Spelling::Either;
        }
        let Some(&(out, from)) = next.checked_sub(1).map(|a| &self.anchors[a]) else {
            return Spelling::Either;
        };
        let first = from as usize + (start - out as usize);
        let Some(written) = input.as_bytes().get(first..first + word.len()) else {
            return Spelling::Either;
        };
        let mut with_l = false;
        for ((&b, &w), out) in word.iter().zip(written).zip(buf.iter_mut()) {
            *out = match (b, w) {
                (b'i', b'l' | b'L') => {
                    with_l = true;
                    b'l'
                }
                (b'i', b'i' | b'I') => b'i',
                // Not a letter, yet not marked as leetspeak either: keep the old reading.
                (b'i', _) => return Spelling::Either,
                _ => b,
            };
        }
        if with_l {
            Spelling::WithL(&buf[..word.len()])
        } else {
            Spelling::WithoutL
        }
    }

    /// [`Normalized::spelling`], asked later if at all.
    pub(crate) fn ask_spelling<'b>(
        &'b self,
        input: &'b str,
        span: (usize, usize),
        buf: &'b mut [u8; MAX_WORD],
    ) -> impl FnOnce() -> Spelling<'b> {
        move || self.spelling(input, span, buf)
    }

    /// The input offset of every byte of the text.
    pub fn origins(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.text.len()).map(|i| self.origin(i))
    }

    /// The input offset the next output byte would have without a new anchor.
    fn predicted(&self) -> Option<u32> {
        self.anchors
            .last()
            .map(|&(out, input)| input + (self.text.len() as u32 - out))
    }

    /// Records that the next output byte comes from input byte `origin`.
    fn anchor(&mut self, origin: u32) {
        if self.track && self.predicted() != Some(origin) {
            self.anchors.push((self.text.len() as u32, origin));
        }
    }

    fn push_byte(&mut self, byte: u8, origin: u32, marks: u8) {
        if self.track {
            self.anchor(origin);
            if marks != 0 {
                self.marks.push((self.text.len() as u32, marks));
            }
        }
        self.text.push(byte);
    }

    fn push_char(&mut self, c: char, origin: u32, marks: u8) {
        let mut buf = [0u8; 4];
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            self.push_byte(b, origin, marks);
        }
    }

    /// Where scripts meet, a word ends: "正品Gucci包" is "正品 gucci 包". Called before a
    /// letter or digit.
    fn break_after_ideograph(&mut self, origin: u32) {
        if ends_with_ideograph(&self.text) {
            self.push_space(origin);
        }
    }

    /// An ideograph, after a space if it follows a letter or digit.
    fn push_ideograph(&mut self, c: char, origin: u32, marks: u8) {
        let after_word = match self.text.last() {
            Some(&b) if b < 0x80 => b.is_ascii_alphanumeric(),
            Some(_) => char_ending_at(&self.text, self.text.len())
                .is_some_and(|p| p.is_alphanumeric() && !is_cjk_ideograph(p)),
            None => false,
        };
        if after_word {
            self.push_space(origin);
        }
        self.push_char(c, origin, marks);
    }

    /// A separator: one space, never two in a row, never leading.
    fn push_space(&mut self, origin: u32) {
        if self.text.last().is_some_and(|&b| b != b' ') {
            self.push_byte(b' ', origin, 0);
        }
    }

    /// A separator written in the text: a soft space if it is not white space and follows a
    /// word; white space after it makes it an ordinary one.
    fn push_separator(&mut self, origin: u32, whitespace: bool) {
        match self.text.last() {
            Some(&b' ') if whitespace => self.unsoften_last(),
            Some(&b' ') | None => {}
            Some(_) => self.push_byte(b' ', origin, if whitespace { 0 } else { SOFT }),
        }
    }

    /// The last byte, a space, is an ordinary one after all.
    fn unsoften_last(&mut self) {
        let last = self.text.len() as u32 - 1;
        if let Some(at) = self.marks.iter().rposition(|&(at, _)| at == last) {
            self.marks[at].1 &= !SOFT;
            if self.marks[at].1 == 0 {
                self.marks.remove(at);
            }
        }
    }

    fn mark_last(&mut self, marks: u8) {
        if self.track && !self.text.is_empty() {
            let last = self.text.len() as u32 - 1;
            match self.marks.last_mut() {
                Some((at, existing)) if *at == last => *existing |= marks,
                _ => self.marks.push((last, marks)),
            }
        }
    }

    fn pop(&mut self) {
        self.text.pop();
        let len = self.text.len() as u32;
        while self.anchors.last().is_some_and(|&(out, _)| out >= len) && self.anchors.len() > 1 {
            self.anchors.pop();
        }
        while self.marks.last().is_some_and(|&(out, _)| out >= len) {
            self.marks.pop();
        }
    }

    /// The input offsets a span of the text came from: the first byte of the first and the
    /// end of the last character, in input order (a span read under a right-to-left
    /// override came from its input backwards).
    pub fn input_span(&self, input: &str, start: usize, end: usize) -> (usize, usize) {
        let (mut first, mut last) = (usize::MAX, 0);
        for i in start..end {
            let origin = self.origin(i);
            first = first.min(origin);
            last = last.max(origin);
        }
        let first = first.min(input.len());
        let last = last.clamp(first, input.len());
        let end = last + input[last..].chars().next().map_or(0, char::len_utf8);
        (first, end)
    }

    /// The offsets of the bytes that carry `mark`, in order.
    pub fn marked(&self, mark: u8) -> impl Iterator<Item = usize> + '_ {
        self.marks
            .iter()
            .filter(move |&&(_, m)| m & mark != 0)
            .map(|&(at, _)| at as usize)
    }

    /// Whether every byte in `start..end` carries `mark`.
    pub fn all_marked(&self, start: usize, end: usize, mark: u8) -> bool {
        let first = self.marks.partition_point(|&(at, _)| (at as usize) < start);
        let marked = self.marks[first..]
            .iter()
            .take_while(|&&(at, _)| (at as usize) < end)
            .filter(|&&(_, m)| m & mark != 0)
            .count();
        end > start && marked == end - start
    }

    /// The letters in `start..end` written as leet symbols in `input`, the text this was
    /// normalised from: the bar of "Ch|loe", which may be punctuation after all.
    pub(crate) fn symbol_letters<'s>(
        &'s self,
        input: &'s str,
        (start, end): (usize, usize),
    ) -> impl Iterator<Item = usize> + 's {
        let first = self.marks.partition_point(|&(at, _)| (at as usize) < start);
        self.marks[first..]
            .iter()
            .take_while(move |&&(at, _)| (at as usize) < end)
            .filter(|&&(_, m)| m & LEET != 0)
            .map(|&(at, _)| at as usize)
            .filter(move |&at| {
                let written = input.as_bytes().get(self.origin(at));
                written.is_some_and(|&b| {
                    matches!(ASCII.get(usize::from(b)), Some(Ascii::LeetSymbol(_)))
                })
            })
    }

    /// The marks of every byte in `start..end` (0 without provenance).
    pub fn marks_in(&self, start: usize, end: usize) -> u8 {
        let first = self.marks.partition_point(|&(at, _)| (at as usize) < start);
        self.marks[first..]
            .iter()
            .take_while(|&&(at, _)| (at as usize) < end)
            .fold(0, |acc, &(_, m)| acc | m)
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
            // `#` is punctuation: a hashtag's word is a word ("#gucci").
            b':' | b'+' | b'&' => Ascii::Symbol(b),
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

/// Whether the leet symbol at `at` stands for a letter: a letter follows it, perhaps after a
/// leet symbol or two more ("Fo$$il"). Otherwise it is punctuation ("Gucci!", "$50").
fn leet_letter(bytes: &[u8], at: usize) -> bool {
    bytes[at + 1..]
        .iter()
        .take(3)
        .find(|&&b| !matches!(ASCII.get(usize::from(b)), Some(Ascii::LeetSymbol(_))))
        .is_some_and(u8::is_ascii_alphabetic)
}

/// The output byte of letters, digits and plain separators (`b' '`) with their marks, and 0
/// for what needs the slow path (symbols, leet symbols, control bytes).
const fn fast_table() -> ([u8; 128], [u8; 128]) {
    let mut bytes = [0u8; 128];
    let mut marks = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        match ASCII[b] {
            Ascii::Word(mapped, m) => {
                bytes[b] = mapped;
                marks[b] = m;
            }
            Ascii::Separator => bytes[b] = b' ',
            Ascii::Symbol(_) | Ascii::LeetSymbol(_) | Ascii::Drop => {}
        }
        b += 1;
    }
    (bytes, marks)
}

/// The hot loop's table: letters, digits and separators that pass without marks (not the
/// leetspeak digits, which take the slower path).
static PLAIN: [u8; 128] = {
    let (bytes, marks) = fast_table();
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        // Punctuation may make a soft space (see `SOFT`): the slower path decides.
        let punctuation = bytes[b] == b' ' && !(b as u8).is_ascii_whitespace();
        if marks[b] == 0 && !punctuation {
            table[b] = bytes[b];
        }
        b += 1;
    }
    table
};

pub(crate) const LETTER: u8 = 1;
pub(crate) const DIGIT: u8 = 2;

/// What a byte of normalised text is: 0 for anything but an ASCII letter or digit. One load
/// per byte where the word walk spends most of its time.
pub(crate) static BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = if byte.is_ascii_alphabetic() {
            LETTER
        } else if byte.is_ascii_digit() {
            DIGIT
        } else {
            0
        };
        b += 1;
    }
    table
};

/// CJK ideographs pass through untouched (no case, no confusables).
pub fn is_cjk_ideograph(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0x20000..=0x2A6DF)
}

/// Normalises `input` into `out` (cleared first).
///
/// The text of a listing starts with a space, so every word, the first too, follows one:
/// the matcher's brand patterns begin with a space and so only ever match at word starts.
pub fn normalize(input: &str, out: &mut Normalized) {
    out.track = true;
    normalize_into::<true>(input, out);
}

/// Like [`normalize`], without provenance: the same text, for terms.
pub fn normalize_text(input: &str, out: &mut Normalized) {
    out.track = false;
    normalize_into::<false>(input, out);
}

fn normalize_into<const TRACK: bool>(input: &str, out: &mut Normalized) {
    if !input.is_ascii() && input.contains(RIGHT_TO_LEFT_OVERRIDE) {
        normalize_overridden::<TRACK>(input, out);
        return;
    }
    normalize_shown::<TRACK>(input, out);
}

const RIGHT_TO_LEFT_OVERRIDE: char = '\u{202E}';
/// What ends an override: the end of the embedding or isolate, or of the line.
fn ends_override(c: char) -> bool {
    matches!(c, '\u{202C}' | '\u{2069}' | '\n' | '\r' | '\u{2029}')
}

/// Normalises text with right-to-left overrides in the order a reader sees it: each
/// overridden run reversed, its bytes marked [`REVERSED`], provenance pointing back into
/// `input`.
#[cold]
fn normalize_overridden<const TRACK: bool>(input: &str, out: &mut Normalized) {
    // The text as shown, and per char of it: (offset in shown, offset in input, reversed).
    let mut shown = String::with_capacity(input.len());
    let mut map: Vec<(u32, u32, bool)> = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != RIGHT_TO_LEFT_OVERRIDE {
            map.push((shown.len() as u32, at as u32, false));
            shown.push(c);
            continue;
        }
        let mut run = Vec::new();
        while let Some(&(at, c)) = chars.peek() {
            if ends_override(c) {
                break;
            }
            run.push((at, c));
            chars.next();
        }
        for (at, c) in run.into_iter().rev() {
            map.push((shown.len() as u32, at as u32, true));
            shown.push(c);
        }
    }
    normalize_shown::<TRACK>(&shown, out);
    if !TRACK {
        return;
    }
    let origins: Vec<usize> = out.origins().collect();
    let mut marks = vec![0u8; origins.len()];
    for &(at, m) in &out.marks {
        if let Some(slot) = marks.get_mut(at as usize) {
            *slot |= m;
        }
    }
    out.anchors.clear();
    out.marks.clear();
    for (w, &origin) in origins.iter().enumerate() {
        let at = map
            .partition_point(|&(s, _, _)| s as usize <= origin)
            .saturating_sub(1);
        let (shown_at, input_at, reversed) = map.get(at).copied().unwrap_or_default();
        anchor_at(
            &mut out.anchors,
            w,
            input_at as usize + (origin - shown_at as usize),
        );
        let m = marks[w]
            | if reversed && out.text[w] != b' ' {
                REVERSED
            } else {
                0
            };
        if m != 0 {
            out.marks.push((w as u32, m));
        }
    }
}

fn normalize_shown<const TRACK: bool>(input: &str, out: &mut Normalized) {
    out.clear();
    if TRACK {
        out.push_byte(b' ', 0, 0);
    }
    let mut end = input.len().min(MAX_INPUT - 1);
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    let input = &input[..end];
    out.text.reserve(input.len());
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] < 0x80 {
            // Control bytes vanish, so the first byte that shows decides whether a word
            // starts here.
            let shown = bytes[i..]
                .iter()
                .position(|&b| b >= 0x80 || !matches!(ASCII[usize::from(b)], Ascii::Drop))
                .map_or(bytes.len(), |n| i + n);
            let word = match bytes.get(shown).map(|&b| ASCII.get(usize::from(b))) {
                Some(Some(Ascii::Word(..))) => true,
                Some(Some(Ascii::LeetSymbol(_))) => leet_letter(bytes, shown),
                _ => false,
            };
            if word {
                out.break_after_ideograph(shown as u32);
            }
            i = ascii_run::<TRACK>(bytes, i, out);
            continue;
        }
        let c = input[i..].chars().next().unwrap_or('\u{FFFD}');
        let origin = i as u32;
        i += c.len_utf8();
        if is_cjk_ideograph(c) {
            out.push_ideograph(c, origin, 0);
            continue;
        }
        normalize_char(c, origin, out);
    }
    if out.text.last() == Some(&b' ') {
        out.pop();
    }
    if single_letter_tokens(&out.text) >= 2 {
        join_spaced_letters(out);
    }
}

fn ends_with_ideograph(text: &[u8]) -> bool {
    text.last().is_some_and(|&b| b >= 0x80)
        && char_ending_at(text, text.len()).is_some_and(is_cjk_ideograph)
}

/// How many tokens of normalised text are one character long. Mostly a branch-free count
/// of ASCII letters with a space on either side, which the compiler vectorises; tokens of
/// one multi-byte character are rare and counted apart.
fn single_letter_tokens(text: &[u8]) -> usize {
    if text.is_ascii() {
        // Branch-free, so the compiler vectorises it.
        let inner = text
            .iter()
            .zip(&text[1.min(text.len())..])
            .zip(&text[2.min(text.len())..])
            .map(|((&a, &b), &c)| u32::from((a == b' ') & (b != b' ') & (c == b' ')))
            .sum::<u32>() as usize;
        let first = text.len() >= 2 && text[0] != b' ' && text[1] == b' ';
        let last = text.len() >= 2 && text[text.len() - 1] != b' ' && text[text.len() - 2] == b' ';
        let only = text.len() == 1 && text[0] != b' ';
        return inner + usize::from(first) + usize::from(last) + usize::from(only);
    }
    let mut count = 0;
    let mut k = 0;
    while k < text.len() {
        if text[k] == b' ' {
            k += 1;
            continue;
        }
        let len = utf8_len(text[k]);
        let token_start = k == 0 || text[k - 1] == b' ';
        let token_end = text.get(k + len).is_none_or(|&b| b == b' ');
        count += usize::from(token_start && token_end);
        k += len;
    }
    count
}

fn utf8_len(lead: u8) -> usize {
    match lead {
        0..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// Normalises the run of ASCII bytes starting at `start`; returns where it ended.
///
/// The common case, kept free of unpredictable branches: the run's output is at most as
/// long as the run, so it is written into space made for it at once; every byte is
/// written, and a separator right after a separator is taken back by not advancing.
fn ascii_run<const TRACK: bool>(bytes: &[u8], start: usize, out: &mut Normalized) -> usize {
    let end = bytes[start..]
        .iter()
        .position(|&b| b >= 0x80)
        .map_or(bytes.len(), |n| start + n);
    let base = out.text.len();
    let previous_space = base == 0 || out.text[base - 1] == b' ';
    out.text.resize(base + (end - start), 0);
    let mut state = RunState {
        w: base,
        previous_space,
    };
    if TRACK {
        anchor_at(&mut out.anchors, base, start);
    }
    let mut i = start;
    while i < end {
        i += map_plain(&bytes[i..end], &mut out.text, &mut state);
        if i >= end {
            break;
        }
        // What the hot loop leaves: a byte with marks, a separator after a separator, a
        // symbol, a leet symbol, or a control byte.
        let b = bytes[i];
        let (mapped, marks) = match ASCII[usize::from(b & 0x7F)] {
            Ascii::Word(mapped, marks) => (mapped, marks),
            Ascii::LeetSymbol(mapped) if leet_letter(bytes, i) => (mapped, LEET),
            Ascii::Symbol(symbol) => {
                out.symbols = true;
                (symbol, 0)
            }
            Ascii::Separator | Ascii::LeetSymbol(_) => (b' ', 0),
            Ascii::Drop => (0, 0),
        };
        let whitespace = b.is_ascii_whitespace();
        if mapped == 0 || (mapped == b' ' && state.previous_space) {
            // Dropped: the next output byte comes from the next input byte.
            if TRACK {
                anchor_at(&mut out.anchors, state.w, i + 1);
                if mapped == b' ' && whitespace && state.w > 0 {
                    // "Gucci- bag": the space is an ordinary one.
                    if let Some(last) = out.marks.last_mut()
                        && last.0 as usize == state.w - 1
                    {
                        last.1 &= !SOFT;
                        if last.1 == 0 {
                            out.marks.pop();
                        }
                    }
                }
            }
        } else {
            let marks = if mapped == b' ' && !whitespace && state.w > 0 {
                SOFT
            } else {
                marks
            };
            if TRACK {
                anchor_at(&mut out.anchors, state.w, i);
                if marks != 0 {
                    out.marks.push((state.w as u32, marks));
                }
            }
            out.text[state.w] = mapped;
            state.w += 1;
            state.previous_space = mapped == b' ';
        }
        i += 1;
    }
    out.text.truncate(state.w);
    end
}

/// Records that output byte `w` comes from input byte `origin`, unless the last anchor
/// already says so.
fn anchor_at(anchors: &mut Vec<(u32, u32)>, w: usize, origin: usize) {
    let (w, origin) = (w as u32, origin as u32);
    let predicted = anchors.last().map(|&(out, input)| input + (w - out.min(w)));
    if predicted != Some(origin) || anchors.last().is_some_and(|&(out, _)| out > w) {
        anchors.push((w, origin));
    }
}

/// Where a run of ASCII stands between calls of [`map_plain`].
struct RunState {
    /// Next output position.
    w: usize,
    previous_space: bool,
}

/// The hot loop: maps bytes that go through unchanged in position and unmarked — letters,
/// plain digits, a separator after a word — until it meets any other, and returns how many
/// it consumed. Output byte `w` comes from input byte `w + (start - state.w)` throughout,
/// so provenance needs no entry here, and the loop touches nothing but the two slices.
///
/// Eight bytes at a time where they are letters and single spaces (most text), a byte at
/// a time through the eight where they are not.
#[inline(never)]
fn map_plain(input: &[u8], text: &mut [u8], state: &mut RunState) -> usize {
    let out = &mut text[state.w..];
    let n = input.len().min(out.len());
    let (input, out) = (&input[..n], &mut out[..n]);
    let mut previous_space = state.previous_space;
    let mut k = 0;
    let consumed = 'run: loop {
        if let (Some(chunk), Some(to)) = (input.get(k..k + 8), out.get_mut(k..k + 8)) {
            let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            let lowered = x | (ascii_within(x, b'A', b'Z') >> 2);
            let space = ascii_within(x, b' ', b' ');
            let plain = ascii_within(lowered, b'a', b'z') | space;
            // A space after a space, within the eight or before them.
            let doubled = space & ((space << 8) | (u64::from(previous_space) << 7));
            if x & HIGH_BITS == 0 && plain == HIGH_BITS && doubled == 0 {
                // `l` is written `i` (see `ascii_table`).
                let ells = ascii_within(lowered, b'l', b'l') >> 7;
                to.copy_from_slice(&(lowered ^ (ells * u64::from(b'l' ^ b'i'))).to_le_bytes());
                previous_space = space >> 63 != 0;
                k += 8;
                continue;
            }
        }
        for _ in 0..8 {
            let Some(&b) = input.get(k) else {
                break 'run k;
            };
            let mapped = PLAIN[usize::from(b & 0x7F)];
            // 0: not plain; a space after a space must be dropped.
            if mapped == 0 || (mapped == b' ') & previous_space {
                break 'run k;
            }
            out[k] = mapped;
            previous_space = mapped == b' ';
            k += 1;
        }
    };
    state.w += consumed;
    state.previous_space = previous_space;
    consumed
}

const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `x`, each an ASCII byte, that lie in `low..=high`, as their high bits.
/// Adding `0x80 - c` to a byte below 0x80 sets its high bit exactly when it is at least
/// `c`, and carries into no other byte.
#[inline(always)]
fn ascii_within(x: u64, low: u8, high: u8) -> u64 {
    let at_least = |c: u8| x.wrapping_add(u64::from(0x80 - c) * 0x0101_0101_0101_0101) & HIGH_BITS;
    at_least(low) & !at_least(high + 1)
}

/// A non-ASCII, non-ideograph character: styled letters to plain ones, compatibility
/// decomposition, marks dropped, then the confusable skeleton and lower case of what is
/// still not ASCII.
fn normalize_char(c: char, origin: u32, out: &mut Normalized) {
    if is_sign_spelled_in_letters(c) {
        out.push_separator(origin, false);
        return;
    }
    if let Some(letter) = styled_letter(c) {
        emit_ascii(letter, origin, out, STYLED);
        return;
    }
    if let Some(letter) = mark_drawn_as_a_letter(c, out) {
        emit_ascii(letter, origin, out, CONFUSABLE);
        return;
    }
    // A compatibility form of something else (mathematical, circled, superscript,
    // ligature) is a styled letter; full width is how CJK keyboards type Latin letters.
    let full_width = matches!(c as u32, 0xFF00..=0xFFEF);
    let styled = !full_width
        && is_nfkc_quick(std::iter::once(c)) == IsNormalized::No
        && is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes;
    if styled && !decomposes_to_ascii(c) {
        // A compatibility form of a non-Latin letter that looks Latin (the lunate sigma
        // `ϲ` is a `c`, though it decomposes to `ς`): the look decides.
        let mut buf = [0u8; 4];
        let skeleton: String = unicode_security::skeleton(c.encode_utf8(&mut buf)).collect();
        if !skeleton.is_empty() && skeleton.bytes().all(|p| p.is_ascii_alphanumeric()) {
            for prototype in skeleton.bytes() {
                emit_ascii(prototype, origin, out, CONFUSABLE);
            }
            return;
        }
    }
    let marks = if styled { STYLED } else { 0 };
    let mut dropped_mark = false;
    decompose_compatible(c, |d| {
        if is_combining_mark(d) {
            dropped_mark = true;
            return;
        }
        emit_folded(d, origin, out, marks, SKELETON_ROUNDS);
    });
    if dropped_mark {
        // Mark what the accent sat on.
        out.mark_last(DIACRITIC);
    }
}

/// A mark that is drawn like a Latin letter, where it stands for one: the iota subscripts
/// `˛` and `ͺ` (an `i` in Unicode's confusables before version 15, and in tools still
/// built on them), which compatibility would make a space and an accent; and a spacing
/// mark of another script right after a Latin letter, which the confusables read as a
/// letter (the Telugu anusvara `ం` is an `o`: "Rంlex"). After a letter of its own script
/// such a mark is what it is.
fn mark_drawn_as_a_letter(c: char, out: &Normalized) -> Option<u8> {
    if matches!(c, '\u{02DB}' | '\u{037A}') {
        return Some(b'i');
    }
    if !is_combining_mark(c) || !out.text.last().is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut buf = [0u8; 4];
    let mut skeleton = unicode_security::skeleton(c.encode_utf8(&mut buf));
    match (skeleton.next(), skeleton.next()) {
        (Some(letter), None) if letter.is_ascii_alphanumeric() => {
            Some(letter.to_ascii_lowercase() as u8)
        }
        _ => None,
    }
}

/// A sign that compatibility spells in letters: trade marks, units and the like, from the
/// letterlike and CJK compatibility symbols ("™" is "TM", "㎏" is "kg", "℡" is "TEL"). It
/// is no part of a word beside it ("GUCCI™" is not the word "guccitm"), so it separates.
fn is_sign_spelled_in_letters(c: char) -> bool {
    if !matches!(c as u32, 0x2100..=0x214F | 0x3200..=0x33FF) {
        return false;
    }
    let (mut count, mut letter) = (0, false);
    decompose_compatible(c, |d| {
        count += 1;
        letter |= d.is_ascii_alphabetic();
    });
    count >= 2 && letter
}

fn decomposes_to_ascii(c: char) -> bool {
    let mut ascii = true;
    decompose_compatible(c, |d| ascii &= d.is_ascii_alphanumeric());
    ascii
}

/// Letters that Unicode gives no decomposition to, though they are only styled Latin
/// letters: negative circled and negative squared capitals, regional indicators, and the
/// small capitals of phonetic alphabets.
fn styled_letter(c: char) -> Option<u8> {
    let offset = |base: u32| (c as u32 - base) as u8;
    Some(match c as u32 {
        0x1F150..=0x1F169 => b'a' + offset(0x1F150),
        0x1F170..=0x1F189 => b'a' + offset(0x1F170),
        0x1F1E6..=0x1F1FF => b'a' + offset(0x1F1E6),
        // Parenthesised letters, which compatibility would write as "(g)": one letter.
        0x249C..=0x24B5 => b'a' + offset(0x249C),
        0x1F110..=0x1F129 => b'a' + offset(0x1F110),
        _ => {
            let at = SMALL_CAPITALS.iter().position(|&(small, _)| small == c)?;
            SMALL_CAPITALS[at].1
        }
    })
}

/// Small capitals and the Greek letters written like them.
const SMALL_CAPITALS: &[(char, u8)] = &[
    ('ᴀ', b'a'),
    ('ʙ', b'b'),
    ('ᴄ', b'c'),
    ('ᴅ', b'd'),
    ('ᴇ', b'e'),
    ('ꜰ', b'f'),
    ('ɢ', b'g'),
    ('ʜ', b'h'),
    ('ɪ', b'i'),
    ('ᴊ', b'j'),
    ('ᴋ', b'k'),
    ('ʟ', b'i'),
    ('ᴍ', b'm'),
    ('ɴ', b'n'),
    ('ᴏ', b'o'),
    ('ᴘ', b'p'),
    ('ꞯ', b'q'),
    ('ʀ', b'r'),
    ('ꜱ', b's'),
    ('ᴛ', b't'),
    ('ᴜ', b'u'),
    ('ᴠ', b'v'),
    ('ᴡ', b'w'),
    ('ʏ', b'y'),
    ('ᴢ', b'z'),
    ('ᴦ', b'r'),
    ('ᴧ', b'a'),
    ('ᴨ', b'n'),
    ('ᴩ', b'p'),
    ('ᴪ', b'w'),
];

/// Cyrillic and Greek small letters that the confusables data leaves alone, though a name
/// spelt in them reads as Latin (`Νικε`, `Ьоѕе`): shaped like a Latin letter, or like its
/// small capital.
const LOOKALIKES: &[(char, u8)] = &[
    ('ь', b'b'),
    ('в', b'b'),
    ('к', b'k'),
    ('м', b'm'),
    ('т', b't'),
    ('н', b'h'),
    ('г', b'r'),
    ('п', b'n'),
    ('ԍ', b'g'),
    ('ѵ', b'v'),
    ('κ', b'k'),
    ('ε', b'e'),
    ('ι', b'i'),
    ('ν', b'v'),
    ('τ', b't'),
    ('υ', b'u'),
    ('γ', b'y'),
    ('η', b'n'),
    ('ω', b'w'),
    ('χ', b'x'),
    ('ρ', b'p'),
    ('α', b'a'),
    ('ο', b'o'),
    ('β', b'b'),
];

/// How many times a skeleton's prototypes are themselves mapped: lower-casing a prototype
/// can give a character with a prototype of its own, and the canonical form must be a
/// fixed point (normalising twice changes nothing).
const SKELETON_ROUNDS: u8 = 4;

/// Emits a decomposed character; non-ASCII ones go through the confusable skeleton (up to
/// `rounds` more times) in the case they are written in — a Greek capital nu looks like N,
/// its small letter like v — and then in lower case; prototypes are decomposed in turn.
fn emit_folded(c: char, origin: u32, out: &mut Normalized, marks: u8, rounds: u8) {
    if c.is_ascii() {
        emit_ascii(c as u8, origin, out, marks);
        return;
    }
    if is_cjk_ideograph(c) {
        out.push_ideograph(c, origin, marks);
        return;
    }
    if let Some(letter) = styled_letter(c) {
        emit_ascii(letter, origin, out, marks | STYLED);
        return;
    }
    if let Some(&(_, letter)) = LOOKALIKES.iter().find(|&&(l, _)| l == c) {
        emit_ascii(letter, origin, out, marks | CONFUSABLE);
        return;
    }
    if rounds == 0 {
        for lower in c.to_lowercase() {
            emit_kept(lower, origin, out, marks);
        }
        return;
    }
    let mut buf = [0u8; 4];
    let mut prototypes = unicode_security::skeleton(c.encode_utf8(&mut buf));
    match prototypes.next() {
        // An invisible character.
        None => {}
        Some(same) if same == c && prototypes.next().is_none() => {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) if l == c => emit_kept(c, origin, out, marks),
                (first, second) => {
                    for l in first.into_iter().chain(second).chain(lower) {
                        emit_folded(l, origin, out, marks, rounds - 1);
                    }
                }
            }
        }
        Some(first) => {
            for prototype in std::iter::once(first).chain(prototypes) {
                decompose_compatible(prototype, |d| {
                    if is_combining_mark(d) {
                        return;
                    }
                    emit_folded(d, origin, out, marks | CONFUSABLE, rounds - 1);
                });
            }
        }
    }
}

/// A non-ASCII character that stays as it is: part of a word, or a separator.
fn emit_kept(c: char, origin: u32, out: &mut Normalized, marks: u8) {
    if c.is_alphanumeric() {
        out.break_after_ideograph(origin);
        out.push_char(c, origin, marks);
    } else {
        out.push_separator(origin, c.is_whitespace());
    }
}

fn emit_ascii(b: u8, origin: u32, out: &mut Normalized, extra: u8) {
    match ASCII[b as usize] {
        Ascii::Word(mapped, marks) => {
            out.break_after_ideograph(origin);
            out.push_byte(mapped, origin, marks | extra);
        }
        Ascii::Symbol(symbol) => {
            out.symbols = true;
            out.push_byte(symbol, origin, extra);
        }
        Ascii::Separator | Ascii::LeetSymbol(_) => {
            out.push_separator(origin, b.is_ascii_whitespace());
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
    // A one-character token, and whether it is an ideograph: runs join letters with letters
    // and ideographs with ideographs, never across scripts (which stay separate words).
    let single = |&(s, e): &(usize, usize)| -> Option<bool> {
        let mut chars = std::str::from_utf8(&text[s..e]).ok()?.chars();
        let c = chars.next()?;
        (chars.next().is_none() && !matches!(c, ':' | '+' | '&')).then(|| is_cjk_ideograph(c))
    };
    // Spaces to remove: those inside runs of >= 3 single-character tokens.
    let mut remove = vec![false; n];
    let mut joined = vec![false; n];
    let mut run_start = 0;
    while run_start < tokens.len() {
        let kind = single(&tokens[run_start]);
        let mut run_end = run_start;
        while run_end < tokens.len() && kind.is_some() && single(&tokens[run_end]) == kind {
            run_end += 1;
        }
        // Three letters make a spaced-out word ("N I K E"); two ideographs already do
        // ("彪 马"), as Chinese puts no spaces between its words.
        let enough = if kind == Some(true) { 2 } else { 3 };
        if run_end - run_start >= enough {
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
    // Provenance one entry per byte for the compaction, then sparse again.
    let origins: Vec<usize> = if out.track {
        out.origins().collect()
    } else {
        Vec::new()
    };
    let mut marks = vec![0u8; if out.track { n } else { 0 }];
    for &(at, m) in &out.marks {
        if let Some(slot) = marks.get_mut(at as usize) {
            *slot |= m;
        }
    }
    out.anchors.clear();
    out.marks.clear();
    let mut write = 0;
    for read in 0..n {
        if remove[read] {
            continue;
        }
        out.text[write] = out.text[read];
        if out.track {
            anchor_at(&mut out.anchors, write, origins[read]);
            let m = marks[read] | if joined[read] { SPACED } else { 0 };
            if m != 0 {
                out.marks.push((write as u32, m));
            }
        }
        write += 1;
    }
    out.text.truncate(write);
}

/// A normalised copy of a term, for building matchers.
pub fn normalize_term(term: &str) -> String {
    let mut out = Normalized::default();
    normalize_text(term, &mut out);
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
    // Most text is ASCII: decide from the bytes alone when the neighbours are.
    let before = start.checked_sub(1).map(|i| text[i]);
    let after = text.get(end).copied();
    if before.is_none_or(|b| b < 0x80)
        && after.is_none_or(|b| b < 0x80)
        && text[start] < 0x80
        && text[end - 1] < 0x80
    {
        let joined_before = before.is_some_and(|b| b.is_ascii_alphanumeric())
            && text[start].is_ascii_alphanumeric();
        let joined_after = after.is_some_and(|b| b.is_ascii_alphanumeric())
            && text[end - 1].is_ascii_alphanumeric();
        return !joined_before && !joined_after;
    }
    let joined_before =
        is_word_char(char_ending_at(text, start)) && is_word_char(char_starting_at(text, start));
    let joined_after =
        is_word_char(char_starting_at(text, end)) && is_word_char(char_ending_at(text, end));
    !joined_before && !joined_after
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `map_plain` a byte at a time, as the table says.
    fn map_plain_bytewise(input: &[u8], out: &mut [u8], previous_space: bool) -> (usize, bool) {
        let mut previous_space = previous_space;
        for (k, &b) in input.iter().enumerate() {
            let mapped = PLAIN[usize::from(b & 0x7F)];
            if k == out.len() || mapped == 0 || (mapped == b' ' && previous_space) {
                return (k, previous_space);
            }
            out[k] = mapped;
            previous_space = mapped == b' ';
        }
        (input.len(), previous_space)
    }

    #[test]
    fn the_hot_loop_maps_eight_bytes_as_it_maps_one() {
        // Runs of up to 20 bytes of what the fast path takes (letters, `l` and `L`, single
        // and double spaces), half of them with a random ASCII byte in a random place.
        let common = b"abcxyzlLAIZ  Ql";
        let mut seed = 7u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..40_000u32 {
            let len = (next() % 21) as usize;
            let mut input: Vec<u8> = (0..len)
                .map(|_| common[(next() % common.len() as u64) as usize])
                .collect();
            if len > 0 && round % 2 == 0 {
                input[(next() % len as u64) as usize] = (next() % 128) as u8;
            }
            let previous_space = round % 3 == 0;
            let room = len - (next() % 3) as usize % (len + 1);
            let mut expected = vec![0u8; room];
            let (consumed, after) = map_plain_bytewise(&input, &mut expected, previous_space);
            let mut text = vec![0u8; room];
            let mut state = RunState {
                w: 0,
                previous_space,
            };
            let got = map_plain(&input, &mut text, &mut state);
            let shown = String::from_utf8_lossy(&input);
            assert_eq!(got, consumed, "{shown:?}");
            assert_eq!(state.w, consumed, "{shown:?}");
            assert_eq!(state.previous_space, after, "{shown:?}");
            assert_eq!(text[..got], expected[..got], "{shown:?}");
        }
    }

    #[test]
    fn the_spelling_of_a_word_says_which_of_its_is_were_ls() {
        let mut out = Normalized::default();
        let mut buf = [0u8; MAX_WORD];
        let mut spelling = |input: &str| {
            normalize(input, &mut out);
            let start = out.text.iter().position(|b| *b != b' ').unwrap();
            let end = out.text[start..]
                .iter()
                .position(|b| *b == b' ')
                .map_or(out.text.len(), |n| start + n);
            format!("{:?}", out.spelling(input, (start, end), &mut buf))
        };
        assert_eq!(
            spelling("Fossiil watch"),
            format!("{:?}", Spelling::WithL(b"fossiil"))
        );
        assert_eq!(
            spelling("FOSSIL watch"),
            format!("{:?}", Spelling::WithL(b"fossil"))
        );
        assert_eq!(spelling("White shirt"), format!("{:?}", Spelling::WithoutL));
        assert_eq!(spelling("Shoes"), format!("{:?}", Spelling::WithoutL));
        // A digit or a symbol for a letter makes no real word.
        for written in [
            "Foss1l watch",
            "FOSS|IL watch",
            "C4line bag",
            "Fo$$il watch",
        ] {
            assert_eq!(
                spelling(written),
                format!("{:?}", Spelling::Leet),
                "{written}"
            );
        }
        // Letters written otherwise could be either.
        assert_eq!(spelling("Fossîl"), format!("{:?}", Spelling::Either));
        assert_eq!(spelling("Ｆｏｓｓｉｌ"), format!("{:?}", Spelling::Either));
        // Wherever the word stands in what was written.
        assert_eq!(
            spelling("  ...Fossiil watch"),
            format!("{:?}", Spelling::WithL(b"fossiil"))
        );
    }

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
        assert_eq!(norm("路 易 威 登"), "路易威登");
        assert_eq!(norm("彪 马 夹克"), "彪马 夹克");
        assert_eq!(norm("丽 a b"), "丽 a b", "scripts are not joined");
        assert_eq!(
            norm("正品\0\x07Gucci"),
            "正品 gucci",
            "control bytes vanish"
        );
        assert_eq!(norm("朗\0$upreme"), "朗 supreme");
    }

    #[test]
    fn marks_and_origins_point_back() {
        let input = "Top N1ke";
        let mut out = Normalized::default();
        normalize(input, &mut out);
        assert_eq!(
            out.as_str(),
            " top nike",
            "listing text starts with a space"
        );
        let start = 5;
        assert_eq!(out.origin(start), 4);
        assert_eq!(out.marks_in(start, start + 4), LEET);

        normalize("N.I.K.E", &mut out);
        assert_eq!(out.as_str(), " nike");
        assert_eq!(out.marks_in(1, 5) & SPACED, SPACED);
        assert_eq!(out.origin(4), 6);

        normalize("正品Gucci包", &mut out);
        assert_eq!(
            out.as_str(),
            " 正品 gucci 包",
            "scripts meeting are word breaks"
        );

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
