//! Names broken apart on purpose, joined again.
//!
//! Normalisation turns every separator into a space, so "Gu-cci", "Ro+lex" and "Ch🔥anel"
//! reach the matcher as two words that name nothing. Here the pieces of a word that were
//! written with nothing but punctuation, symbols or emoji between them are joined and
//! looked up as one; so is a name with a letter or digit stuck on its end ("Gucci2"), and,
//! in titles, two neighbouring words ("Guc ci", "Louis Vuiton") and three where two of them
//! stand in a name of three ("The Nrth Face"). What is found here is a disguise, and says
//! so.

use super::fuzzy::{MAX_WORD, MIN_TERM, SHORT_TERM, osa_distance};
use super::lexicon::Spelling;
use super::normalize::{BYTE_CLASS, LEET, Normalized, SOFT};
use super::score::{Field, Looked, RawMatch};
use super::{Engine, FuzzyCache, Strength, TermRef};

/// Pieces at most in one joined word: more is a sentence written with hyphens.
const MAX_PIECES: usize = 8;
/// Words of a title read two at a time, at most.
const MAX_PAIRS: usize = 24;

/// A word as written: pieces `first..=last` of the field, `start..end` of its normalised
/// text, glued by separators.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit {
    first: usize,
    last: usize,
    start: usize,
    end: usize,
    /// Where it starts in the field read with its broken words joined.
    joined: usize,
    /// What the automaton found inside it.
    named: Named,
    /// Whether it is a real word, once asked.
    real: Option<bool>,
}

/// A brand term the automaton found inside a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Named {
    Nothing,
    /// A word of a brand's name, or an ordinary word that is a brand.
    Word,
    /// A distinctive name: the unit is not half of another name.
    Whole,
}

/// Buffers reused across listings.
#[derive(Default)]
pub(crate) struct JoinScratch {
    /// Runs of ASCII letters and digits: (start, end).
    pieces: Vec<(usize, usize)>,
    units: Vec<Unit>,
    /// Where the field has soft spaces (see `SOFT`).
    soft: Vec<usize>,
    /// The field with its broken words joined.
    text: Vec<u8>,
}

pub(crate) struct Join<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) field: Field,
    /// The field as written.
    pub(crate) input: &'a str,
    pub(crate) normalized: &'a Normalized,
    /// The automaton's matches in both fields.
    pub(crate) matches: &'a [RawMatch],
    /// Whether real words are worth looking up (see `FuzzyCache::lookup`).
    pub(crate) real_words: bool,
    pub(crate) cache: &'a mut FuzzyCache,
    pub(crate) found: &'a mut Vec<(u32, u8)>,
    pub(crate) looked: &'a mut Vec<Looked>,
    pub(crate) joined: &'a mut Vec<(Field, usize, usize)>,
}

impl Join<'_> {
    pub(crate) fn run(&mut self, scratch: &mut JoinScratch) {
        let JoinScratch {
            pieces,
            units,
            soft,
            text: joined_text,
        } = scratch;
        let text = &self.normalized.text;
        pieces.clear();
        units.clear();
        // Descriptions are long: read again only where a word may be broken. Titles are
        // read two words at a time as well.
        if self.field == Field::Description && !self.normalized.has_breaks() {
            return;
        }
        // Pieces: runs of ASCII letters and digits. Anything else outside a space (another
        // script, an ideograph) ends a word for this purpose, and so does a number: digits
        // read as letters ("1:350" is not "i:eso").
        let word_byte = |at: usize| {
            text.get(at)
                .is_some_and(|&b| BYTE_CLASS[usize::from(b)] != 0)
        };
        let mut at = 0;
        while at < text.len() {
            if word_byte(at) {
                let start = at;
                while word_byte(at) {
                    at += 1;
                }
                let number = text[start..at].iter().all(|b| b"oieastg".contains(b))
                    && self.normalized.all_marked(start, at, LEET);
                if !number {
                    pieces.push((start, at));
                }
            } else {
                at += 1;
            }
        }
        // Words as written: pieces glued by separators without white space.
        soft.clear();
        soft.extend(self.normalized.marked(SOFT));
        let mut first = 0;
        while first < pieces.len() {
            let mut last = first;
            while last + 1 < pieces.len()
                && last + 1 - first < MAX_PIECES
                && self.glued(pieces[last].1, pieces[last + 1].0, soft)
            {
                last += 1;
            }
            units.push(Unit {
                first,
                last,
                start: pieces[first].0,
                end: pieces[last].1,
                joined: 0,
                named: Named::Nothing,
                real: None,
            });
            first = last + 1;
        }
        self.name_units(units);
        if units.iter().any(|u| u.last > u.first) {
            self.read_joined(pieces, units, joined_text);
        }
        let mut pairs = 0;
        for at in 0..units.len() {
            let unit = units[at];
            let found = self
                .joined
                .iter()
                .any(|&(f, s, e)| f == self.field && s <= unit.start && unit.end <= e)
                || self.unit(pieces, unit);
            if found || self.field != Field::Title || pairs >= MAX_PAIRS || at == 0 {
                continue;
            }
            pairs += 1;
            let (before, unit) = (units[at - 1], units[at]);
            if before.named == Named::Whole
                || unit.named == Named::Whole
                || !self.plain_gap(before.end, unit.start)
            {
                continue;
            }
            // A name with a space put inside has a short half ("Guc ci", "Pr ada"); a name
            // of two words misspelt has a word of it found already ("Michae Kors"), or a
            // word that is no word ("Saint Laurnt"), or one misspelt into a word beside the
            // other in its place where the title says counterfeit ("Canaa Goose, replica").
            let short = |u: &Unit| u.end - u.start < 5;
            let worth = short(&before)
                || short(&unit)
                || before.named == Named::Word
                || unit.named == Named::Word
                || self.misspelt_into_words(before, unit)
                || !self.real(&mut units[at - 1])
                || !self.real(&mut units[at]);
            if worth {
                let (before, unit) = (units[at - 1], units[at]);
                if !self.pair(pieces, before, unit)
                    && at >= 2
                    && units[at - 2].named != Named::Whole
                    && self.plain_gap(units[at - 2].end, before.start)
                {
                    self.triple(pieces, [units[at - 2], before, unit]);
                }
            }
        }
    }

    /// Reads the field again with its broken words joined ("the n-orth face" as "the north
    /// face"), through the automaton, for names that span words: the broken words and the
    /// few words on either side of them, not the whole field.
    fn read_joined(&mut self, pieces: &[(usize, usize)], units: &mut [Unit], joined: &mut Vec<u8>) {
        const AROUND: usize = 3;
        const LEFT_OUT: usize = usize::MAX;
        let Some(matcher) = &self.engine.matcher else {
            return;
        };
        for unit in units.iter_mut() {
            unit.joined = LEFT_OUT;
        }
        for at in 0..units.len() {
            if units[at].last > units[at].first {
                let end = (at + AROUND + 1).min(units.len());
                for unit in &mut units[at.saturating_sub(AROUND)..end] {
                    unit.joined = 0;
                }
            }
        }
        let text = &self.normalized.text;
        joined.clear();
        let mut previous = None;
        for (at, unit) in units.iter_mut().enumerate() {
            if unit.joined == LEFT_OUT {
                continue;
            }
            if previous.is_some_and(|p| p + 1 != at) {
                // No pattern holds this byte: nothing matches across the gap.
                joined.push(0);
            }
            previous = Some(at);
            joined.push(b' ');
            unit.joined = joined.len();
            for &(start, end) in &pieces[unit.first..=unit.last] {
                joined.extend_from_slice(&text[start..end]);
            }
        }
        for m in matcher.find_iter(joined.as_slice()) {
            let start = m.start() + usize::from(joined[m.start()] == b' ');
            // Whole units only, and at least one of them broken.
            let Some(first) = units.iter().position(|u| u.joined == start) else {
                continue;
            };
            let Some(last) = units[first..]
                .iter()
                .take_while(|u| u.joined != LEFT_OUT)
                .position(|u| u.joined + self.unit_len(pieces, u) == m.end())
                .map(|n| first + n)
            else {
                continue;
            };
            if !units[first..=last].iter().any(|u| u.last > u.first) {
                continue;
            }
            let span = Unit {
                first: units[first].first,
                last: units[last].last,
                start: units[first].start,
                end: units[last].end,
                joined: start,
                named: Named::Nothing,
                real: None,
            };
            self.brand_terms(m.pattern().as_u32(), span, 0, true);
        }
    }

    fn unit_len(&self, pieces: &[(usize, usize)], unit: &Unit) -> usize {
        pieces[unit.first..=unit.last]
            .iter()
            .map(|(s, e)| e - s)
            .sum()
    }

    /// Whether the text between two pieces is only separators written without white space:
    /// symbols, or soft spaces (at `soft`).
    fn glued(&self, before: usize, after: usize, soft: &[usize]) -> bool {
        let text = &self.normalized.text;
        self.plain_gap(before, after)
            && (before..after).all(|i| text[i] != b' ' || soft.binary_search(&i).is_ok())
    }

    /// Whether only spaces and ASCII symbols stand between two pieces (not another
    /// script).
    fn plain_gap(&self, before: usize, after: usize) -> bool {
        self.normalized.text[before..after]
            .iter()
            .all(|b| b.is_ascii() && !b.is_ascii_alphanumeric())
    }

    /// Looks up a word written in pieces ("gu cci"). Whether it found a brand.
    fn unit(&mut self, pieces: &[(usize, usize)], unit: Unit) -> bool {
        if unit.last == unit.first {
            return false;
        }
        let mut word = [0u8; MAX_WORD];
        let Some(len) = self.concat(pieces, unit.first, unit.last, &mut word) else {
            return false;
        };
        self.exact(&word[..len], unit, 0, true)
            || self.misspelt(&word[..len], unit, true)
            || self.symbols_apart(pieces, unit)
    }

    /// Looks up a word written in pieces with its leet symbols read as punctuation too
    /// ("C/hl|oe"; see `symbols_as_separators`). Whether it found a brand.
    fn symbols_apart(&mut self, pieces: &[(usize, usize)], unit: Unit) -> bool {
        let text = &self.normalized.text;
        let mut symbols = self
            .normalized
            .symbol_letters(self.input, (unit.start, unit.end))
            .peekable();
        if symbols.peek().is_none() {
            return false;
        }
        let mut word = [0u8; MAX_WORD];
        let mut len = 0;
        for at in pieces[unit.first..=unit.last]
            .iter()
            .flat_map(|&(start, end)| start..end)
        {
            if symbols.next_if_eq(&at).is_some() {
                continue;
            }
            let Some(byte) = word.get_mut(len) else {
                return false;
            };
            *byte = text[at];
            len += 1;
        }
        let from = self.looked.len();
        let found = self.exact(&word[..len], unit, 0, true);
        for found in &mut self.looked[from..] {
            found.symbols_apart = true;
        }
        found
    }

    /// Looks up two neighbouring words as one: a name with a space put inside it, or a
    /// name of two words misspelt.
    /// Whether it found a brand.
    fn pair(&mut self, pieces: &[(usize, usize)], before: Unit, after: Unit) -> bool {
        let mut word = [0u8; MAX_WORD];
        let Some(len) = self.concat(pieces, before.first, after.last, &mut word) else {
            return false;
        };
        let word = &word[..len];
        let unit = Unit {
            first: before.first,
            last: after.last,
            start: before.start,
            end: after.end,
            joined: 0,
            named: Named::Nothing,
            real: None,
        };
        let (mut before, mut after) = (before, after);
        if self.engine.compact_pattern(word).is_some() {
            // Two real words make a real phrase ("air pods"), not a broken name.
            return !(self.real(&mut before) && self.real(&mut after))
                && self.exact(word, unit, 0, true);
        }
        // A name of one word written twice, misspelt the same way twice ("Kmiu Kmiu").
        if self.twice_misspelt(before, after, unit) {
            return true;
        }
        // A name of two words misspelt: one of them is already a word of a brand's name
        // ("Michae Kors", "Louis Vuiton"), or may be one misspelt into a real word, or is no
        // real word; looking up every pair of words would cost more than all else.
        if len >= 8
            && (before.named == Named::Word
                || after.named == Named::Word
                || self.misspelt_into_words(before, after)
                || !(self.real(&mut before) && self.real(&mut after)))
        {
            let separated = before.last > before.first || after.last > after.first;
            return self.misspelt(word, unit, separated);
        }
        false
    }

    /// Whether two real words may be a name of two misspelt into a word: where the title
    /// already says counterfeit and one of them stands in its place in such a name ("Canaa
    /// Goose ... mirror quality").
    fn misspelt_into_words(&self, before: Unit, after: Unit) -> bool {
        let text = &self.normalized.text;
        self.real_words
            && self.engine.may_be_two_words(
                &text[before.start..before.end],
                &text[after.start..after.end],
            )
    }

    /// Whether `before` and `after` are one word twice, one edit from the word of a name
    /// written twice ("Miu Miu"), and no real word: then `unit` is that name.
    fn twice_misspelt(&mut self, before: Unit, after: Unit, unit: Unit) -> bool {
        let text = &self.normalized.text;
        let word = &text[before.start..before.end];
        if self.engine.doubled.is_empty()
            || word != &text[after.start..after.end]
            || word.len() > MAX_WORD
        {
            return false;
        }
        let engine = self.engine;
        let found: Vec<_> = engine
            .doubled
            .iter()
            .filter(|(half, _)| osa_distance(word, half, 1) == 1)
            .map(|&(_, target)| target)
            .collect();
        if found.is_empty() || self.real_as_written(before) {
            return false;
        }
        let mut any = false;
        for target in found {
            any |= self.record(unit, target, 2, false, false, false);
        }
        if any {
            self.joined.push((self.field, unit.start, unit.end));
        }
        any
    }

    /// Looks up three neighbouring words as one: a name of three words with one misspelt
    /// ("The Nrth Face"), whose words are each too common to look for alone.
    fn triple(&mut self, pieces: &[(usize, usize)], words: [Unit; 3]) -> bool {
        let [first, middle, last] = words;
        let text = &self.normalized.text;
        let word_of = |u: &Unit| &text[u.start..u.end];
        if !self
            .engine
            .may_be_three_words([word_of(&first), word_of(&middle), word_of(&last)])
        {
            return false;
        }
        let mut word = [0u8; MAX_WORD];
        let Some(len) = self.concat(pieces, first.first, last.last, &mut word) else {
            return false;
        };
        let unit = Unit {
            first: first.first,
            last: last.last,
            start: first.start,
            end: last.end,
            joined: 0,
            named: Named::Nothing,
            real: None,
        };
        let separated = words.iter().any(|u| u.last > u.first);
        len >= 8 && self.misspelt(&word[..len], unit, separated)
    }

    /// Brand terms `word` writes in look-alike letters ("Caraba Goose").
    fn lookalike(&mut self, word: &[u8], unit: Unit, separated: bool) -> bool {
        let engine = self.engine;
        let mut any = false;
        for id in engine.fuzzy.lookalikes(word) {
            let term = engine.fuzzy.term(id);
            let target = engine.fuzzy_targets[term.target as usize];
            let short = term.text.len() <= SHORT_TERM;
            if self.record(unit, target, 0, false, short, separated) {
                if let Some(looked) = self.looked.last_mut() {
                    looked.lookalike = true;
                }
                any = true;
            }
        }
        if any {
            self.joined.push((self.field, unit.start, unit.end));
        }
        any
    }

    /// Whether `unit` reads as a real word, remembered in it: whether it is one or only
    /// normalises like one (see [`Spelling`]), which is all that decides whether two words
    /// are worth reading as one.
    fn real(&mut self, unit: &mut Unit) -> bool {
        let word = &self.normalized.text[unit.start..unit.end];
        *unit
            .real
            .get_or_insert_with(|| self.cache.kind(word, || Spelling::Either).is_real())
    }

    /// Whether `unit`, one piece, is a real word as it is written ("Miiu" is not "milu").
    fn real_as_written(&mut self, unit: Unit) -> bool {
        let (normalized, input) = (self.normalized, self.input);
        let span = (unit.start, unit.end);
        let mut written = [0u8; MAX_WORD];
        let written = &mut written;
        let kind = self.cache.kind(&normalized.text[span.0..span.1], move || {
            match unit.first == unit.last {
                true => normalized.spelling(input, span, written),
                false => Spelling::Either,
            }
        });
        kind.is_real()
    }

    /// The pieces `first..=last` joined, if they are short enough to be a name.
    fn concat(
        &self,
        pieces: &[(usize, usize)],
        first: usize,
        last: usize,
        out: &mut [u8; MAX_WORD],
    ) -> Option<usize> {
        let text = &self.normalized.text;
        let mut len = 0;
        for &(start, end) in &pieces[first..=last] {
            let piece = &text[start..end];
            out.get_mut(len..len + piece.len())?.copy_from_slice(piece);
            len += piece.len();
        }
        Some(len)
    }

    /// What the automaton found inside each unit, walking the field's matches once.
    fn name_units(&self, units: &mut [Unit]) {
        let mut matches = self
            .matches
            .iter()
            .filter(|m| m.field == self.field)
            .peekable();
        for unit in units.iter_mut() {
            while matches.peek().is_some_and(|m| m.start < unit.start) {
                matches.next();
            }
            while let Some(m) = matches.next_if(|m| m.end <= unit.end) {
                for term in self.engine.terms_of(m.pattern) {
                    unit.named = unit.named.max(match term {
                        TermRef::Brand {
                            strength: Strength::Distinctive,
                            ..
                        } => Named::Whole,
                        TermRef::Brand { .. } => Named::Word,
                        _ => Named::Nothing,
                    });
                }
            }
        }
    }

    /// Whether the automaton already found `brand` as well in the span: as a whole name
    /// inside it ("lego" in "lego's"), or covering all of it (a hyphenated name written as
    /// the brand writes it, "Ray-Ban"). Then the joined word adds nothing.
    fn already_named(&self, unit: Unit, brand: u32) -> bool {
        self.matches.iter().any(|m| {
            m.field == self.field
                && unit.start <= m.start
                && m.end <= unit.end
                && self.engine.terms_of(m.pattern).iter().any(|t| {
                    matches!(*t, TermRef::Brand { brand: b, strength, .. }
                        if b == brand
                            && (strength == Strength::Distinctive
                                || (m.start, m.end) == (unit.start, unit.end)))
                })
        })
    }

    /// A brand term spelt exactly by `word`.
    pub(crate) fn exact(&mut self, word: &[u8], unit: Unit, distance: u8, separated: bool) -> bool {
        match self.engine.compact_pattern(word) {
            Some(pattern) => self.brand_terms(pattern, unit, distance, separated),
            None => false,
        }
    }

    /// The brands of automaton pattern `pattern`, found in `unit`.
    fn brand_terms(&mut self, pattern: u32, unit: Unit, distance: u8, separated: bool) -> bool {
        let mut found = false;
        for term in self.engine.terms_of(pattern) {
            let &TermRef::Brand {
                brand,
                term,
                strength,
            } = term
            else {
                continue;
            };
            found |= self.record(
                unit,
                (brand, term, strength),
                distance,
                false,
                false,
                separated,
            );
        }
        if found {
            self.joined.push((self.field, unit.start, unit.end));
        }
        found
    }

    /// Records `term` found in `unit`, unless the automaton found its brand there already.
    /// Whether it did.
    fn record(
        &mut self,
        unit: Unit,
        (brand, term, strength): (u32, u32, Strength),
        distance: u8,
        real_word: bool,
        short: bool,
        separated: bool,
    ) -> bool {
        if self.already_named(unit, brand) {
            return false;
        }
        self.looked.push(Looked {
            field: self.field,
            start: unit.start,
            end: unit.end,
            brand,
            term,
            strength,
            distance,
            real_word,
            short,
            separated,
            symbols_apart: false,
            glued: false,
            lookalike: false,
        });
        true
    }

    /// Brand terms one edit from `word`.
    fn misspelt(&mut self, word: &[u8], unit: Unit, separated: bool) -> bool {
        // Letters, and a digit at most: one may stand for a letter or be slipped in
        // ("The North9 Face", "Saint Lauren6").
        let digits = word.iter().filter(|b| b.is_ascii_digit()).count();
        if word.len() < MIN_TERM
            || digits > 1
            || !word
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return false;
        }
        let (found, real_word) = self.cache.lookup(
            self.engine,
            word,
            None::<fn() -> Spelling<'static>>,
            1,
            self.real_words,
            self.found,
        );
        if found.is_empty() {
            return !real_word && self.lookalike(word, unit, separated);
        }
        let found = found.to_vec();
        let mut any = false;
        for (id, distance) in found {
            let term = self.engine.fuzzy.term(id);
            let (brand, term_id, strength) = self.engine.fuzzy_targets[term.target as usize];
            let short = term.text.len() <= SHORT_TERM;
            any |= self.record(
                unit,
                (brand, term_id, strength),
                distance,
                real_word,
                short,
                separated,
            );
        }
        if any {
            self.joined.push((self.field, unit.start, unit.end));
        }
        any
    }
}
