//! Ordinary words, and the built-in counterfeit vocabulary.

use std::hash::BuildHasher;
use std::sync::LazyLock;

use rustc_hash::FxHashSet;

use super::normalize::normalize_term;

/// Ordinary English words, normalised (see `lexicon/README.md`).
///
/// Kept as keyed 64-bit hashes: a lookup is one probe into a flat table, with no pointer to
/// a stored word to follow. The key is random per process, so nobody can craft a word that
/// collides with an ordinary one (and so escape the misspelling check).
pub struct Lexicon {
    words: FxHashSet<u64>,
    hasher: foldhash::fast::RandomState,
}

impl Lexicon {
    /// Whether a normalised word is an ordinary word.
    pub fn contains(&self, normalized: &[u8]) -> bool {
        self.contains_hash(self.hash(normalized))
    }

    /// The keyed hash of a normalised word, for [`Lexicon::contains_hash`] and for memos
    /// keyed by word.
    pub fn hash(&self, normalized: &[u8]) -> u64 {
        self.hasher.hash_one(normalized)
    }

    pub fn contains_hash(&self, hash: u64) -> bool {
        self.words.contains(&hash)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let hasher = foldhash::fast::RandomState::default();
    let words = include_str!("lexicon/en-words.txt")
        .lines()
        .chain(include_str!("lexicon/en-extra.txt").lines())
        .filter(|w| !w.is_empty())
        .map(|w| hasher.hash_one(normalize_term(w).as_bytes()))
        .collect();
    Lexicon { words, hasher }
});

/// The lexicon, built on first use.
pub fn lexicon() -> &'static Lexicon {
    &LEXICON
}

/// Counterfeit vocabulary every engine knows, with weights. Rules add terms, change
/// weights, or switch terms off with weight 0.
pub const BUILT_IN_VOCABULARY: &[(&str, f64)] = &[
    // English
    ("replica", 0.6),
    ("replicas", 0.6),
    ("1:1", 0.6),
    ("1:1 quality", 0.65),
    ("aaa", 0.45),
    ("aaa+", 0.5),
    ("aaaaa", 0.5),
    ("grade aaa", 0.55),
    ("5a quality", 0.5),
    ("mirror quality", 0.7),
    ("mirror copy", 0.7),
    ("high copy", 0.6),
    ("super fake", 0.8),
    ("fake", 0.45),
    ("knockoff", 0.6),
    ("knock off", 0.6),
    ("dupe", 0.45),
    ("dupes", 0.45),
    ("inspired by", 0.35),
    ("lookalike", 0.35),
    ("look alike", 0.35),
    ("imitation", 0.5),
    ("same as original", 0.4),
    ("original quality", 0.4),
    ("unauthorized", 0.3),
    ("not authentic", 0.6),
    ("non authentic", 0.6),
    ("counterfeit", 0.3),
    // Chinese
    ("高仿", 0.7),
    ("精仿", 0.7),
    ("仿品", 0.6),
    ("复刻", 0.6),
    ("顶级复刻", 0.7),
    ("原单", 0.6),
    ("尾单", 0.4),
    ("a货", 0.6),
    ("超a", 0.6),
    ("一比一", 0.6),
    ("山寨", 0.6),
    ("假货", 0.5),
    ("莆田", 0.5),
];

/// Phrases that introduce what a product is compatible with ("case for iPhone"): a brand
/// right after one names what the product fits, not what it is.
pub const COMPATIBILITY_PHRASES: &[&str] = &[
    "compatible with",
    "compatible for",
    "compatible",
    "for",
    "fits",
    "fit for",
    "fits for",
    "replacement for",
    "works with",
    "designed for",
    "made for",
    "适用于",
    "适配",
    "兼容",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_words_are_known_and_brands_are_not() {
        let lexicon = lexicon();
        assert!(lexicon.len() > 50_000);
        for word in [
            "coach", "puma", "apple", "omega", "channel", "couch", "pandora", "leather",
        ] {
            assert!(lexicon.contains(normalize_term(word).as_bytes()), "{word}");
        }
        for brand in ["nike", "gucci", "prada", "chanel", "rolex", "adidas"] {
            assert!(
                !lexicon.contains(normalize_term(brand).as_bytes()),
                "{brand}"
            );
        }
    }
}
