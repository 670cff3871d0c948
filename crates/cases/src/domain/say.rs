//! Case management's words in the caller's language: why a seller's enforcement level
//! changed (kept as a message of this catalogue and written in English, in Chinese, or in
//! whatever the reader asks for when it is read), and the summary of a case opened from a
//! screening alert (kept in each language the alert wrote it in).

use assay_common::language::Language;
use assay_proto::common::v1::Message;

assay_common::catalogue!(
    /// Case management's messages, in English and Simplified Chinese (`crates/cases/locales`).
    pub static CATALOGUE
);

/// A message in `language`.
pub fn say(message: &Message, language: Language) -> String {
    CATALOGUE.say(language, std::slice::from_ref(message))
}

/// A message in English, as it is kept beside the message.
pub fn english(message: &Message) -> String {
    say(message, Language::English)
}

/// A message in every language, by tag: `{"en": "...", "zh-Hans": "..."}`, for a
/// notification, whose reader is not asking.
pub fn in_every_language(message: &Message) -> serde_json::Map<String, serde_json::Value> {
    Language::ALL
        .into_iter()
        .map(|language| (language.tag().to_owned(), say(message, language).into()))
        .collect()
}

/// A message as case management keeps it in a text column: `{"id": ..., "args": {...}}`.
pub fn to_kept(message: &Message) -> String {
    let args: serde_json::Map<String, serde_json::Value> = message
        .args()
        .map(|(name, value)| (name.to_owned(), value.into()))
        .collect();
    serde_json::json!({ "id": &*message.id, "args": args }).to_string()
}

/// A message kept by [`to_kept`]; none for text that is not one.
pub fn from_kept(kept: &str) -> Option<Message> {
    #[derive(serde::Deserialize)]
    struct Kept {
        id: String,
        args: std::collections::BTreeMap<String, String>,
    }
    let Kept { id, args } = serde_json::from_str(kept).ok()?;
    Some(Message::new(
        id,
        args.into_iter()
            .map(|(name, value)| (name.into(), value.into())),
    ))
}

/// A case's summary as `language` reads it: its translation there if the case keeps one
/// (`translations`: `{"zh-Hans": "..."}`), otherwise as `kept`.
pub fn summary(kept: &str, translations: Option<&str>, language: Language) -> String {
    if language != Language::English
        && let Some(translations) = translations
        && let Ok(mut by_tag) =
            serde_json::from_str::<std::collections::BTreeMap<String, String>>(translations)
        && let Some(translated) = by_tag.remove(language.tag())
    {
        return translated;
    }
    kept.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::enforcement::{EnforcementPolicy, Recorded, SuspendedLink};
    use assay_proto::cases::v1::EnforcementLevel;

    #[test]
    fn a_summary_is_read_in_the_readers_language_where_it_is_kept() {
        let kept = Some(r#"{"zh-Hans":"名为路易威登"}"#);
        assert_eq!(
            summary("names Louis Vuitton", kept, Language::SimplifiedChinese),
            "名为路易威登"
        );
        assert_eq!(
            summary("names Louis Vuitton", kept, Language::English),
            "names Louis Vuitton"
        );
        // A case from before, or whose translations cannot be read, reads as kept.
        for translations in [None, Some("{}"), Some("not json")] {
            assert_eq!(
                summary("names X", translations, Language::SimplifiedChinese),
                "names X"
            );
        }
    }

    #[test]
    fn a_kept_message_reads_back_as_it_was() {
        let message = assay_common::language::message(
            "enforcement-linked",
            [("linked", "S-\"80\"".into()), ("count", "3".into())],
        );
        assert_eq!(from_kept(&to_kept(&message)), Some(message));
        assert_eq!(from_kept("3 strikes within 365 days: suspend"), None);
    }

    #[test]
    fn every_reason_for_a_seller_is_written_in_both_languages() {
        let policy = EnforcementPolicy {
            suspend_linked: true,
            ..EnforcementPolicy::default()
        };
        let link = SuspendedLink {
            seller_id: "S-80".into(),
            evidence: "payment account".into(),
        };
        let at = |level, linked: Option<&str>| Recorded {
            level,
            linked_seller_id: linked.map(str::to_owned),
        };
        let cases = [
            (at(EnforcementLevel::Restrict, None), 3, None),
            (at(EnforcementLevel::Suspend, None), 2, None),
            (at(EnforcementLevel::Warn, None), 1, Some(&link)),
            (at(EnforcementLevel::Suspend, None), 2, Some(&link)),
            (at(EnforcementLevel::Suspend, Some("S-80")), 3, Some(&link)),
            (at(EnforcementLevel::Suspend, Some("S-80")), 1, None),
        ];
        let mut ids = std::collections::BTreeSet::new();
        for (recorded, strikes, link) in cases {
            let change = policy.decide(&recorded, strikes, 365, link).unwrap();
            ids.insert(change.reason.id.clone());
            let (en, zh) = (
                english(&change.reason),
                say(&change.reason, Language::SimplifiedChinese),
            );
            assert!(en.is_ascii() && !en.contains('{'), "{en}");
            assert!(!zh.is_ascii() && !zh.contains('{'), "{zh}");
            assert!(!zh.contains("strike") && !zh.contains("suspend"), "{zh}");
        }
        assert_eq!(ids.len(), 6, "every kind of reason: {ids:?}");
        let up = policy
            .decide(&at(EnforcementLevel::Restrict, None), 3, 365, None)
            .unwrap();
        assert_eq!(
            say(&up.reason, Language::SimplifiedChinese),
            "365 天内 3 次违规：暂停经营"
        );
        assert_eq!(
            serde_json::Value::Object(in_every_language(&up.reason)),
            serde_json::json!({
                "en": "3 strikes within 365 days: suspend",
                "zh-Hans": "365 天内 3 次违规：暂停经营",
            })
        );
    }
}
