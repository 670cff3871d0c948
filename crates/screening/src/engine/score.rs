//! Finding the evidence in a normalised listing, and weighing it into a verdict.
//!
//! Each piece of evidence contributes a probability-like weight; a brand's risk combines
//! them as `1 - Π(1 - w)`, so independent signals reinforce each other and no single weak
//! one decides. A brand term that is also an ordinary word, or only part of a longer name,
//! counts only with supporting evidence (category, price, vocabulary, image, obfuscation).

use assay_proto::common::v1::Message;
use assay_proto::screening::v1::{
    BrandConcern, Decision, ImageMatch, MatchMethod, PriceComparison, Signal, SignalKind,
    TextField, TextMatch, Verdict, signal::Detail,
};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::fuzzy::{MAX_WORD, MIN_TERM};
use super::join::Join;
use super::lexicon::lexicon;
use super::normalize::{
    BYTE_CLASS, CONFUSABLE, DIACRITIC, DIGIT, LEET, Normalized, REVERSED, SPACED, STYLED,
    is_whole_word,
};
use super::{Engine, ListingInput, Scratch, Strength, TermRef};

mod explain;
mod readings;

use assay_common::language::{message, quoted};

use explain::{
    accented_letters, lookalikes_listed, same_letters, substitutions, text_explanation, text_match,
};
use readings::{
    camel_case, name_glued_to_a_word, other_readings, plural_of_name, short_name_by_folding,
};

/// Weights of the evidence.
pub(super) mod weight {
    pub const TITLE_EXACT: f64 = 0.40;
    pub const DESCRIPTION_EXACT: f64 = 0.20;
    pub const TITLE_OBFUSCATED: f64 = 0.60;
    pub const DESCRIPTION_OBFUSCATED: f64 = 0.40;
    pub const TITLE_FUZZY: f64 = 0.45;
    pub const TITLE_AMBIGUOUS: f64 = 0.15;
    pub const DESCRIPTION_AMBIGUOUS: f64 = 0.05;
    pub const TITLE_PARTIAL: f64 = 0.25;
    pub const DESCRIPTION_PARTIAL: f64 = 0.10;
    /// A disguised ordinary word or part of a name ("$upreme", "Sup-reme").
    pub const TITLE_DISGUISED_WEAK: f64 = 0.55;
    pub const DESCRIPTION_DISGUISED_WEAK: f64 = 0.30;
    /// A real word one edit from a brand.
    pub const REAL_WORD_MISSPELT: f64 = 0.30;
    pub const COMPATIBILITY: f64 = 0.05;
    pub const CATEGORY: f64 = 0.15;
    pub const IMAGE_CLOSE: f64 = 0.50;
    pub const IMAGE_NEAR: f64 = 0.30;
    pub const NEW_ACCOUNT: f64 = 0.10;
    pub const POOR_RATING: f64 = 0.10;
    pub const PER_STRIKE: f64 = 0.15;
    /// Beyond its strikes: case management counts the seller a repeat infringer.
    pub const REPEAT_INFRINGER: f64 = 0.20;
    /// The seller shares identifiers with a repeat infringer.
    pub const LINKED_TO_REPEAT_INFRINGER: f64 = 0.20;
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
    pub(crate) field: Field,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) pattern: u32,
}

/// A brand term found by looking rather than by the automaton: a misspelling, or a name
/// broken apart and joined again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Looked {
    pub(crate) field: Field,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) brand: u32,
    pub(crate) term: u32,
    pub(crate) strength: Strength,
    /// Edits from the term (0: the same letters).
    pub(crate) distance: u8,
    /// The listing's word is a real word of some language.
    pub(crate) real_word: bool,
    /// A misspelling of a name of four letters or fewer.
    pub(crate) short: bool,
    /// Joined across punctuation, symbols, emoji or a space inside the name.
    pub(crate) separated: bool,
    /// Read with its leet symbols as punctuation, not letters ("Ch|loe").
    pub(crate) symbols_apart: bool,
    /// Glued to another word ("#guccioutlet", "NewGucci"): a word that only contains a name
    /// needs support, as many words do ("Fenceline").
    pub(crate) glued: bool,
    /// The name written in look-alike letters ("rn" for "m"; see `lookalike`).
    pub(crate) lookalike: bool,
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
    real_word: bool,
    short: bool,
    separated: bool,
    symbols_apart: bool,
    glued: bool,
    lookalike: bool,
    compat: bool,
}

/// What else a piece of text evidence needs before it may flag a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    /// Anything pointing the same way: the brand's category, a price far below its
    /// reference, counterfeit vocabulary, a logo.
    Support,
    /// Evidence of a counterfeit, not of the brand: counterfeit vocabulary, a logo, a
    /// disguise.
    Counterfeit,
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
        looked,
        joined,
        join,
        logos,
        fuzzy_cache,
    } = scratch;
    matches.clear();
    compat.clear();
    looked.clear();
    joined.clear();
    fuzzy_cache.renew(engine);

    if let Some(matcher) = &engine.matcher {
        for (field, text) in [(Field::Title, &*title), (Field::Description, &*description)] {
            for m in matcher.find_iter(&text.text) {
                // Patterns begin with the space before the word (see `anchored_pattern`).
                let start = m.start() + usize::from(text.text[m.start()] == b' ');
                if !is_whole_word(&text.text, start, m.end()) {
                    if field == Field::Title {
                        name_glued_to_a_word(engine, &text.text, (start, m.end()), looked);
                    }
                    continue;
                }
                let pattern = m.pattern().as_u32();
                let info = engine.patterns[pattern as usize];
                if info.written_digits != 0 && !info.digits_as_written(text, start) {
                    continue;
                }
                if info.compatibility {
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

    // Real words one edit from a brand are looked up only where something already says
    // counterfeit: its vocabulary, or images to compare with logos.
    let counterfeit_context = !listing.image_hashes.is_empty()
        || matches.iter().any(|m| {
            let text = match m.field {
                Field::Title => &title.text,
                Field::Description => &description.text,
            };
            engine
                .terms_of(m.pattern)
                .iter()
                .any(|t| matches!(t, TermRef::Vocabulary { .. }))
                && !negated(text, m.start)
        });

    // Names broken apart on purpose, joined again.
    for (field, normalized) in [(Field::Title, &*title), (Field::Description, &*description)] {
        let mut joining = Join {
            engine,
            field,
            input: match field {
                Field::Title => listing.title,
                Field::Description => listing.description,
            },
            normalized,
            matches,
            real_words: counterfeit_context,
            cache: fuzzy_cache,
            found: fuzzy,
            looked,
            joined,
        };
        joining.run(join);
    }
    if !joined.is_empty() {
        // A short alias inside a broken name is a piece of that name ("Ap-ple" is not
        // "AP"), not a name of its own.
        matches.retain(|m| {
            m.end - m.start > 3
                || !engine
                    .terms_of(m.pattern)
                    .iter()
                    .all(|t| matches!(t, TermRef::Brand { .. }))
                || !joined
                    .iter()
                    .any(|&(f, s, e)| f == m.field && s <= m.start && m.end <= e)
        });
    }

    find_misspellings(
        engine,
        [
            (listing.title, &*title),
            (listing.description, &*description),
        ],
        matches,
        joined,
        counterfeit_context,
        fuzzy_cache,
        fuzzy,
        looked,
    );

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
                    let original = match m.field {
                        Field::Title => listing.title,
                        Field::Description => listing.description,
                    };
                    let name = &engine.term_texts[term as usize];
                    if short_name_by_folding((original, text), (m.start, m.end), name) {
                        continue;
                    }
                    let evidence = TextEvidence {
                        field: m.field,
                        start: m.start,
                        end: m.end,
                        term,
                        strength,
                        fuzzy_distance: 0,
                        real_word: false,
                        short: false,
                        separated: false,
                        symbols_apart: false,
                        glued: false,
                        lookalike: false,
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
    for found in looked.iter() {
        let text = match found.field {
            Field::Title => &title.text,
            Field::Description => &description.text,
        };
        let evidence = TextEvidence {
            field: found.field,
            start: found.start,
            end: found.end,
            term: found.term,
            strength: found.strength,
            fuzzy_distance: found.distance,
            real_word: found.real_word,
            short: found.short,
            separated: found.separated,
            symbols_apart: found.symbols_apart,
            glued: found.glued,
            lookalike: found.lookalike,
            compat: follows_compatibility(compat, found.field, found.start, text),
        };
        let at = concern_of(&mut concerns, found.brand);
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
        calibration_version: engine.calibration.version,
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
            base_contribution: 0.0,
            kind: SignalKind::Vocabulary as i32,
            brand_id: brand_id.to_owned(),
            contribution: weight,
            explanation: String::new(),
            explanation_parts: vec![message(
                "signal-vocabulary",
                [
                    ("field", field_name(field).into()),
                    ("text", quoted(&text.matched_text)),
                ],
            )],
            detail: Some(Detail::Text(text)),
        }
    };

    let mut listing_signals: Vec<Signal> = global_vocabulary
        .iter()
        .map(|v| vocabulary_signal(*v, ""))
        .chain(seller_signals(listing))
        .collect();
    for signal in &mut listing_signals {
        engine.calibration.apply(signal);
    }
    let vocabulary_contributions: Vec<f64> = listing_signals
        .iter()
        .filter(|s| s.kind == SignalKind::Vocabulary as i32)
        .map(|s| s.contribution)
        .collect();
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
        let mut disguised = false;
        let mut needs = Needs::Nothing;
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
            if text.separated && !detail.methods.contains(&(MatchMethod::Spaced as i32)) {
                detail.methods.insert(0, MatchMethod::Spaced as i32);
            }
            if text.fuzzy_distance > 0 {
                detail.methods.retain(|m| *m == MatchMethod::Spaced as i32);
                detail.methods.push(MatchMethod::Fuzzy as i32);
                detail.edit_distance = i32::from(text.fuzzy_distance);
            }
            detail.compatibility_reference = text.compat;
            if detail.methods == [MatchMethod::Diacritics as i32]
                && ((text.strength != Strength::Distinctive
                    && lexicon().written_with_accents(&detail.matched_text))
                    || brand.spellings.iter().any(|s| {
                        same_letters(s, &detail.matched_text)
                            && accented_letters(s) >= accented_letters(&detail.matched_text)
                    }))
            {
                // An accent is how other languages write ordinary words and names
                // ("oméga", "Michaël"), and how the brand writes itself ("Pokémon"); accents
                // that make no real word of an ordinary one ("Swâtch", "Cóäch") are a
                // disguise.
                detail.methods.clear();
            }
            if text.lookalike && !detail.methods.contains(&(MatchMethod::Confusable as i32)) {
                detail.methods.push(MatchMethod::Confusable as i32);
            }
            disguised = text.fuzzy_distance == 0 && !detail.methods.is_empty();
            let (contribution, needed) = text_weight(&text, disguised);
            needs = needed;
            compat_only = text.compat;
            let listed = if text.lookalike {
                lookalikes_listed(
                    (original, normalized),
                    (text.start, text.end),
                    &engine.term_texts[text.term as usize],
                )
            } else if disguised {
                substitutions(
                    original,
                    normalized,
                    text.start,
                    text.end,
                    &engine.term_texts[text.term as usize],
                    text.symbols_apart,
                )
            } else {
                Vec::new()
            };
            let explanation_parts = text_explanation(&detail, &text, &brand.name, &listed);
            signals.push(Signal {
                base_contribution: 0.0,
                kind: SignalKind::BrandText as i32,
                brand_id: brand.id.clone(),
                contribution,
                explanation: String::new(),
                explanation_parts,
                detail: Some(Detail::Text(detail)),
            });
        }
        if let Some((index, hash, logo, distance)) = concern.image {
            signals.push(Signal {
                base_contribution: 0.0,
                kind: SignalKind::Image as i32,
                brand_id: brand.id.clone(),
                contribution: if distance <= 3 {
                    weight::IMAGE_CLOSE
                } else {
                    weight::IMAGE_NEAR
                },
                explanation: String::new(),
                explanation_parts: vec![message(
                    "signal-image",
                    [
                        ("bits", distance.to_string().into()),
                        ("brand", quoted(&brand.name)),
                        ("image", (index + 1).to_string().into()),
                    ],
                )],
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
                base_contribution: 0.0,
                kind: SignalKind::Category as i32,
                brand_id: brand.id.clone(),
                contribution: weight::CATEGORY,
                explanation: String::new(),
                explanation_parts: vec![message(
                    "signal-category",
                    [
                        ("brand", quoted(&brand.name)),
                        ("category", quoted(listing.category)),
                    ],
                )],
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

        for signal in &mut signals {
            engine.calibration.apply(signal);
        }
        let mut contributions: Vec<f64> = signals.iter().map(|s| s.contribution).collect();
        contributions.extend(&vocabulary_contributions);
        contributions.extend(&seller_contributions);
        let mut brand_risk = noisy_or(contributions);
        let counterfeit = has_vocabulary || disguised || concern.image.is_some();
        let supported = counterfeit || category_match || priced_low;
        let mut cap_note = None;
        if compat_only && !(priced_low || has_vocabulary) && concern.image.is_none() {
            brand_risk = brand_risk.min(weight::COMPATIBILITY_CAP);
            cap_note = Some("compat");
        } else if needs == Needs::Support && !supported {
            brand_risk = brand_risk.min(weight::UNSUPPORTED_CAP);
            let glued = concern.text.is_some_and(|t| t.glued);
            cap_note = Some(if glued { "glued" } else { "support" });
        } else if needs == Needs::Counterfeit && !counterfeit {
            brand_risk = brand_risk.min(weight::UNSUPPORTED_CAP);
            cap_note = Some("counterfeit");
        }
        if let (Some(why), Some(first)) = (cap_note, signals.first_mut()) {
            first
                .explanation_parts
                .push(message("signal-capped", [("why", why.into())]));
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
            .then_with(|| a.explanation_parts.cmp(&b.explanation_parts))
    });
    verdict
}

/// Looks up the words that matched nothing as misspellings of brand names, and words with
/// a digit or two stuck on a name ("Gucci2"). Matches are in order, title first, and do not
/// overlap within a field: one cursor walks them.
#[allow(clippy::too_many_arguments)]
fn find_misspellings(
    engine: &Engine,
    [(title_input, title), (description_input, description)]: [(&str, &Normalized); 2],
    matches: &[RawMatch],
    joined: &[(Field, usize, usize)],
    counterfeit_context: bool,
    fuzzy_cache: &mut super::FuzzyCache,
    fuzzy: &mut Vec<(u32, u8)>,
    looked: &mut Vec<Looked>,
) {
    let split = matches.partition_point(|m| m.field == Field::Title);
    let (title_matches, description_matches) = matches.split_at(split);
    let mut written = [0u8; super::fuzzy::MAX_WORD];
    for (field, input, normalized, mut matched) in [
        (Field::Title, title_input, title, title_matches),
        (
            Field::Description,
            description_input,
            description,
            description_matches,
        ),
    ] {
        let text = &normalized.text;
        let leet = normalized.marked(LEET).next().is_some();
        let camel = field == Field::Title && camel_case(input.as_bytes());
        // A word of three letters is looked up only in a title that already says
        // counterfeit: many are one letter from some four-letter name ("Nke ... AAA").
        let shortest = match field == Field::Title && counterfeit_context {
            true => MIN_TERM - 1,
            false => MIN_TERM,
        };
        let mut at = 0;
        while at < text.len() {
            let start = at;
            while at < text.len() && text[at].is_ascii_lowercase() {
                at += 1;
            }
            // Digits in a word: one may stand for a letter ("G8cci"), one or two be stuck on
            // its end ("Gucci2").
            let mut digits = 0;
            if text.get(at).is_some_and(u8::is_ascii_digit) {
                while let Some(&b) = text.get(at) {
                    let class = BYTE_CLASS[usize::from(b)];
                    if class == 0 {
                        break;
                    }
                    digits += usize::from(class == DIGIT);
                    at += 1;
                }
            }
            let end = at;
            let whole_word = end > start
                && (end == text.len() || !text[end].is_ascii_alphanumeric() && text[end] < 0x80)
                && (start == 0
                    || !text[start - 1].is_ascii_alphanumeric() && text[start - 1] < 0x80);
            while matched.first().is_some_and(|m| m.end <= start) {
                matched = &matched[1..];
            }
            let trailing = if digits > 0 && text[end - 1].is_ascii_digit() {
                text[start..end]
                    .iter()
                    .rev()
                    .take_while(|b| b.is_ascii_digit())
                    .count()
            } else {
                0
            };
            if whole_word && (1..=2).contains(&trailing) && end - start >= trailing + 4 {
                // A digit or two stuck on a name ("Gucci2").
                push_named(
                    engine,
                    &text[start..end - trailing],
                    (field, start, end),
                    trailing as u8,
                    looked,
                );
            }
            let in_joined = || {
                joined
                    .iter()
                    .any(|&(f, s, e)| f == field && s <= start && end <= e)
            };
            // Other readings of a word that matched nothing: with its leet symbols as
            // punctuation, in camel-case pieces, a name glued after a word.
            let long_title_word = field == Field::Title && end - start >= MIN_TERM + 3;
            if (leet || camel || long_title_word)
                && whole_word
                && matched.first().is_none_or(|m| m.start >= end)
                && !in_joined()
            {
                other_readings(
                    engine,
                    (input, normalized),
                    (field, start, end),
                    (leet, camel),
                    looked,
                );
            }
            if whole_word
                && digits <= 1
                && end - start > digits
                && end - start >= if digits == 0 { shortest } else { MIN_TERM }
                && matched.first().is_none_or(|m| m.start >= end)
                && !in_joined()
            {
                // Titles are short and deliberate: a name two edits off there is worth
                // finding. Descriptions are long and loose, so one edit only.
                let limit = match field {
                    Field::Title => 2,
                    Field::Description => 1,
                };
                // A real word of three letters is never read as a misspelling.
                let real_words = counterfeit_context && end - start >= MIN_TERM;
                // How a word was written is asked in titles, where names are disguised:
                // descriptions are long, and their words looked up within one edit only.
                let written = &mut written;
                let (found, real_word) = fuzzy_cache.lookup(
                    engine,
                    &text[start..end],
                    (field == Field::Title)
                        .then(|| normalized.ask_spelling(input, (start, end), written)),
                    limit,
                    real_words,
                    fuzzy,
                );
                let misspelt = !found.is_empty();
                let place = (field, start, end);
                for &(id, distance) in found {
                    looked.push(fuzzy_found(engine, id, place, distance, real_word));
                }
                if !misspelt && field == Field::Title && counterfeit_context {
                    // A name in the plural beside counterfeit vocabulary is the name, even
                    // where the plural is a word too common to look up ("Pumas ... replica").
                    plural_of_name(engine, place, &text[start..end], looked);
                }
                if !misspelt && !real_word && field == Field::Title {
                    // "es" slipped inside a name, as the plural of a part of it
                    // ("Versesace"): two letters off, which a name this short may not be.
                    for name in inner_es_removed(&text[start..end]) {
                        push_named(engine, &name, place, 2, looked);
                    }
                    // Too many letters off for a misspelling, but each of them one that
                    // looks like the name's own ("Clhancl", "Orneqa"). Titles only, as
                    // two edits are: descriptions are long and loose.
                    for id in engine.fuzzy.lookalikes(&text[start..end]) {
                        let found = fuzzy_found(engine, id, place, 0, false);
                        looked.push(Looked {
                            lookalike: true,
                            ..found
                        });
                    }
                }
            }
            // Skip to the next word.
            while text
                .get(at)
                .is_some_and(|&b| BYTE_CLASS[usize::from(b)] == 0)
            {
                at += 1;
            }
        }
    }
}

/// Fuzzy term `id` found at `start..end` of `field`, `distance` letters off.
fn fuzzy_found(
    engine: &Engine,
    id: u32,
    (field, start, end): (Field, usize, usize),
    distance: u8,
    real_word: bool,
) -> Looked {
    let term = engine.fuzzy.term(id);
    let (brand, term_id, strength) = engine.fuzzy_targets[term.target as usize];
    Looked {
        field,
        start,
        end,
        brand,
        term: term_id,
        strength,
        distance,
        real_word,
        short: term.text.len() <= super::fuzzy::SHORT_TERM,
        separated: false,
        symbols_apart: false,
        glued: false,
        lookalike: false,
    }
}

/// Records the brand names `name` spells exactly, found at `start..end` of `field` with
/// `distance` letters more.
fn push_named(
    engine: &Engine,
    name: &[u8],
    (field, start, end): (Field, usize, usize),
    distance: u8,
    looked: &mut Vec<Looked>,
) {
    let Some(pattern) = engine.compact_pattern(name) else {
        return;
    };
    for term in engine.terms_of(pattern) {
        if let &TermRef::Brand {
            brand,
            term,
            strength,
        } = term
        {
            looked.push(Looked {
                field,
                start,
                end,
                brand,
                term,
                strength,
                distance,
                real_word: false,
                short: false,
                separated: false,
                symbols_apart: false,
                glued: false,
                lookalike: false,
            });
        }
    }
}

/// `word` without each "es" inside it (not at either end).
fn inner_es_removed(word: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    (1..word.len().saturating_sub(2))
        .filter(|&at| &word[at..at + 2] == b"es")
        .map(|at| [&word[..at], &word[at + 2..]].concat())
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
        let disguised = e.fuzzy_distance == 0
            && (e.separated
                || e.lookalike
                || text.marks_in(e.start, e.end)
                    & (LEET | CONFUSABLE | SPACED | STYLED | REVERSED)
                    != 0);
        text_weight(e, disguised).0
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

/// The weight of text evidence, and what else it needs before it may flag a listing.
fn text_weight(text: &TextEvidence, disguised: bool) -> (f64, Needs) {
    use weight::*;
    if text.compat {
        return (COMPATIBILITY, Needs::Nothing);
    }
    let title = text.field == Field::Title;
    let pick = |in_title: f64, in_description: f64| if title { in_title } else { in_description };
    let distinctive = text.strength == Strength::Distinctive;
    if text.fuzzy_distance > 0 {
        return if text.real_word {
            // "Celle" is one edit from "Celine" by nature, not by intent.
            (
                pick(REAL_WORD_MISSPELT, DESCRIPTION_AMBIGUOUS),
                Needs::Counterfeit,
            )
        } else if distinctive && !text.short {
            (pick(TITLE_FUZZY, DESCRIPTION_OBFUSCATED), Needs::Nothing)
        } else {
            (pick(TITLE_FUZZY, DESCRIPTION_PARTIAL), Needs::Support)
        };
    }
    if text.glued && matches!(text.strength, Strength::Distinctive | Strength::Ambiguous) {
        // Glued to a common word, even an ordinary-word brand is the brand ("#coachsale"),
        // but a word that contains a name may be another word ("Fenceline").
        return (pick(TITLE_EXACT, DESCRIPTION_EXACT), Needs::Support);
    }
    if text.lookalike && text.short {
        // Many short words are a look-alike or two from a four-letter name.
        return (pick(TITLE_FUZZY, DESCRIPTION_PARTIAL), Needs::Support);
    }
    if disguised {
        // Nobody disguises a word they mean as an ordinary word: the disguise is evidence.
        return if distinctive {
            (
                pick(TITLE_OBFUSCATED, DESCRIPTION_OBFUSCATED),
                Needs::Nothing,
            )
        } else {
            (
                pick(TITLE_DISGUISED_WEAK, DESCRIPTION_DISGUISED_WEAK),
                Needs::Nothing,
            )
        };
    }
    match text.strength {
        Strength::Distinctive => (pick(TITLE_EXACT, DESCRIPTION_EXACT), Needs::Nothing),
        Strength::Ambiguous => (pick(TITLE_AMBIGUOUS, DESCRIPTION_AMBIGUOUS), Needs::Support),
        Strength::Partial => (pick(TITLE_PARTIAL, DESCRIPTION_PARTIAL), Needs::Support),
        Strength::Common => (pick(TITLE_PARTIAL, DESCRIPTION_PARTIAL), Needs::Counterfeit),
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
        base_contribution: 0.0,
        kind: SignalKind::Price as i32,
        brand_id: brand.id.clone(),
        contribution,
        explanation: String::new(),
        explanation_parts: vec![message(
            "signal-price",
            [
                ("brand", quoted(&brand.name)),
                ("category", reference.category.clone().into()),
                ("percent", format!("{:.0}", ratio * 100.0).into()),
                ("price", price.to_string().into()),
                ("reference", reference.price.to_string().into()),
            ],
        )],
        detail: Some(Detail::Price(PriceComparison {
            price: Some(price.to_proto()),
            reference_price: Some(reference.price.to_proto()),
            ratio,
        })),
    })
}

fn seller_signals(listing: &ListingInput<'_>) -> Vec<Signal> {
    if listing.seller.is_none() && listing.record.is_none() {
        return Vec::new();
    }
    let seller = listing.seller.unwrap_or_default();
    let record = listing.record.unwrap_or_default();
    let mut signals = Vec::new();
    let mut push = |contribution: f64, explanation_parts: Vec<Message>| {
        signals.push(Signal {
            base_contribution: 0.0,
            kind: SignalKind::Seller as i32,
            brand_id: String::new(),
            contribution,
            explanation: String::new(),
            explanation_parts,
            detail: None,
        });
    };
    if listing.seller.is_some() && seller.account_age_days < 30 {
        push(
            weight::NEW_ACCOUNT,
            vec![message(
                "seller-new-account",
                [("days", seller.account_age_days.to_string().into())],
            )],
        );
    }
    if let Some(rating) = seller.rating.filter(|r| *r < 3.0) {
        push(
            weight::POOR_RATING,
            vec![message(
                "seller-poor-rating",
                [("rating", format!("{rating:.1}").into())],
            )],
        );
    }
    // The same strikes may be known to the marketplace and to case management: the larger
    // count is weighed, once.
    let recorded = i32::try_from(record.active_strikes).unwrap_or(i32::MAX);
    if recorded > 0 && recorded >= seller.prior_strikes {
        push(
            weight::PER_STRIKE * f64::from(recorded.min(3)),
            vec![message(
                "seller-strikes",
                [
                    ("count", recorded.to_string().into()),
                    ("days", record.window_days.to_string().into()),
                    ("seller", listing.seller_id.to_owned().into()),
                ],
            )],
        );
    } else if seller.prior_strikes > 0 {
        let strikes = seller.prior_strikes.min(3);
        push(
            weight::PER_STRIKE * f64::from(strikes),
            vec![message(
                "seller-earlier-infringements",
                [("count", seller.prior_strikes.to_string().into())],
            )],
        );
    }
    if record.repeat_infringer {
        push(
            weight::REPEAT_INFRINGER,
            vec![message(
                "seller-repeat-infringer",
                [("seller", listing.seller_id.to_owned().into())],
            )],
        );
    }
    // One link is evidence enough; more say little more.
    if let Some(link) = record.links.first() {
        push(weight::LINKED_TO_REPEAT_INFRINGER, {
            let mut parts = vec![message(
                "seller-linked",
                [
                    ("evidence", link.evidence.clone().into()),
                    ("linked", link.seller_id.clone().into()),
                    ("seller", listing.seller_id.to_owned().into()),
                ],
            )];
            if record.links.len() > 1 {
                parts.push(message(
                    "seller-linked-more",
                    [("count", (record.links.len() - 1).to_string().into())],
                ));
            }
            parts
        });
    }
    signals
}
