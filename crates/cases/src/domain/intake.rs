//! What a case opened from a screening hit says: the brands and the listing in its title,
//! the reasons screening gave in its summary. Screening already bounded them; a case keeps
//! its own bounds, so that what an analyst reads stays short whatever sent it.

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
    let summary = explanations.join("\n").chars().take(SUMMARY).collect();
    (title, summary)
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
    fn long_text_is_cut_on_characters_not_bytes() {
        let title = "包".repeat(1000);
        let (quoted, _) = from_hit(&title, &[], &[]);
        assert_eq!(quoted.chars().count(), "Screening: ".len() + TITLE_QUOTE);
        let long = "é".repeat(SUMMARY + 10);
        let (_, summary) = from_hit("", &[], &[&long]);
        assert_eq!(summary.chars().count(), SUMMARY);
    }
}
