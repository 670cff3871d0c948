//! Ordinary words, real words of several languages, and the built-in counterfeit vocabulary.

use std::hash::BuildHasher;
use std::sync::LazyLock;

use super::normalize::normalize_term;

/// What the lexicon knows of a word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WordKind(u8);

impl WordKind {
    /// An ordinary English word (SCOWL, lower case): a brand named so needs support.
    const ORDINARY: u8 = 1;
    /// Among the 15,000 most frequent words of a language (wordfreq): a word of a brand's
    /// name that is this common says little alone ("Michael", "Canada", "Saint").
    const COMMON: u8 = 2;
    /// Among the 50,000 most frequent words of a language: a real word, so one edit from a
    /// brand is not by itself a misspelling of it ("Celle", "Fondi", "kein").
    const FREQUENT: u8 = 4;

    pub fn is_ordinary(self) -> bool {
        self.0 & Self::ORDINARY != 0
    }

    pub fn is_common(self) -> bool {
        self.0 & (Self::ORDINARY | Self::COMMON) != 0
    }

    /// A word of some language, ordinary, common or merely frequent.
    pub fn is_real(self) -> bool {
        self.0 != 0
    }
}

/// Words, normalised (see `lexicon/README.md`).
///
/// Kept as 29-bit fingerprints of keyed hashes with three bits of kind, in one flat
/// open-addressed table of 4-byte slots (4 MiB for 400,000 words, under half full): a
/// lookup is a probe or two into one cache line, with no pointer to a stored word to
/// follow. The key is random per process, so nobody can craft a word that collides with a
/// real one (and so escape the misspelling check); by chance, a made-up word is taken for a
/// real one about once in a hundred million.
pub struct Lexicon {
    slots: Vec<u32>,
    len: usize,
    hasher: foldhash::fast::RandomState,
}

impl Lexicon {
    const KIND_BITS: u32 = 3;
    const KIND_MASK: u32 = (1 << Self::KIND_BITS) - 1;

    fn new(hasher: foldhash::fast::RandomState, capacity: usize) -> Self {
        let slots = (capacity * 4 / 3).next_power_of_two().max(8);
        Self {
            slots: vec![0; slots],
            len: 0,
            hasher,
        }
    }

    /// The slot to start at, and the fingerprint (never 0, which marks an empty slot).
    fn place(&self, hash: u64) -> (usize, u32) {
        let mask = self.slots.len() - 1;
        let fingerprint = (((hash >> 32) as u32) << Self::KIND_BITS) | Self::KIND_MASK;
        (hash as usize & mask, fingerprint)
    }

    fn insert(&mut self, hash: u64, kind: u8) {
        let (mut at, fingerprint) = self.place(hash);
        let mask = self.slots.len() - 1;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                self.slots[at] = (fingerprint & !Self::KIND_MASK) | u32::from(kind);
                self.len += 1;
                return;
            }
            if slot | Self::KIND_MASK == fingerprint {
                self.slots[at] |= u32::from(kind);
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// Whether a normalised word is an ordinary English word.
    pub fn contains(&self, normalized: &[u8]) -> bool {
        self.kind(normalized).is_ordinary()
    }

    /// What the lexicon knows of a normalised word.
    pub fn kind(&self, normalized: &[u8]) -> WordKind {
        self.kind_of_hash(self.hash(normalized))
    }

    /// The keyed hash of a normalised word, for [`Lexicon::kind_of_hash`] and for memos
    /// keyed by word.
    pub fn hash(&self, normalized: &[u8]) -> u64 {
        self.hasher.hash_one(normalized)
    }

    pub fn kind_of_hash(&self, hash: u64) -> WordKind {
        let (mut at, fingerprint) = self.place(hash);
        let mask = self.slots.len() - 1;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return WordKind::default();
            }
            if slot | Self::KIND_MASK == fingerprint {
                return WordKind((slot & Self::KIND_MASK) as u8);
            }
            at = (at + 1) & mask;
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let lists = [
        (include_str!("lexicon/en-words.txt"), WordKind::ORDINARY),
        (include_str!("lexicon/en-extra.txt"), WordKind::ORDINARY),
        (include_str!("lexicon/common.txt"), WordKind::COMMON),
        (include_str!("lexicon/words.txt"), WordKind::FREQUENT),
    ];
    let capacity = lists.iter().map(|(list, _)| list.lines().count()).sum();
    let mut lexicon = Lexicon::new(foldhash::fast::RandomState::default(), capacity);
    for (list, kind) in lists {
        for word in list.lines().filter(|w| !w.is_empty()) {
            let hash = lexicon.hash(normalize_term(word).as_bytes());
            lexicon.insert(hash, kind);
        }
    }
    lexicon
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
    // The trade's own grades and sources: "UA" (unauthorised authentic), "7A" and "5A"
    // grades, "OEM factory" for a brand's own supplier's leftovers.
    ("ua quality", 0.6),
    ("ua version", 0.6),
    ("7a quality", 0.5),
    ("7a grade", 0.5),
    ("top grade replica", 0.7),
    ("oem factory", 0.45),
    ("factory leftover", 0.5),
    ("factory leftovers", 0.5),
    ("unbranded replica", 0.6),
    ("mirror 1:1", 0.65),
    ("1:1 mirror", 0.65),
    ("best version", 0.35),
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
    ("纯原", 0.6),
    ("公司级", 0.5),
    ("顶级版本", 0.6),
    ("代工厂", 0.45),
    ("1比1", 0.6),
    ("原厂尾单", 0.5),
    ("高版本", 0.45),
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
        assert!(lexicon.len() > 200_000);
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

    #[test]
    fn real_words_of_other_languages_are_known() {
        let lexicon = lexicon();
        for word in ["celle", "fondi", "kleine", "kein", "pravda", "heures"] {
            let kind = lexicon.kind(normalize_term(word).as_bytes());
            assert!(kind.is_real() && !kind.is_ordinary(), "{word}");
        }
        for name in ["michael", "canada", "saint"] {
            assert!(
                lexicon.kind(normalize_term(name).as_bytes()).is_common(),
                "{name}"
            );
        }
        for made_up in ["guccci", "vuiton", "niike"] {
            assert!(
                !lexicon.kind(normalize_term(made_up).as_bytes()).is_real(),
                "{made_up}"
            );
        }
    }
}
