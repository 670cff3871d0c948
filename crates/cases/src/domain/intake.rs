//! What a case opened from a screening hit says: the brands and the listing in its title,
//! the reasons screening gave in its summary, in English and in the other languages the
//! alert wrote them in. Screening already bounded them; a case keeps its own bounds, so
//! that what an analyst reads stays short whatever sent it.

use std::collections::BTreeMap;

use assay_common::language::Language;
use assay_proto::screening::v1::WrittenExplanations;

/// Characters of the listing's title quoted in a case's title.
const TITLE_QUOTE: usize = 200;
/// Characters of the brand names in a case's title.
const TITLE_BRANDS: usize = 300;
/// Characters of a case's summary.
const SUMMARY: usize = 10_000;
/// Characters of a listing's title kept on the case's listing.
pub const LISTING_TITLE: usize = 500;

/// The title and summary of a case opened from a hit on `listing_title` naming `brands`,
/// for the reasons in `explanations`.
pub fn from_hit(listing_title: &str, brands: &[&str], explanations: &[&str]) -> (String, String) {
    let quoted: String = listing_title.chars().take(TITLE_QUOTE).collect();
    let title = if brands.is_empty() {
        format!("Screening: {quoted}")
    } else {
        let named: String = brands.join(", ").chars().take(TITLE_BRANDS).collect();
        format!("Screening ({named}): {quoted}")
    };
    (title, summary(explanations.iter().copied()))
}

/// Explanations one to a line, cut at the summary's bound.
fn summary<'a>(explanations: impl IntoIterator<Item = &'a str>) -> String {
    let mut lines = explanations.into_iter();
    let mut joined = String::new();
    let mut left = SUMMARY;
    for (i, line) in lines.by_ref().enumerate() {
        if left == 0 {
            break;
        }
        if i > 0 {
            joined.push('\n');
            left -= 1;
        }
        let taken: String = line.chars().take(left).collect();
        left -= taken.chars().count();
        joined.push_str(&taken);
    }
    joined
}

/// Languages of an alert read, at most: Assay writes two.
const MAX_TRANSLATIONS: usize = 8;

/// The summaries of a case opened from a hit in the other languages its alert wrote the
/// explanations in, as a case keeps them (`{"zh-Hans": "..."}`), or `None`. Languages
/// Assay does not write, English (the summary itself) and repeats are passed over.
pub fn translated_summaries(translations: &[WrittenExplanations]) -> Option<String> {
    let mut summaries = BTreeMap::new();
    for written in translations.iter().take(MAX_TRANSLATIONS) {
        let Some(language) = Language::of_tag(&written.language) else {
            continue;
        };
        if language == Language::English {
            continue;
        }
        summaries
            .entry(language.tag())
            .or_insert_with(|| summary(written.explanations.iter().map(String::as_str)));
    }
    (!summaries.is_empty()).then(|| serde_json::to_string(&summaries).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_names_the_brands_and_quotes_the_listing() {
        let (title, summary) = from_hit(
            "LV bag 1:1",
            &["Louis Vuitton"],
            &["names Louis Vuitton", "price far below"],
        );
        assert_eq!(title, "Screening (Louis Vuitton): LV bag 1:1");
        assert_eq!(summary, "names Louis Vuitton\nprice far below");
        let (bare, _) = from_hit("a bag", &[], &[]);
        assert_eq!(bare, "Screening: a bag");
    }

    #[test]
    fn a_title_stays_short_whatever_the_brand_names() {
        let long = "Maison ".repeat(1000);
        let brands: Vec<&str> = vec![long.as_str(); 50];
        let (title, _) = from_hit(&"x".repeat(1000), &brands, &[]);
        assert_eq!(
            title.chars().count(),
            "Screening (): ".len() + TITLE_BRANDS + TITLE_QUOTE
        );
    }

    #[test]
    fn the_summary_is_kept_in_each_language_assay_writes() {
        let written = |language: &str, lines: &[&str]| WrittenExplanations {
            language: language.to_owned(),
            explanations: lines.iter().map(|l| (*l).to_owned()).collect(),
        };
        let kept = translated_summaries(&[
            written("zh-Hans", &["名为路易威登", "价格远低于"]),
            written("zh-CN", &["a repeat is passed over"]),
            written("en", &["English is the summary itself"]),
            written("fr", &["a language Assay does not write"]),
            written("not a tag", &["x"]),
        ]);
        assert_eq!(
            kept.as_deref(),
            Some(r#"{"zh-Hans":"名为路易威登\n价格远低于"}"#)
        );
        assert_eq!(translated_summaries(&[]), None);
        assert_eq!(translated_summaries(&[written("en", &["x"])]), None);
        // Bounded however much is sent.
        let long = "长".repeat(SUMMARY);
        let lines = vec![long.as_str(); 1000];
        let big = translated_summaries(&[written("zh-Hans", &lines)]).unwrap();
        let map: BTreeMap<String, String> = serde_json::from_str(&big).unwrap();
        assert_eq!(map["zh-Hans"].chars().count(), SUMMARY);
    }

    #[test]
    fn long_text_is_cut_on_characters_not_bytes() {
        let title = "包".repeat(1000);
        let (quoted, _) = from_hit(&title, &[], &[]);
        assert_eq!(quoted.chars().count(), "Screening: ".len() + TITLE_QUOTE);
        let long = "é".repeat(SUMMARY + 10);
        let (_, summary) = from_hit("", &[], &[&long]);
        assert_eq!(summary.chars().count(), SUMMARY);
    }
}
