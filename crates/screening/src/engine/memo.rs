//! The memo of misspelling look-ups a thread keeps across listings (see `Scratch`).

use rustc_hash::FxHashMap;

use super::Engine;
use super::lexicon::{Spelling, WordKind, lexicon};

/// A bounded memo of misspelling look-ups for the engine of `generation`, keyed by the
/// lexicon's keyed hash of the word (random per process, so no word can be made to collide
/// with another) and the edits allowed. Most words find nothing; those cost one small entry.
#[derive(Default)]
pub(crate) struct FuzzyCache {
    generation: u64,
    words: FxHashMap<u64, Remembered>,
    found: Vec<(u32, u8)>,
}

/// What is remembered of a word: what the lexicon knows of it and, per limit of edits (1,
/// 2), where its finds begin in `found` and how many there are (`NOT_LOOKED_UP` until
/// looked up). Small, as the memo is read for almost every word: 24 bytes an entry.
#[derive(Debug, Clone, Copy)]
struct Remembered {
    starts: [u32; 2],
    counts: [u16; 2],
    kind: WordKind,
}

const NOT_LOOKED_UP: u16 = u16::MAX;

impl FuzzyCache {
    /// Words remembered at most, give or take one listing's; then the memo starts over.
    const CAPACITY: usize = 50_000;
    /// Finds remembered at most, likewise.
    const FOUND_CAPACITY: usize = 1 << 20;

    /// The brand terms `word` may be a misspelling of, within `limit` edits, in `engine`,
    /// from memory when it was asked before; and whether `word` is a real word of some
    /// language. A real word is one edit from a brand by nature, not by intent ("Celle",
    /// "kein"): a common one is never looked up ("watch" is not a misspelt "Swatch"), a
    /// rarer one only if `real_words` asks for it, and it counts only beside evidence of a
    /// counterfeit.
    ///
    /// Given `spelling`, how the word was written (see [`Spelling`]), a real word that is
    /// within reach of a name is asked it, and is no real word if no real word is written
    /// so ("Fossiil" is not "fossili"): the question is asked only of the few words near a
    /// name, as their look-ups are remembered.
    pub(crate) fn lookup<'w>(
        &mut self,
        engine: &Engine,
        word: &[u8],
        spelling: Option<impl FnOnce() -> Spelling<'w>>,
        limit: u8,
        real_words: bool,
        scratch: &mut Vec<(u32, u8)>,
    ) -> (&[(u32, u8)], bool) {
        let wanted = |kind: WordKind| !kind.is_real() || (real_words && !kind.is_common());
        let remembered = Self::remember(&mut self.words, word);
        let mut kind = remembered.kind;
        if limit == 0 || (!wanted(kind) && spelling.is_none()) {
            return (&[], kind.is_real());
        }
        let slot = usize::from(limit.clamp(1, 2) - 1);
        if remembered.counts[slot] == NOT_LOOKED_UP {
            engine.fuzzy.lookup(word, limit, scratch);
            // A word within reach of more names than a count holds is no misspelling of
            // any one of them; the first are kept.
            let kept = &scratch[..scratch.len().min(usize::from(NOT_LOOKED_UP - 1))];
            remembered.starts[slot] = self.found.len() as u32;
            remembered.counts[slot] = kept.len() as u16;
            self.found.extend_from_slice(kept);
        }
        let start = remembered.starts[slot] as usize;
        let end = start + usize::from(remembered.counts[slot]);
        if let Some(spelling) = spelling.filter(|_| kind.is_real() && start < end) {
            kind = lexicon().as_written(kind, spelling());
        }
        if !wanted(kind) {
            return (&[], true);
        }
        (&self.found[start..end], kind.is_real())
    }

    /// What the lexicon knows of `word` written as `spelling`, from memory when it was
    /// asked before.
    pub(crate) fn kind<'w>(
        &mut self,
        word: &[u8],
        spelling: impl FnOnce() -> Spelling<'w>,
    ) -> WordKind {
        match Self::remember(&mut self.words, word).kind {
            kind if kind.is_real() => lexicon().as_written(kind, spelling()),
            kind => kind,
        }
    }

    /// The memo of `word`, made now if there is none. A free function of the table, so
    /// that `found` can grow while the memo is held.
    #[inline]
    fn remember<'m>(words: &'m mut FxHashMap<u64, Remembered>, word: &[u8]) -> &'m mut Remembered {
        let lexicon = lexicon();
        let key = lexicon.hash(word);
        words.entry(key).or_insert_with(|| Remembered {
            starts: [0; 2],
            counts: [NOT_LOOKED_UP; 2],
            kind: lexicon.kind_of_hash(key),
        })
    }

    /// Forgets what was remembered for another engine, or once the memo has grown
    /// large; called once a listing, before any look-up.
    pub(crate) fn renew(&mut self, engine: &Engine) {
        if self.generation != engine.generation
            || self.words.len() >= Self::CAPACITY
            || self.found.len() >= Self::FOUND_CAPACITY
        {
            self.clear();
            self.generation = engine.generation;
        }
    }

    fn clear(&mut self) {
        self.words.clear();
        self.found.clear();
    }
}
