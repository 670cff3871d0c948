//! The matching engine: compiled once from the catalogue and the rules, then asked about
//! listings, many times, from many threads.
//!
//! Compilation turns every brand name, alias and counterfeit term into its normalised form
//! ([`normalize`]) and puts them all in one Aho-Corasick automaton; it indexes brand names
//! for misspellings ([`fuzzy`]) and logo hashes for near-duplicates ([`image`]). Screening a
//! listing normalises its text once, runs the automaton once over it, looks up the few
//! title words that matched nothing, and weighs the evidence per brand ([`score`]).

pub mod fuzzy;
pub mod image;
mod join;
pub mod lexicon;
mod lookalike;
mod memo;
pub mod normalize;
pub mod say;
mod score;

use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use assay_common::money::{CurrencyCode, Money};
use assay_proto::registry::v1::CatalogueBrand;
use assay_proto::screening::v1::Verdict;
use rustc_hash::{FxHashMap, FxHashSet};

use self::fuzzy::FuzzyIndex;
use self::image::LogoIndex;
use self::lexicon::{BUILT_IN_VOCABULARY, COMPATIBILITY_PHRASES, lexicon};
use self::memo::FuzzyCache;
use self::normalize::{Normalized, normalize, normalize_term};
use crate::calibration::Shifts;

/// Risk thresholds: from `review` a person looks, from `block` the listing is taken down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub review: f64,
    pub block: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            review: 0.5,
            block: 0.8,
        }
    }
}

/// Exchange rates: what one unit of each currency is worth in a common unit.
#[derive(Debug, Clone, Default)]
pub struct ExchangeRates(FxHashMap<CurrencyCode, f64>);

impl ExchangeRates {
    pub fn new(rates: impl IntoIterator<Item = (CurrencyCode, f64)>) -> Self {
        Self(rates.into_iter().collect())
    }

    /// `amount` in the common unit, if its currency has a rate.
    pub fn value(&self, amount: &Money) -> Option<f64> {
        self.0
            .get(&amount.currency)
            .map(|rate| amount.as_f64() * rate)
    }
}

/// A rule as the engine uses it.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    /// The brand it is for; `None` for a global rule.
    pub brand_id: Option<String>,
    /// Terms and weights; weight 0 switches a built-in term off.
    pub vocabulary: Vec<(String, f64)>,
    pub review_threshold: Option<f64>,
    pub block_threshold: Option<f64>,
    /// Brand terms that are ordinary words.
    pub ambiguous_terms: Vec<String>,
}

/// Everything an engine is compiled from.
#[derive(Debug, Clone, Default)]
pub struct EngineInput {
    pub catalogue_revision: i64,
    pub rule_version: i64,
    pub brands: Vec<CatalogueBrand>,
    pub rules: Vec<RuleInput>,
    pub thresholds: Thresholds,
    pub rates: ExchangeRates,
    /// The calibration of the weights in use.
    pub calibration: Shifts,
}

/// Counterfeit vocabulary without a brand: its risk is scaled by the first and capped at
/// the second.
pub(crate) const VOCABULARY_ONLY: (f64, f64) = (
    score::weight::VOCABULARY_ONLY_SCALE,
    score::weight::VOCABULARY_ONLY_CAP,
);

/// What the marketplace says about the seller.
#[derive(Debug, Clone, Copy, Default)]
pub struct SellerInput {
    pub account_age_days: i32,
    pub rating: Option<f64>,
    pub prior_strikes: i32,
}

/// A repeat infringer a seller shares identifiers with, by case management.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerLink {
    pub seller_id: String,
    /// What links them, e.g. "payment account".
    pub evidence: String,
}

/// What case management knows of the seller, at the time of screening.
#[derive(Debug, Clone, Copy, Default)]
pub struct SellerRecord<'a> {
    /// Confirmed strikes within the window.
    pub active_strikes: u32,
    pub window_days: u32,
    pub repeat_infringer: bool,
    /// Repeat infringers it is linked to.
    pub links: &'a [SellerLink],
}

/// A listing, borrowed from the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListingInput<'a> {
    pub seller_id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub category: &'a str,
    pub price: Option<Money>,
    pub image_hashes: &'a [u64],
    pub seller: Option<SellerInput>,
    /// What case management knows of the seller, if anything.
    pub record: Option<SellerRecord<'a>>,
}

/// How far a brand term identifies the brand on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strength {
    /// A name nobody uses for anything else: "Gucci", "Louis Vuitton", "路易威登".
    Distinctive,
    /// Also an ordinary word ("coach", "puma", "apple") or very short ("LV"): needs
    /// supporting evidence.
    Ambiguous,
    /// One word of a longer name ("Vuitton"): needs supporting evidence.
    Partial,
    /// One word of a longer name that is also a common word or name of some language
    /// ("Michael", "Canada", "Saint"): needs evidence that the listing is a counterfeit
    /// (its vocabulary, a logo, a disguise), not only that it could be the brand's.
    Common,
}

/// What a looked-up term stands for: (brand, term, strength).
pub(crate) type Target = (u32, u32, Strength);

/// What a pattern of the automaton stands for.
#[derive(Debug, Clone)]
pub(crate) enum TermRef {
    Brand {
        brand: u32,
        term: u32,
        strength: Strength,
    },
    Vocabulary {
        brand: Option<u32>,
        term: u32,
        weight: f64,
    },
    Compatibility,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PatternInfo {
    first: u32,
    count: u32,
    pub(crate) compatibility: bool,
    /// The places in the pattern where each of its terms writes a digit that normalisation
    /// makes a letter ("7a quality", "1:1", "3M"), as bits: a match counts only where the
    /// text has a digit or leet symbol there too ("ta quality" is no "7A quality").
    pub(crate) written_digits: u32,
}

impl PatternInfo {
    /// Whether the match of this pattern at `start` of `text` writes its digits as digits.
    pub(crate) fn digits_as_written(&self, text: &Normalized, start: usize) -> bool {
        let mut digits = self.written_digits;
        while digits != 0 {
            let at = start + digits.trailing_zeros() as usize;
            if !text.all_marked(at, at + 1, normalize::LEET) {
                return false;
            }
            digits &= digits - 1;
        }
        true
    }
}

/// The places in `term`, normalised, that come from a digit written as a letter (see
/// `PatternInfo::written_digits`); the first 32.
fn written_digits(term: &str) -> u32 {
    if !term.bytes().any(|b| b.is_ascii_digit()) {
        return 0;
    }
    // With provenance, as a listing's text is normalised: it leads with a space.
    let mut out = Normalized::default();
    normalize(term, &mut out);
    let Some(shift) = out.as_str().find(normalize_term(term).as_str()) else {
        return 0;
    };
    out.marked(normalize::LEET)
        .filter(|&at| {
            term.as_bytes()
                .get(out.origin(at))
                .is_some_and(u8::is_ascii_digit)
        })
        .filter_map(|at| at.checked_sub(shift))
        .filter(|&at| at < 32)
        .fold(0, |digits, at| digits | 1 << at)
}

#[derive(Debug)]
pub(crate) struct ReferencePrice {
    category: String,
    price: Money,
}

#[derive(Debug)]
pub(crate) struct BrandEntry {
    pub(crate) id: String,
    pub(crate) member_id: String,
    pub(crate) name: String,
    /// The name and aliases as the brand writes them ("Hermès", "Pokémon").
    pub(crate) spellings: Vec<String>,
    categories: Vec<String>,
    reference_prices: Vec<ReferencePrice>,
    authorized_sellers: FxHashSet<String>,
    thresholds: Thresholds,
}

/// Counts shown by the engine status.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineStats {
    pub brands: usize,
    pub brand_terms: usize,
    pub vocabulary_terms: usize,
    pub fuzzy_keys: usize,
    pub logo_hashes: usize,
    pub build_millis: f64,
}

/// A compiled engine. Immutable: a new catalogue or rule set compiles a new one.
pub struct Engine {
    /// Distinct for every engine built by this process (keys per-thread memos).
    generation: u64,
    catalogue_revision: i64,
    rule_version: i64,
    brands: Vec<BrandEntry>,
    matcher: Option<AhoCorasick>,
    /// Per automaton pattern: where its terms are in `term_refs`, and whether it is a
    /// compatibility phrase. Flat and small, so a match costs one cache line, not a pointer
    /// chase.
    patterns: Vec<PatternInfo>,
    term_refs: Vec<TermRef>,
    /// Original spellings of terms, for explanations.
    term_texts: Vec<String>,
    fuzzy: FuzzyIndex,
    /// What each fuzzy term stands for: (brand, term, strength).
    fuzzy_targets: Vec<(u32, u32, Strength)>,
    /// Brand patterns of one piece (no space), by their text: names broken apart in a
    /// listing ("Gu-cci") are joined and looked up here.
    compact: FxHashMap<Box<[u8]>, u32>,
    /// Per last byte, the lengths (bit `n` for `n` bytes, under 32) of the `compact`
    /// patterns that end with it: where a name may end a longer word, in one load.
    compact_ends: Box<[u32; 256]>,
    /// Two words of a name of three, in their places (see `name_words_key`): a title with
    /// two of them in place is worth reading three words at a time ("The Nrth Face").
    three_words: FxHashSet<u64>,
    /// Each word of a name of two, in its place (see `name_words_key`): a title that says
    /// counterfeit is worth reading two words at a time beside one ("Canaa Goose").
    two_words: FxHashSet<u64>,
    /// Names of one word written twice ("miu miu"): the word, and what the name stands for
    /// (brand, term, strength).
    doubled: Vec<(Box<[u8]>, Target)>,
    logos: LogoIndex,
    thresholds: Thresholds,
    rates: ExchangeRates,
    calibration: Shifts,
    stats: EngineStats,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("catalogue_revision", &self.catalogue_revision)
            .field("rule_version", &self.rule_version)
            .field("stats", &self.stats)
            .finish()
    }
}

/// The automaton pattern of a normalised term: a space first, so it matches only at the
/// start of a word (listing text starts with a space); ideographic terms need no space.
fn anchored_pattern(term: &str) -> Vec<u8> {
    if term.chars().next().is_some_and(normalize::is_cjk_ideograph) {
        term.as_bytes().to_vec()
    } else {
        let mut pattern = Vec::with_capacity(term.len() + 1);
        pattern.push(b' ');
        pattern.extend_from_slice(term.as_bytes());
        pattern
    }
}

/// The word of a brand's name that normalises to `word`, as the name writes it ("Vuitton"
/// of "Louis Vuitton"), for explanations.
fn original_word<'a>(name: &'a str, word: &'a str) -> &'a str {
    name.split(|c: char| c.is_whitespace() || c == '-')
        .find(|piece| normalize_term(piece) == word)
        .unwrap_or(word)
}

/// Buffers reused across listings by one thread.
#[derive(Default)]
pub struct Scratch {
    title: Normalized,
    description: Normalized,
    matches: Vec<score::RawMatch>,
    compat: Vec<(score::Field, usize)>,
    fuzzy: Vec<(u32, u8)>,
    /// Brand terms found by looking rather than by the automaton: misspellings, and
    /// names broken apart.
    looked: Vec<score::Looked>,
    /// Spans of text where a broken name was found: their pieces are not looked at alone.
    joined: Vec<(score::Field, usize, usize)>,
    join: join::JoinScratch,
    logos: Vec<(u64, u32, u32)>,
    /// Misspelling look-ups already done, by word: listings repeat their words (model names,
    /// sizes, jargon), and most look-ups find nothing. Valid for one engine only.
    fuzzy_cache: FuzzyCache,
}

/// The last bytes and lengths of the `compact` patterns (see `Engine::compact_ends`).
fn compact_ends(compact: &FxHashMap<Box<[u8]>, u32>) -> Box<[u32; 256]> {
    let mut ends = Box::new([0u32; 256]);
    for text in compact.keys() {
        if let Some(&last) = text.last().filter(|_| text.len() < 32) {
            ends[usize::from(last)] |= 1 << text.len();
        }
    }
    ends
}

/// Two words of a name of three in their places: `places` 0 for the first two, 1 for the
/// first and last, 2 for the last two; or one word of a name of two (`y` empty), `places`
/// 0 for the first, 1 for the second.
fn name_words_key(places: u8, x: &[u8], y: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    (places, x, y).hash(&mut hasher);
    hasher.finish()
}

struct Builder {
    three_words: FxHashSet<u64>,
    two_words: FxHashSet<u64>,
    doubled: Vec<(Box<[u8]>, Target)>,
    patterns: FxHashMap<String, Vec<TermRef>>,
    term_texts: Vec<String>,
    fuzzy: FuzzyIndex,
    fuzzy_targets: Vec<(u32, u32, Strength)>,
    brand_terms: usize,
    vocabulary_terms: usize,
}

impl Builder {
    fn term(&mut self, text: &str) -> u32 {
        self.term_texts.push(text.to_owned());
        (self.term_texts.len() - 1) as u32
    }

    fn add(&mut self, normalized: String, term: TermRef) {
        let refs = self.patterns.entry(normalized).or_default();
        // The same spelling twice for one brand adds nothing.
        let duplicate = refs.iter().any(|existing| match (existing, &term) {
            (TermRef::Brand { brand: a, .. }, TermRef::Brand { brand: b, .. }) => a == b,
            (TermRef::Compatibility, TermRef::Compatibility) => true,
            _ => false,
        });
        if !duplicate {
            refs.push(term);
        }
    }

    fn add_fuzzy(&mut self, normalized: &str, brand: u32, term: u32, strength: Strength) {
        let target = self.fuzzy_targets.len() as u32;
        self.fuzzy_targets.push((brand, term, strength));
        self.fuzzy.insert(normalized.as_bytes(), target);
    }
}

impl Engine {
    /// Compiles an engine. Takes time (tens of milliseconds for thousands of brands): run it
    /// off the request path.
    pub fn compile(input: EngineInput) -> anyhow::Result<Self> {
        let started = Instant::now();
        let lexicon = lexicon();
        let mut brands_in = input.brands;
        brands_in.sort_by(|a, b| a.brand_id.cmp(&b.brand_id));

        let global_rules: Vec<&RuleInput> = input
            .rules
            .iter()
            .filter(|r| r.brand_id.is_none())
            .collect();
        let mut thresholds = input.thresholds;
        for rule in &global_rules {
            thresholds.review = rule.review_threshold.unwrap_or(thresholds.review);
            thresholds.block = rule.block_threshold.unwrap_or(thresholds.block);
        }
        let brand_rules: FxHashMap<&str, Vec<&RuleInput>> =
            input
                .rules
                .iter()
                .fold(FxHashMap::default(), |mut map, rule| {
                    if let Some(brand_id) = &rule.brand_id {
                        map.entry(brand_id.as_str()).or_default().push(rule);
                    }
                    map
                });
        let mut global_ambiguous: FxHashSet<String> = FxHashSet::default();
        for rule in &global_rules {
            global_ambiguous.extend(rule.ambiguous_terms.iter().map(|t| normalize_term(t)));
        }

        let mut builder = Builder {
            three_words: FxHashSet::default(),
            two_words: FxHashSet::default(),
            doubled: Vec::new(),
            patterns: FxHashMap::default(),
            term_texts: Vec::new(),
            fuzzy: FuzzyIndex::default(),
            fuzzy_targets: Vec::new(),
            brand_terms: 0,
            vocabulary_terms: 0,
        };
        let mut brands = Vec::with_capacity(brands_in.len());
        let mut logo_hashes: Vec<(u64, u32)> = Vec::new();

        for (index, brand) in brands_in.iter().enumerate() {
            let index = index as u32;
            let rules = brand_rules.get(brand.brand_id.as_str());
            let mut brand_thresholds = thresholds;
            let mut ambiguous = global_ambiguous.clone();
            for rule in rules.into_iter().flatten() {
                brand_thresholds.review = rule.review_threshold.unwrap_or(brand_thresholds.review);
                brand_thresholds.block = rule.block_threshold.unwrap_or(brand_thresholds.block);
                ambiguous.extend(rule.ambiguous_terms.iter().map(|t| normalize_term(t)));
            }

            let mut seen_terms: FxHashSet<String> = FxHashSet::default();
            for text in std::iter::once(&brand.name).chain(brand.aliases.iter()) {
                let normalized = normalize_term(text);
                if normalized.is_empty() || !seen_terms.insert(normalized.clone()) {
                    continue;
                }
                let term = builder.term(text);
                let single_word = !normalized.contains(' ');
                let ambiguous_word = ambiguous.contains(&normalized)
                    || normalized.chars().count() < 3
                    || (single_word && lexicon.contains(normalized.as_bytes()));
                let strength = if ambiguous_word {
                    Strength::Ambiguous
                } else {
                    Strength::Distinctive
                };
                builder.brand_terms += 1;
                builder.add(
                    normalized.clone(),
                    TermRef::Brand {
                        brand: index,
                        term,
                        strength,
                    },
                );
                if single_word {
                    // Ordinary-word brands are indexed too: only words that are not ordinary
                    // words themselves are looked up, and an ambiguous match needs support.
                    builder.add_fuzzy(&normalized, index, term, strength);
                    continue;
                }
                // "louis vuitton": also "louisvuitton", and "vuitton" alone (weakly).
                let compact: String = normalized.chars().filter(|c| *c != ' ').collect();
                if seen_terms.insert(compact.clone()) {
                    builder.add(
                        compact.clone(),
                        TermRef::Brand {
                            brand: index,
                            term,
                            strength,
                        },
                    );
                    if strength == Strength::Distinctive {
                        builder.add_fuzzy(&compact, index, term, strength);
                        match normalized.split(' ').collect::<Vec<_>>()[..] {
                            [a, b, c] => builder.three_words.extend([
                                name_words_key(0, a.as_bytes(), b.as_bytes()),
                                name_words_key(1, a.as_bytes(), c.as_bytes()),
                                name_words_key(2, b.as_bytes(), c.as_bytes()),
                            ]),
                            [a, b] => {
                                builder.two_words.extend([
                                    name_words_key(0, a.as_bytes(), b""),
                                    name_words_key(1, b.as_bytes(), b""),
                                ]);
                                if a == b && a.len() <= fuzzy::MAX_WORD {
                                    builder
                                        .doubled
                                        .push((a.as_bytes().into(), (index, term, strength)));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                for word in normalized.split(' ') {
                    let kind = lexicon.kind(word.as_bytes());
                    let distinctive_word = word.len() >= fuzzy::MIN_TERM
                        && word.bytes().all(|b| b.is_ascii_lowercase())
                        && !kind.is_ordinary()
                        && !ambiguous.contains(word);
                    if distinctive_word && seen_terms.insert(word.to_owned()) {
                        let partial = builder.term(original_word(text, word));
                        let strength = if kind.is_common() {
                            Strength::Common
                        } else {
                            Strength::Partial
                        };
                        builder.add(
                            word.to_owned(),
                            TermRef::Brand {
                                brand: index,
                                term: partial,
                                strength,
                            },
                        );
                        // A word one edit from a common name is another name ("Louise").
                        if strength == Strength::Partial {
                            builder.add_fuzzy(word, index, partial, strength);
                        }
                    }
                }
            }

            for rule in rules.into_iter().flatten() {
                for (text, weight) in &rule.vocabulary {
                    let normalized = normalize_term(text);
                    if *weight > 0.0 && !normalized.is_empty() {
                        let term = builder.term(text);
                        builder.vocabulary_terms += 1;
                        builder.add(
                            normalized,
                            TermRef::Vocabulary {
                                brand: Some(index),
                                term,
                                weight: *weight,
                            },
                        );
                    }
                }
            }

            logo_hashes.extend(brand.logo_hashes.iter().map(|hash| (*hash, index)));

            let reference_prices = brand
                .reference_prices
                .iter()
                .filter_map(|r| {
                    let price = Money::from_proto(r.price.as_ref()?).ok()?;
                    Some(ReferencePrice {
                        category: r.category.clone(),
                        price,
                    })
                })
                .collect();
            brands.push(BrandEntry {
                id: brand.brand_id.clone(),
                member_id: brand.member_id.clone(),
                name: brand.name.clone(),
                spellings: std::iter::once(&brand.name)
                    .chain(&brand.aliases)
                    .cloned()
                    .collect(),
                categories: brand.categories.clone(),
                reference_prices,
                authorized_sellers: brand.authorized_seller_ids.iter().cloned().collect(),
                thresholds: brand_thresholds,
            });
        }

        // Global vocabulary: built in, then global rules in order (later wins).
        let mut vocabulary: Vec<(String, String, f64)> = Vec::new();
        let mut position: FxHashMap<String, usize> = FxHashMap::default();
        let rule_terms = global_rules.iter().flat_map(|r| r.vocabulary.iter());
        for (text, weight) in BUILT_IN_VOCABULARY
            .iter()
            .map(|(t, w)| ((*t).to_owned(), *w))
            .chain(rule_terms.cloned())
        {
            let normalized = normalize_term(&text);
            if normalized.is_empty() {
                continue;
            }
            match position.get(&normalized) {
                Some(&at) => vocabulary[at] = (normalized, text, weight),
                None => {
                    position.insert(normalized.clone(), vocabulary.len());
                    vocabulary.push((normalized, text, weight));
                }
            }
        }
        for (normalized, text, weight) in vocabulary {
            if weight > 0.0 {
                let term = builder.term(&text);
                builder.vocabulary_terms += 1;
                builder.add(
                    normalized,
                    TermRef::Vocabulary {
                        brand: None,
                        term,
                        weight,
                    },
                );
            }
        }
        for phrase in COMPATIBILITY_PHRASES {
            builder.add(normalize_term(phrase), TermRef::Compatibility);
        }

        let logos = LogoIndex::new(logo_hashes);
        builder.fuzzy.seal();
        // Sorted patterns: the same input always compiles to the same automaton.
        let mut patterns: Vec<(String, Vec<TermRef>)> = builder.patterns.into_iter().collect();
        patterns.sort_by(|a, b| a.0.cmp(&b.0));
        let matcher = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(patterns.iter().map(|(p, _)| anchored_pattern(p)))
                    .or_else(|_| {
                        // Too large for a DFA: let the library pick.
                        AhoCorasick::builder()
                            .match_kind(MatchKind::LeftmostLongest)
                            .build(patterns.iter().map(|(p, _)| anchored_pattern(p)))
                    })?,
            )
        };
        let compact = patterns
            .iter()
            .enumerate()
            .filter(|(_, (text, refs))| {
                !text.contains(' ') && refs.iter().any(|r| matches!(r, TermRef::Brand { .. }))
            })
            .map(|(at, (text, _))| (text.as_bytes().into(), at as u32))
            .collect();
        let mut term_refs = Vec::new();
        let pattern_infos = patterns
            .into_iter()
            .map(|(_, refs)| {
                let info = PatternInfo {
                    first: term_refs.len() as u32,
                    count: refs.len() as u32,
                    compatibility: refs.iter().any(|r| matches!(r, TermRef::Compatibility)),
                    // Required only where every term of the pattern writes them.
                    written_digits: refs
                        .iter()
                        .map(|r| match r {
                            TermRef::Brand { term, .. } | TermRef::Vocabulary { term, .. } => {
                                written_digits(&builder.term_texts[*term as usize])
                            }
                            TermRef::Compatibility => 0,
                        })
                        .reduce(|a, b| a & b)
                        .unwrap_or(0),
                };
                term_refs.extend(refs);
                info
            })
            .collect();
        let stats = EngineStats {
            brands: brands.len(),
            brand_terms: builder.brand_terms,
            vocabulary_terms: builder.vocabulary_terms,
            fuzzy_keys: builder.fuzzy.keys(),
            logo_hashes: logos.len(),
            build_millis: started.elapsed().as_secs_f64() * 1000.0,
        };
        static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Ok(Self {
            generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            catalogue_revision: input.catalogue_revision,
            rule_version: input.rule_version,
            brands,
            matcher,
            patterns: pattern_infos,
            term_refs,
            term_texts: builder.term_texts,
            fuzzy: builder.fuzzy,
            fuzzy_targets: builder.fuzzy_targets,
            compact_ends: compact_ends(&compact),
            compact,
            three_words: builder.three_words,
            two_words: builder.two_words,
            doubled: builder.doubled,
            logos,
            thresholds,
            rates: input.rates,
            calibration: input.calibration,
            stats,
        })
    }

    pub fn catalogue_revision(&self) -> i64 {
        self.catalogue_revision
    }

    pub fn rule_version(&self) -> i64 {
        self.rule_version
    }

    /// The review threshold of a brand, or the global one (for `None` or a brand the engine
    /// does not know).
    pub fn review_threshold(&self, brand_id: Option<&str>) -> f64 {
        brand_id
            .and_then(|id| {
                let at = self
                    .brands
                    .binary_search_by(|b| b.id.as_str().cmp(id))
                    .ok()?;
                Some(self.brands[at].thresholds.review)
            })
            .unwrap_or(self.thresholds.review)
    }

    /// The calibration version in use (0: none).
    pub fn calibration_version(&self) -> i64 {
        self.calibration.version
    }

    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// The automaton's patterns, for comparing against a bare scan of the same terms.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// The automaton pattern whose text is `piece`, a brand term of one word.
    pub(crate) fn compact_pattern(&self, piece: &[u8]) -> Option<u32> {
        self.compact.get(piece).copied()
    }

    /// The lengths of the brand terms of one word that end with `last`, as bits (bit `n`
    /// for `n` bytes): a cheap test before [`Engine::compact_pattern`].
    pub(crate) fn compact_lengths_ending(&self, last: u8) -> u32 {
        self.compact_ends[usize::from(last)]
    }

    /// Whether two of three neighbouring words `words` stand in their places in a name of
    /// three words: then the third may be that name's, misspelt.
    pub(crate) fn may_be_three_words(&self, [a, b, c]: [&[u8]; 3]) -> bool {
        !self.three_words.is_empty()
            && [(0, a, b), (1, a, c), (2, b, c)]
                .into_iter()
                .any(|(places, x, y)| self.three_words.contains(&name_words_key(places, x, y)))
    }

    /// Whether `a` is the first word of a name of two, or `b` the second.
    pub(crate) fn may_be_two_words(&self, a: &[u8], b: &[u8]) -> bool {
        !self.two_words.is_empty()
            && (self.two_words.contains(&name_words_key(0, a, b""))
                || self.two_words.contains(&name_words_key(1, b, b"")))
    }

    /// The terms behind automaton pattern `pattern`.
    pub(crate) fn terms_of(&self, pattern: u32) -> &[TermRef] {
        let info = self.patterns[pattern as usize];
        &self.term_refs[info.first as usize..info.first as usize + info.count as usize]
    }

    /// Screens one listing.
    pub fn screen(&self, listing: &ListingInput<'_>, scratch: &mut Scratch) -> Verdict {
        normalize(listing.title, &mut scratch.title);
        normalize(listing.description, &mut scratch.description);
        score::screen(self, listing, scratch)
    }
}

#[cfg(test)]
mod tests;
