//! Ordinary words, real words of several languages, and the built-in counterfeit vocabulary.

use std::hash::BuildHasher;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

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
    /// Not a kind but a note on the spelling: some word of this normalised spelling is
    /// written without an `l` (normalisation writes `l` as `i`; see [`Spelling`]).
    const WITHOUT_L: u8 = 8;
    const KINDS: u8 = Self::ORDINARY | Self::COMMON | Self::FREQUENT;

    pub fn is_ordinary(self) -> bool {
        self.0 & Self::ORDINARY != 0
    }

    pub fn is_common(self) -> bool {
        self.0 & (Self::ORDINARY | Self::COMMON) != 0
    }

    /// A word of some language, ordinary, common or merely frequent.
    pub fn is_real(self) -> bool {
        self.0 & Self::KINDS != 0
    }
}

/// How a listing word was written where normalisation cannot tell: it writes `l`, `I` and
/// `1` as one letter, so that "Gucc1" and "GUCCl" meet "Gucci", and so "Fossiil" reads as
/// the Italian word "fossili" and "Miiu" as "milu". A seller's own `l` and `i` say which
/// word was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling<'a> {
    /// Not known (a letter of another script or with an accent stands for the letter): any
    /// word of the spelling.
    Either,
    /// Written without an `l`.
    WithoutL,
    /// Written with an `l`, lower case, each letter as written.
    WithL(&'a [u8]),
    /// Written with a digit or a symbol for a letter ("Sw1tch", "C4line"): no real word is
    /// written so, whatever word it reads as.
    Leet,
}

/// Fingerprints of keyed hashes with a few bits of data, in one flat open-addressed table
/// of 4-byte slots: a lookup is a probe or two into one cache line, with no pointer to a
/// stored word to follow.
struct Table {
    slots: Vec<u32>,
    len: usize,
}

impl Table {
    const DATA_BITS: u32 = 4;
    const DATA_MASK: u32 = (1 << Self::DATA_BITS) - 1;

    fn new(capacity: usize) -> Self {
        let slots = (capacity * 4 / 3).next_power_of_two().max(8);
        Self {
            slots: vec![0; slots],
            len: 0,
        }
    }

    /// The slot to start at, and the fingerprint (never 0, which marks an empty slot).
    fn place(&self, hash: u64) -> (usize, u32) {
        let mask = self.slots.len() - 1;
        let fingerprint = (((hash >> 32) as u32) << Self::DATA_BITS) | Self::DATA_MASK;
        (hash as usize & mask, fingerprint)
    }

    /// Adds `data` to what the table holds for `hash`.
    fn insert(&mut self, hash: u64, data: u8) {
        let (mut at, fingerprint) = self.place(hash);
        let mask = self.slots.len() - 1;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                self.slots[at] = (fingerprint & !Self::DATA_MASK) | u32::from(data);
                self.len += 1;
                return;
            }
            if slot | Self::DATA_MASK == fingerprint {
                self.slots[at] |= u32::from(data);
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// What the table holds for `hash`, if anything.
    fn get(&self, hash: u64) -> Option<u8> {
        let (mut at, fingerprint) = self.place(hash);
        let mask = self.slots.len() - 1;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return None;
            }
            if slot | Self::DATA_MASK == fingerprint {
                return Some((slot & Self::DATA_MASK) as u8);
            }
            at = (at + 1) & mask;
        }
    }
}

/// Words, normalised (see `lexicon/README.md`).
///
/// Kept as 28-bit fingerprints of keyed hashes with their kind (4 MiB for 470,000 words,
/// under half full), and, apart, the words with an `l` or an accent as they are written
/// (2 MiB). The key is random per process, so nobody can craft a word that collides with
/// a real one (and so escape the misspelling check); by chance, a made-up word is taken
/// for a real one about once in fifty million.
pub struct Lexicon {
    words: Table,
    /// Words with an `l` or an accent, lower case, as written.
    written: Table,
    hasher: foldhash::fast::RandomState,
}

impl Lexicon {
    /// Whether a normalised word is an ordinary English word.
    pub fn contains(&self, normalized: &[u8]) -> bool {
        self.kind(normalized).is_ordinary()
    }

    /// What the lexicon knows of a normalised word, whichever way it was written.
    pub fn kind(&self, normalized: &[u8]) -> WordKind {
        self.kind_of_hash(self.hash(normalized))
    }

    /// The keyed hash of a normalised word, for [`Lexicon::kind_of_hash`] and for memos
    /// keyed by word.
    pub fn hash(&self, normalized: &[u8]) -> u64 {
        self.hasher.hash_one(normalized)
    }

    pub fn kind_of_hash(&self, hash: u64) -> WordKind {
        WordKind(self.words.get(hash).unwrap_or(0))
    }

    /// What the lexicon knows of a word of `kind` (from its normalised spelling) written
    /// as `spelling`: nothing, where no real word is written so ("Fossiil" is not
    /// "fossili").
    pub fn as_written(&self, kind: WordKind, spelling: Spelling<'_>) -> WordKind {
        let known = match spelling {
            Spelling::Either => true,
            Spelling::WithoutL => kind.0 & WordKind::WITHOUT_L != 0,
            Spelling::WithL(word) => self.written.get(self.hash(word)).is_some(),
            Spelling::Leet => false,
        };
        if known { kind } else { WordKind::default() }
    }

    /// Whether a word written with accents is a real word so written ("oméga", "suprême"):
    /// accents strewn on a name ("Swâtch", "Ómega") make no real word.
    pub fn written_with_accents(&self, word: &str) -> bool {
        let written: String = word.nfc().flat_map(char::to_lowercase).collect();
        self.written.get(self.hash(written.as_bytes())).is_some()
    }

    pub fn len(&self) -> usize {
        self.words.len
    }

    pub fn is_empty(&self) -> bool {
        self.words.len == 0
    }
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let lists = [
        (include_str!("lexicon/en-words.txt"), WordKind::ORDINARY),
        (include_str!("lexicon/en-extra.txt"), WordKind::ORDINARY),
        (include_str!("lexicon/common.txt"), WordKind::COMMON),
        (include_str!("lexicon/words.txt"), WordKind::FREQUENT),
    ];
    let words = || {
        lists
            .iter()
            .flat_map(|(list, kind)| list.lines().map(|w| (w, *kind)))
    };
    let accented = include_str!("lexicon/accented.txt");
    let with_l = words().filter(|(w, _)| w.contains('l')).count();
    let mut lexicon = Lexicon {
        words: Table::new(words().count()),
        written: Table::new(with_l + accented.lines().count()),
        hasher: foldhash::fast::RandomState::default(),
    };
    for word in accented.lines() {
        let written = lexicon.hash(word.as_bytes());
        lexicon.written.insert(written, 1);
    }
    // The lists hold lower-case ASCII letters only, so each word is written as it stands.
    for (word, kind) in words().filter(|(w, _)| !w.is_empty()) {
        let hash = lexicon.hash(normalize_term(word).as_bytes());
        if word.contains('l') {
            lexicon.words.insert(hash, kind);
            let written = lexicon.hash(word.as_bytes());
            lexicon.written.insert(written, 1);
        } else {
            lexicon.words.insert(hash, kind | WordKind::WITHOUT_L);
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
    ("super copy", 0.7),
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
    // Alone too: a current of seven amperes is rare where brands are ("5A" is not).
    ("7a", 0.4),
    ("top grade replica", 0.7),
    ("oem factory", 0.45),
    ("factory leftover", 0.5),
    ("factory leftovers", 0.5),
    ("unbranded replica", 0.6),
    ("mirror 1:1", 0.65),
    ("1:1 mirror", 0.65),
    ("best version", 0.35),
    // A watch in another's design, sold under the other's name ("Submariner homage").
    ("homage", 0.35),
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
    // "Boutique counter quality / version": a copy said to pass for what the shop sells.
    ("专柜品质", 0.5),
    ("专柜版", 0.5),
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

    #[test]
    fn accents_are_known_as_real_words_write_them() {
        let lexicon = lexicon();
        for word in ["oméga", "Suprême", "SUPRÊME", "supre\u{302}me", "café"] {
            assert!(lexicon.written_with_accents(word), "{word}");
        }
        for word in ["swâtch", "Ómega", "suprème", "pûma"] {
            assert!(!lexicon.written_with_accents(word), "{word}");
        }
    }

    #[test]
    fn a_word_is_real_only_as_a_real_word_writes_it() {
        let lexicon = lexicon();
        let kind = |word: &str| lexicon.kind(normalize_term(word).as_bytes());
        // "fossili" (Italian) and "Fossiil" (a misspelt "Fossil") normalise alike.
        assert_eq!(kind("fossili"), kind("Fossiil"));
        assert!(kind("fossili").is_real());
        let fossili = kind("fossili");
        assert!(
            lexicon
                .as_written(fossili, Spelling::WithL(b"fossili"))
                .is_real()
        );
        assert!(
            !lexicon
                .as_written(fossili, Spelling::WithL(b"fossiil"))
                .is_real()
        );
        assert!(!lexicon.as_written(fossili, Spelling::WithoutL).is_real());
        // A letter of another script for the letter could be either.
        assert!(lexicon.as_written(fossili, Spelling::Either).is_real());
        // A word written with a digit or symbol for a letter is no word.
        assert!(!lexicon.as_written(fossili, Spelling::Leet).is_real());
        // Words written without an `l` stay real so written, and only so.
        let white = kind("white");
        assert!(lexicon.as_written(white, Spelling::WithoutL).is_real());
        assert!(
            !lexicon
                .as_written(white, Spelling::WithL(b"whlte"))
                .is_real()
        );
        let black = kind("black");
        assert!(
            lexicon
                .as_written(black, Spelling::WithL(b"black"))
                .is_real()
        );
        assert!(!lexicon.as_written(black, Spelling::WithoutL).is_real());
        // What the kind says is kept.
        let common = kind("michael");
        assert_eq!(
            lexicon.as_written(common, Spelling::WithL(b"michael")),
            common
        );
        assert!(common.is_common());
    }
}
