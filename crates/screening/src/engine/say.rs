//! Screening's explanations in the caller's language.
//!
//! The engine gives each signal's explanation as messages of this catalogue
//! (`Signal.explanation_parts`); the sentences are written from them where a verdict leaves
//! the service, in the language of whoever reads it ([`write`]): the caller of a screening,
//! the reader of a stored hit, case management (English) for an alert. A hit is stored as
//! its messages, so it is read in any language.

use assay_common::language::Language;
use assay_proto::screening::v1::{Signal, Verdict};

assay_common::catalogue!(
    /// Screening's messages, in English and Simplified Chinese (`crates/screening/locales`).
    pub static CATALOGUE
);

/// Writes a verdict's explanations in `language`. A signal without messages (a hit stored
/// before they were kept) keeps the English sentence it has.
pub fn write(verdict: &mut Verdict, language: Language) {
    for signal in &mut verdict.signals {
        write_signal(signal, language);
    }
}

/// A verdict's explanations written in `language`, one for each signal, in their order.
pub fn explanations(verdict: &Verdict, language: Language) -> Vec<String> {
    verdict
        .signals
        .iter()
        .map(|signal| {
            if signal.explanation_parts.is_empty() {
                signal.explanation.clone()
            } else {
                CATALOGUE.say(language, &signal.explanation_parts)
            }
        })
        .collect()
}

fn write_signal(signal: &mut Signal, language: Language) {
    if !signal.explanation_parts.is_empty() {
        signal.explanation = CATALOGUE.say(language, &signal.explanation_parts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_common::language::message;

    #[test]
    fn an_explanation_is_written_in_either_language_from_the_same_messages() {
        let parts = vec![
            message(
                "signal-brand-text",
                [
                    ("brand", "\"Gucci\"".into()),
                    ("field", "title".into()),
                    ("strength", "distinctive".into()),
                    ("text", "\"Guuci\"".into()),
                ],
            ),
            message("signal-through", [("method", "fuzzy".into())]),
            message(
                "signal-letters-off",
                [("count", "1".into()), ("term", "\"gucci\"".into())],
            ),
        ];
        assert_eq!(
            CATALOGUE.say(Language::English, &parts),
            r#""Guuci" in the title matches brand "Gucci" through a misspelling (1 letter off "gucci")"#
        );
        assert_eq!(
            CATALOGUE.say(Language::SimplifiedChinese, &parts),
            r#"标题中的 "Guuci" 与品牌 "Gucci" 相符，手法为拼写变体（与 "gucci" 相差 1 个字母）"#
        );
        let mut verdict = Verdict {
            signals: vec![Signal {
                explanation: "as stored".into(),
                explanation_parts: parts,
                ..Signal::default()
            }],
            ..Verdict::default()
        };
        write(&mut verdict, Language::SimplifiedChinese);
        assert!(verdict.signals[0].explanation.starts_with("标题中的"));
        write(&mut verdict, Language::English);
        assert!(
            verdict.signals[0]
                .explanation
                .starts_with("\"Guuci\" in the title")
        );
        // Stored before messages were kept: the sentence as stored, in any language.
        verdict.signals[0].explanation_parts.clear();
        verdict.signals[0].explanation = "as stored".into();
        write(&mut verdict, Language::SimplifiedChinese);
        assert_eq!(verdict.signals[0].explanation, "as stored");
    }

    #[test]
    fn counts_are_counted_in_english() {
        let strikes = |n: &str| {
            CATALOGUE.say(
                Language::English,
                &[message(
                    "seller-strikes",
                    [
                        ("count", n.to_owned().into()),
                        ("days", "365".into()),
                        ("seller", "S-1".into()),
                    ],
                )],
            )
        };
        assert_eq!(
            strikes("1"),
            "seller S-1 has 1 confirmed strike in the last 365 days"
        );
        assert_eq!(
            strikes("2"),
            "seller S-1 has 2 confirmed strikes in the last 365 days"
        );
    }
}
