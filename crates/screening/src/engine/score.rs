//! Finding the evidence in a normalised listing, and weighing it into a verdict.
//!
//! Each piece of evidence contributes a probability-like weight; a brand's risk combines
//! them as `1 - Π(1 - w)`, so independent signals reinforce each other and no single weak
//! one decides. A brand term that is also an ordinary word, or only part of a longer name,
//! counts only with supporting evidence (category, price, vocabulary, image, obfuscation).

use assay_proto::screening::v1::{
    BrandConcern, Decision, ImageMatch, MatchMethod, PriceComparison, Signal, SignalKind,
    TextField, TextMatch, Verdict, signal::Detail,
};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::normalize::{CONFUSABLE, DIACRITIC, LEET, Normalized, SPACED, is_whole_word};
use super::{Engine, ListingInput, Scratch, Strength, TermRef};

/// `format!` into a string sized for a sentence, sparing the reallocations of a growing one.
macro_rules! sentence {
    ($($arg:tt)*) => {{
        use std::fmt::Write as _;
        let mut sentence = String::with_capacity(160);
        let _ = write!(sentence, $($arg)*);
        sentence
    }};
}

/// Weights of the evidence.
mod weight {
    pub const TITLE_EXACT: f64 = 0.40;
    pub const DESCRIPTION_EXACT: f64 = 0.20;
    pub const TITLE_OBFUSCATED: f64 = 0.60;
    pub const DESCRIPTION_OBFUSCATED: f64 = 0.40;
    pub const TITLE_FUZZY: f64 = 0.45;
    pub const TITLE_AMBIGUOUS: f64 = 0.15;
    pub const DESCRIPTION_AMBIGUOUS: f64 = 0.05;
    pub const TITLE_PARTIAL: f64 = 0.25;
    pub const DESCRIPTION_PARTIAL: f64 = 0.10;
    pub const OBFUSCATED_WEAK: f64 = 0.45;
    pub const COMPATIBILITY: f64 = 0.05;
    pub const CATEGORY: f64 = 0.15;
    pub const IMAGE_CLOSE: f64 = 0.50;
    pub const IMAGE_NEAR: f64 = 0.30;
    pub const NEW_ACCOUNT: f64 = 0.10;
    pub const POOR_RATING: f64 = 0.10;
    pub const PER_STRIKE: f64 = 0.15;
    /// A weak brand term without support never goes above this.
    pub const UNSUPPORTED_CAP: f64 = 0.20;
    /// A compatibility reference ("case for iPhone") without price or vocabulary.
    pub const COMPATIBILITY_CAP: f64 = 0.30;
    /// Counterfeit vocabulary with no brand at all: scaled down ("replica" is also a word
    /// for scale models and museum copies) and capped, so it can ask for a review but never
    /// block on its own.
    pub const VOCABULARY_ONLY_SCALE: f64 = 0.80;
    pub const VOCABULARY_ONLY_CAP: f64 = 0.60;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Field {
    Title,
    Description,
}

/// An automaton match that stands as whole words.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawMatch {
    field: Field,
    start: usize,
    end: usize,
    pattern: u32,
}

/// The best text evidence for a brand.
#[derive(Debug, Clone, Copy)]
struct TextEvidence {
    field: Field,
    start: usize,
    end: usize,
    term: u32,
    strength: Strength,
    fuzzy_distance: u8,
    compat: bool,
}

struct Concern {
    brand: u32,
    text: Option<TextEvidence>,
    /// (image index, image hash, logo hash, distance)
    image: Option<(usize, u64, u64, u32)>,
    vocabulary: Vec<(Field, usize, usize, u32, f64)>,
}

fn noisy_or(contributions: impl IntoIterator<Item = f64>) -> f64 {
    1.0 - contributions
        .into_iter()
        .fold(1.0, |keep, c| keep * (1.0 - c.clamp(0.0, 1.0)))
}

fn decide(risk: f64, review: f64, block: f64) -> Decision {
    if risk >= block {
        Decision::Block
    } else if risk >= review {
        Decision::Review
    } else {
        Decision::Allow
    }
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::Title => "title",
        Field::Description => "description",
    }
}

pub(crate) fn screen(
    engine: &Engine,
    listing: &ListingInput<'_>,
    scratch: &mut Scratch,
) -> Verdict {
    let Scratch {
        title,
        description,
        matches,
        compat,
        fuzzy,
        fuzzy_hits,
        logos,
        fuzzy_cache,
    } = scratch;
    matches.clear();
    compat.clear();
    fuzzy_hits.clear();

    if let Some(matcher) = &engine.matcher {
        for (field, text) in [(Field::Title, &*title), (Field::Description, &*description)] {
            for m in matcher.find_iter(&text.text) {
                // Patterns begin with the space before the word (see `anchored_pattern`).
                let start = m.start() + usize::from(text.text[m.start()] == b' ');
                if !is_whole_word(&text.text, start, m.end()) {
                    continue;
                }
                let pattern = m.pattern().as_u32();
                if engine.patterns[pattern as usize].compatibility {
                    compat.push((field, m.end()));
                }
                matches.push(RawMatch {
                    field,
                    start,
                    end: m.end(),
                    pattern,
                });
            }
        }
    }

    // Misspellings: words that matched nothing and are not ordinary words. Matches are in
    // order, title first, and do not overlap within a field: one cursor walks them.
    let split = matches.partition_point(|m| m.field == Field::Title);
    let (title_matches, description_matches) = matches.split_at(split);
    for (field, normalized, mut matched) in [
        (Field::Title, &*title, title_matches),
        (Field::Description, &*description, description_matches),
    ] {
        let text = &normalized.text;
        let mut at = 0;
        while at < text.len() {
            let start = at;
            while at < text.len() && text[at].is_ascii_lowercase() {
                at += 1;
            }
            let end = at;
            let whole_word = end > start
                && (end == text.len() || !text[end].is_ascii_alphanumeric() && text[end] < 0x80)
                && (start == 0
                    || !text[start - 1].is_ascii_alphanumeric() && text[start - 1] < 0x80);
            while matched.first().is_some_and(|m| m.end <= start) {
                matched = &matched[1..];
            }
            if whole_word
                && end - start >= super::fuzzy::MIN_TERM - 1
                && matched.first().is_none_or(|m| m.start >= end)
            {
                // Titles are short and deliberate: a name two edits off there is worth
                // finding. Descriptions are long and loose, so one edit only.
                let limit = match field {
                    Field::Title => 2,
                    Field::Description => 1,
                };
                for &(id, distance) in fuzzy_cache.lookup(engine, &text[start..end], limit, fuzzy) {
                    fuzzy_hits.push((field, start, end, engine.fuzzy.term(id).target, distance));
                }
            }
            // Skip to the next word.
            while at < text.len() && !text[at].is_ascii_lowercase() {
                at += 1;
            }
        }
    }

    let mut concerns: Vec<Concern> = Vec::new();
    let mut global_vocabulary: Vec<(Field, usize, usize, u32, f64)> = Vec::new();
    let concern_of = |concerns: &mut Vec<Concern>, brand: u32| -> usize {
        match concerns.iter().position(|c| c.brand == brand) {
            Some(at) => at,
            None => {
                concerns.push(Concern {
                    brand,
                    text: None,
                    image: None,
                    vocabulary: Vec::new(),
                });
                concerns.len() - 1
            }
        }
    };

    for m in matches.iter() {
        let text = match m.field {
            Field::Title => &*title,
            Field::Description => &*description,
        };
        for term in engine.terms_of(m.pattern) {
            match *term {
                TermRef::Brand {
                    brand,
                    term,
                    strength,
                } => {
                    let evidence = TextEvidence {
                        field: m.field,
                        start: m.start,
                        end: m.end,
                        term,
                        strength,
                        fuzzy_distance: 0,
                        compat: follows_compatibility(compat, m.field, m.start, &text.text),
                    };
                    let at = concern_of(&mut concerns, brand);
                    keep_best(&mut concerns[at].text, evidence, title, description);
                }
                TermRef::Vocabulary { .. } if negated(&text.text, m.start) => {}
                TermRef::Vocabulary {
                    brand: None,
                    term,
                    weight,
                } => {
                    if !global_vocabulary.iter().any(|v| v.3 == term) {
                        global_vocabulary.push((m.field, m.start, m.end, term, weight));
                    }
                }
                TermRef::Vocabulary {
                    brand: Some(brand),
                    term,
                    weight,
                } => {
                    let at = concern_of(&mut concerns, brand);
                    if !concerns[at].vocabulary.iter().any(|v| v.3 == term) {
                        concerns[at]
                            .vocabulary
                            .push((m.field, m.start, m.end, term, weight));
                    }
                }
                TermRef::Compatibility => {}
            }
        }
    }
    for &(field, start, end, target, distance) in fuzzy_hits.iter() {
        let (brand, term, strength) = engine.fuzzy_targets[target as usize];
        let text = match field {
            Field::Title => &title.text,
            Field::Description => &description.text,
        };
        let evidence = TextEvidence {
            field,
            start,
            end,
            term,
            strength,
            fuzzy_distance: distance,
            compat: follows_compatibility(compat, field, start, text),
        };
        let at = concern_of(&mut concerns, brand);
        keep_best(&mut concerns[at].text, evidence, title, description);
    }

    for (index, &hash) in listing.image_hashes.iter().enumerate() {
        engine.logos.near(hash, logos);
        for &(logo, brand, distance) in logos.iter() {
            let at = concern_of(&mut concerns, brand);
            let better = concerns[at].image.is_none_or(|(_, _, _, d)| distance < d);
            if better {
                concerns[at].image = Some((index, hash, logo, distance));
            }
        }
    }

    let mut verdict = Verdict {
        risk_score: 0.0,
        decision: Decision::Allow as i32,
        brands: Vec::new(),
        signals: Vec::new(),
        catalogue_revision: engine.catalogue_revision,
        rule_version: engine.rule_version,
    };
    if concerns.is_empty() && global_vocabulary.is_empty() {
        return verdict;
    }

    let source = |field: Field| match field {
        Field::Title => (listing.title, &*title),
        Field::Description => (listing.description, &*description),
    };
    let vocabulary_signal = |(field, start, end, term, weight): (Field, usize, usize, u32, f64),
                             brand_id: &str|
     -> Signal {
        let (original, normalized) = source(field);
        let text = text_match(
            original,
            normalized,
            field,
            start,
            end,
            &engine.term_texts[term as usize],
        );
        Signal {
            kind: SignalKind::Vocabulary as i32,
            brand_id: brand_id.to_owned(),
            contribution: weight,
            explanation: sentence!(
                "{:?} in the {} is counterfeit vocabulary",
                text.matched_text,
                field_name(field)
            ),
            detail: Some(Detail::Text(text)),
        }
    };

    let listing_signals: Vec<Signal> = global_vocabulary
        .iter()
        .map(|v| vocabulary_signal(*v, ""))
        .chain(seller_signals(listing))
        .collect();
    let vocabulary_contributions: Vec<f64> = global_vocabulary.iter().map(|v| v.4).collect();
    let seller_contributions: Vec<f64> = listing_signals
        .iter()
        .filter(|s| s.kind == SignalKind::Seller as i32)
        .map(|s| s.contribution)
        .collect();

    let mut worst = Decision::Allow;
    let mut risk = 0.0f64;
    let mut used_listing_signals = false;

    concerns.sort_by_key(|c| c.brand);
    for concern in &concerns {
        let brand = &engine.brands[concern.brand as usize];
        if brand.authorized_sellers.contains(listing.seller_id) {
            continue;
        }
        if concern.text.is_none() && concern.image.is_none() {
            continue; // only brand vocabulary: nothing says the listing is about the brand
        }
        let mut signals: Vec<Signal> = Vec::with_capacity(6);
        let mut obfuscated = false;
        let mut weak = true;
        let mut compat_only = false;
        if let Some(text) = concern.text {
            let (original, normalized) = source(text.field);
            let mut detail = text_match(
                original,
                normalized,
                text.field,
                text.start,
                text.end,
                &engine.term_texts[text.term as usize],
            );
            if text.fuzzy_distance > 0 {
                detail.methods = vec![MatchMethod::Fuzzy as i32];
                detail.edit_distance = i32::from(text.fuzzy_distance);
            }
            detail.compatibility_reference = text.compat;
            obfuscated = !detail.methods.is_empty();
            let contribution = text_weight(&text, obfuscated);
            weak = text.strength != Strength::Distinctive || text.compat;
            compat_only = text.compat;
            signals.push(Signal {
                kind: SignalKind::BrandText as i32,
                brand_id: brand.id.clone(),
                contribution,
                explanation: text_explanation(&detail, &text, &brand.name),
                detail: Some(Detail::Text(detail)),
            });
        }
        if let Some((index, hash, logo, distance)) = concern.image {
            weak = false;
            signals.push(Signal {
                kind: SignalKind::Image as i32,
                brand_id: brand.id.clone(),
                contribution: if distance <= 3 {
                    weight::IMAGE_CLOSE
                } else {
                    weight::IMAGE_NEAR
                },
                explanation: sentence!(
                    "image {} is {distance} bits from a logo of brand {:?}",
                    index + 1,
                    brand.name
                ),
                detail: Some(Detail::Image(ImageMatch {
                    image_index: index as i32,
                    image_hash: hash,
                    logo_hash: logo,
                    distance: distance as i32,
                })),
            });
        }
        let category_match = !listing.category.is_empty()
            && brand
                .categories
                .iter()
                .any(|c| category_matches(listing.category, c));
        if category_match {
            signals.push(Signal {
                kind: SignalKind::Category as i32,
                brand_id: brand.id.clone(),
                contribution: weight::CATEGORY,
                explanation: sentence!(
                    "listed in {:?}, a category of brand {:?}",
                    listing.category,
                    brand.name
                ),
                detail: None,
            });
        }
        // An accessory that names what it fits is cheap by nature: its price says nothing.
        let price = if compat_only {
            None
        } else {
            price_signal(engine, brand, listing)
        };
        let priced_low = price.is_some();
        signals.extend(price);
        let brand_vocabulary: Vec<Signal> = concern
            .vocabulary
            .iter()
            .map(|v| vocabulary_signal(*v, &brand.id))
            .collect();
        let has_vocabulary = !brand_vocabulary.is_empty() || !vocabulary_contributions.is_empty();
        signals.extend(brand_vocabulary);

        let mut contributions: Vec<f64> = signals.iter().map(|s| s.contribution).collect();
        contributions.extend(&vocabulary_contributions);
        contributions.extend(&seller_contributions);
        let mut brand_risk = noisy_or(contributions);
        let supported =
            category_match || priced_low || has_vocabulary || obfuscated || concern.image.is_some();
        let mut cap_note = None;
        if compat_only && !(priced_low || has_vocabulary) && concern.image.is_none() {
            brand_risk = brand_risk.min(weight::COMPATIBILITY_CAP);
            cap_note = Some("names what the product fits; no price or vocabulary evidence");
        } else if weak && !supported {
            brand_risk = brand_risk.min(weight::UNSUPPORTED_CAP);
            cap_note = Some("an ordinary word or part of the name, without supporting evidence");
        }
        if let (Some(note), Some(first)) = (cap_note, signals.first_mut()) {
            first.explanation.push_str(" (");
            first.explanation.push_str(note);
            first.explanation.push(')');
        }
        let decision = decide(brand_risk, brand.thresholds.review, brand.thresholds.block);
        used_listing_signals = true;
        risk = risk.max(brand_risk);
        worst = worst.max(decision);
        verdict.brands.push(BrandConcern {
            brand_id: brand.id.clone(),
            brand_name: brand.name.clone(),
            member_id: brand.member_id.clone(),
            risk_score: brand_risk,
            decision: decision as i32,
        });
        verdict.signals.extend(signals);
    }

    if !vocabulary_contributions.is_empty() {
        // Counterfeit vocabulary with no brand: what the seller has done before counts too.
        let vocabulary_risk = (noisy_or(
            vocabulary_contributions
                .iter()
                .chain(&seller_contributions)
                .copied(),
        ) * weight::VOCABULARY_ONLY_SCALE)
            .min(weight::VOCABULARY_ONLY_CAP);
        let decision = decide(
            vocabulary_risk,
            engine.thresholds.review,
            engine.thresholds.block,
        );
        risk = risk.max(vocabulary_risk);
        worst = worst.max(decision);
        used_listing_signals = true;
    }
    if used_listing_signals {
        verdict.signals.extend(listing_signals);
    }

    verdict.risk_score = risk;
    verdict.decision = worst as i32;
    verdict.brands.sort_by(|a, b| {
        b.risk_score
            .total_cmp(&a.risk_score)
            .then_with(|| a.brand_id.cmp(&b.brand_id))
    });
    verdict.signals.sort_by(|a, b| {
        b.contribution
            .total_cmp(&a.contribution)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.brand_id.cmp(&b.brand_id))
            .then_with(|| a.explanation.cmp(&b.explanation))
    });
    verdict
}

/// Keeps the strongest text evidence for a brand.
fn keep_best(
    slot: &mut Option<TextEvidence>,
    candidate: TextEvidence,
    title: &Normalized,
    description: &Normalized,
) {
    let rank = |e: &TextEvidence| {
        let text = match e.field {
            Field::Title => title,
            Field::Description => description,
        };
        let obfuscated = e.fuzzy_distance > 0
            || text.marks_in(e.start, e.end) & (LEET | CONFUSABLE | SPACED) != 0;
        text_weight(e, obfuscated)
    };
    let better = match slot {
        None => true,
        Some(current) => {
            let (new, old) = (rank(&candidate), rank(current));
            new > old
                || (new == old
                    && (candidate.field, candidate.start) < (current.field, current.start))
        }
    };
    if better {
        *slot = Some(candidate);
    }
}

/// Words that deny what follows them: "not fake", "no replica", "never a copy".
const NEGATORS: &[&[u8]] = &[
    b"not", b"no", b"never", b"non", b"zero", b"without", b"nor", b"isnt", b"nothing",
];

/// Whether the term at `start` of normalised text is denied by one of the two words before it
/// ("100% authentic, not fake"; "not a dupe").
fn negated(text: &[u8], start: usize) -> bool {
    let before = &text[..start];
    before
        .split(|&b| b == b' ')
        .rev()
        .filter(|word| !word.is_empty())
        .take(2)
        .any(|word| NEGATORS.contains(&word))
}

/// Whether a brand match at `start` follows a compatibility phrase, with at most one word
/// between them ("case for the iPhone").
fn follows_compatibility(
    compat: &[(Field, usize)],
    field: Field,
    start: usize,
    text: &[u8],
) -> bool {
    compat.iter().any(|&(f, end)| {
        f == field && end <= start && text[end..start].iter().filter(|&&b| b == b' ').count() <= 2
    })
}

fn text_weight(text: &TextEvidence, obfuscated: bool) -> f64 {
    use weight::*;
    if text.compat {
        return COMPATIBILITY;
    }
    let title = text.field == Field::Title;
    match (text.strength, obfuscated, title) {
        (Strength::Distinctive, _, true) if text.fuzzy_distance > 0 => TITLE_FUZZY,
        (Strength::Distinctive, true, true) => TITLE_OBFUSCATED,
        (Strength::Distinctive, true, false) => DESCRIPTION_OBFUSCATED,
        (Strength::Distinctive, false, true) => TITLE_EXACT,
        (Strength::Distinctive, false, false) => DESCRIPTION_EXACT,
        (_, true, true) => OBFUSCATED_WEAK,
        (Strength::Ambiguous, _, true) => TITLE_AMBIGUOUS,
        (Strength::Ambiguous, _, false) => DESCRIPTION_AMBIGUOUS,
        (Strength::Partial, _, true) => TITLE_PARTIAL,
        (Strength::Partial, _, false) => DESCRIPTION_PARTIAL,
    }
}

fn method_name(method: i32) -> &'static str {
    match MatchMethod::try_from(method).unwrap_or_default() {
        MatchMethod::Confusable => "look-alike characters",
        MatchMethod::Leetspeak => "leetspeak",
        MatchMethod::Spaced => "letters spaced apart",
        MatchMethod::Fuzzy => "a misspelling",
        MatchMethod::Diacritics => "added accents",
        MatchMethod::Exact | MatchMethod::Unspecified => "exactly",
    }
}

fn text_explanation(detail: &TextMatch, text: &TextEvidence, brand: &str) -> String {
    use std::fmt::Write as _;
    let what = match text.strength {
        _ if text.compat => "names what the product fits:",
        Strength::Distinctive => "matches",
        Strength::Ambiguous => "is an ordinary word that matches",
        Strength::Partial => "matches part of",
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

/// The listing's own text of a normalised span, its character offsets, and how it differs
/// from the term.
fn text_match(
    original: &str,
    normalized: &Normalized,
    field: Field,
    start: usize,
    end: usize,
    term: &str,
) -> TextMatch {
    let byte_start = normalized.origin(start);
    let last = normalized.origin(end - 1);
    let byte_end = last + original[last..].chars().next().map_or(1, char::len_utf8);
    let matched = &original[byte_start..byte_end];
    let char_start = original[..byte_start].chars().count();
    let char_end = char_start + matched.chars().count();
    let marks = normalized.marks_in(start, end);

    let mut methods = Vec::new();
    if marks & SPACED != 0 {
        methods.push(MatchMethod::Spaced as i32);
    }
    if !same_letters(matched, term) {
        if fold(matched, true) == fold(term, true) {
            if marks & DIACRITIC != 0 {
                methods.push(MatchMethod::Diacritics as i32);
            }
        } else {
            let before = methods.len();
            if marks & LEET != 0 {
                methods.push(MatchMethod::Leetspeak as i32);
            }
            if marks & CONFUSABLE != 0 {
                methods.push(MatchMethod::Confusable as i32);
            }
            if marks & DIACRITIC != 0 {
                methods.push(MatchMethod::Diacritics as i32);
            }
            if methods.len() == before {
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

/// Lower-case letters and digits only (and without accents if `strip_marks`).
/// Whether two texts have the same letters and digits, ignoring case, width and separators.
fn same_letters(a: &str, b: &str) -> bool {
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

fn fold(text: &str, strip_marks: bool) -> String {
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

fn category_matches(listing: &str, brand: &str) -> bool {
    listing == brand
        || listing
            .strip_prefix(brand)
            .is_some_and(|rest| rest.starts_with('/'))
        || brand
            .strip_prefix(listing)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn price_signal(
    engine: &Engine,
    brand: &super::BrandEntry,
    listing: &ListingInput<'_>,
) -> Option<Signal> {
    let price = listing.price?;
    let reference = brand
        .reference_prices
        .iter()
        .filter(|r| category_matches(listing.category, &r.category))
        .min_by(|a, b| {
            let (x, y) = (engine.rates.value(&a.price), engine.rates.value(&b.price));
            x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
        })?;
    let ratio = engine.rates.value(&price)? / engine.rates.value(&reference.price)?;
    let contribution = match ratio {
        r if r < 0.15 => 0.65,
        r if r < 0.30 => 0.50,
        r if r < 0.50 => 0.30,
        _ => return None,
    };
    Some(Signal {
        kind: SignalKind::Price as i32,
        brand_id: brand.id.clone(),
        contribution,
        explanation: sentence!(
            "priced {price}, {:.0}% of brand {:?}'s reference price {} for {}",
            ratio * 100.0,
            brand.name,
            reference.price,
            reference.category
        ),
        detail: Some(Detail::Price(PriceComparison {
            price: Some(price.to_proto()),
            reference_price: Some(reference.price.to_proto()),
            ratio,
        })),
    })
}

fn seller_signals(listing: &ListingInput<'_>) -> Vec<Signal> {
    let Some(seller) = listing.seller else {
        return Vec::new();
    };
    let mut signals = Vec::new();
    let mut push = |contribution: f64, explanation: String| {
        signals.push(Signal {
            kind: SignalKind::Seller as i32,
            brand_id: String::new(),
            contribution,
            explanation,
            detail: None,
        });
    };
    if seller.account_age_days < 30 {
        push(
            weight::NEW_ACCOUNT,
            format!(
                "the seller's account is {} days old",
                seller.account_age_days
            ),
        );
    }
    if let Some(rating) = seller.rating.filter(|r| *r < 3.0) {
        push(
            weight::POOR_RATING,
            sentence!("the seller is rated {rating:.1} of 5"),
        );
    }
    if seller.prior_strikes > 0 {
        let strikes = seller.prior_strikes.min(3);
        push(
            weight::PER_STRIKE * f64::from(strikes),
            sentence!(
                "the seller has {} earlier confirmed infringement{}",
                seller.prior_strikes,
                if seller.prior_strikes == 1 { "" } else { "s" }
            ),
        );
    }
    signals
}
