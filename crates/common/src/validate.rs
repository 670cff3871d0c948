//! Field checks shared by every service. Each returns the cleaned value or a description of
//! what is wrong, for [`crate::error::FieldViolations::check`].

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use crate::FieldViolations;
use crate::money::Money;

/// A required line of text shown to people: trimmed, 1 to `max` characters, no control
/// characters, and nothing that hides or reorders what a reader sees (see [`hidden`]).
pub fn text(value: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    optional_text(trimmed, max)
}

/// Optional text shown to people: trimmed, at most `max` characters, no control characters
/// but newlines and tabs, and nothing hidden (see [`hidden`]).
pub fn optional_text(value: &str, max: usize) -> Result<String, String> {
    let text = optional_listing_text(value, max)?;
    match text.chars().find_map(hidden) {
        Some(what) => Err(format!(
            "must not contain {what}: they make text read differently from what it says"
        )),
        None => Ok(text),
    }
}

/// A listing's required text, as sellers write it: like [`text`], but characters that hide
/// or reorder text are kept, because screening must read a disguise to see through it.
pub fn listing_text(value: &str, max: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    optional_listing_text(trimmed, max)
}

/// A listing's optional text (see [`listing_text`]).
pub fn optional_listing_text(value: &str, max: usize) -> Result<String, String> {
    // Refused before counting, so that an oversized value costs no more than its length.
    if value.len() > max.saturating_mul(4) {
        return Err(format!("must be at most {max} characters"));
    }
    let trimmed = value.trim();
    let count = trimmed.chars().count();
    if count > max {
        return Err(format!("must be at most {max} characters, got {count}"));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err("must not contain control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// What a character hides, if it is one that makes text display other than it reads
/// (Unicode UTS #55 and UTS #39): bidirectional overrides, embeddings, isolates and marks,
/// and invisible characters (zero-width space, word joiner and invisible operators, the
/// byte-order mark, soft hyphen, fillers, tags). The zero-width joiner and non-joiner stay:
/// Persian, Indic scripts and emoji need them.
pub fn hidden(c: char) -> Option<&'static str> {
    match c {
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{061C}' => Some("bidirectional control characters"),
        '\u{200B}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FEFF}'
        | '\u{00AD}'
        | '\u{034F}'
        | '\u{180E}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{3164}'
        | '\u{FFA0}'
        | '\u{E0000}'..='\u{E007F}' => Some("invisible characters"),
        _ => None,
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
pub fn country_code(value: &str) -> Result<String, String> {
    if value.len() == 2
        && value.bytes().all(|b| b.is_ascii_uppercase())
        && celes::Country::from_alpha2(value).is_ok()
    {
        Ok(value.to_owned())
    } else if value.is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Err(format!(
            "{value:?} is not an ISO 3166-1 alpha-2 country code (e.g. \"US\", \"CN\")"
        ))
    }
}

/// An ISO 4217 alphabetic currency code, upper case.
pub fn currency_code(value: &str) -> Result<iso_currency::Currency, String> {
    if value.len() == 3
        && value.bytes().all(|b| b.is_ascii_uppercase())
        && let Some(currency) = iso_currency::Currency::from_code(value)
    {
        return Ok(currency);
    }
    if value.is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Err(format!(
            "{value:?} is not an ISO 4217 currency code (e.g. \"USD\", \"EUR\")"
        ))
    }
}

/// An e-mail address (RFC 5322 addr-spec, with a domain that has a dot).
pub fn email(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if trimmed.len() > 254 {
        return Err("must be at most 254 characters".to_owned());
    }
    match trimmed.parse::<email_address::EmailAddress>() {
        Ok(address) if address.domain().contains('.') && !address.domain().starts_with('[') => {
            Ok(trimmed.to_owned())
        }
        _ => Err(format!("{trimmed:?} is not a valid e-mail address")),
    }
}

/// The domain part of a valid e-mail address, lower case.
pub fn email_domain(value: &str) -> Option<String> {
    value
        .parse::<email_address::EmailAddress>()
        .ok()
        .map(|address| address.domain().to_ascii_lowercase())
}

static E164: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\+[1-9][0-9]{6,14}$").unwrap());

/// An optional telephone number in E.164 form.
pub fn phone(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || E164.is_match(trimmed) {
        Ok(trimmed.to_owned())
    } else {
        Err(format!(
            "{trimmed:?} is not an E.164 telephone number (e.g. \"+4930123456\")"
        ))
    }
}

static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$").unwrap()
});

/// A DNS domain name such as "police.example.gov", lower case.
pub fn domain(value: &str) -> Result<String, String> {
    let lower = value.trim().to_ascii_lowercase();
    if lower.len() <= 253 && DOMAIN.is_match(&lower) {
        Ok(lower)
    } else {
        Err(format!("{value:?} is not a domain name"))
    }
}

/// An optional https or http URL.
pub fn optional_url(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(rest)
            if trimmed.len() <= 2048
                && !rest.is_empty()
                && domain(rest.split(['/', ':', '?', '#']).next().unwrap_or("")).is_ok()
                && !trimmed.chars().any(char::is_whitespace) =>
        {
            Ok(trimmed.to_owned())
        }
        _ => Err(format!("{trimmed:?} is not an http(s) URL")),
    }
}

static SLUG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9](?:[a-z0-9_/-]{0,62}[a-z0-9])?$").unwrap());

/// A lower-case slug such as a product category ("handbags", "watches/luxury").
pub fn slug(value: &str) -> Result<String, String> {
    if SLUG.is_match(value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a slug: 1 to 64 of a-z 0-9 _ - /, starting and ending with a letter or digit"
        ))
    }
}

static EXTERNAL_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$").unwrap());

/// An id from the marketplace (a seller, a listing, an order): 1 to 128 of A-Z a-z 0-9 and
/// `_ . : @ -`.
pub fn external_id(value: &str) -> Result<String, String> {
    if EXTERNAL_ID.is_match(value) {
        Ok(value.to_owned())
    } else if value.is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Err(format!(
            "{value:?} is not a marketplace id: 1 to 128 of A-Z a-z 0-9 _ . : @ -"
        ))
    }
}

static REQUEST_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_-]{1,128}$").unwrap());

/// A W3C `traceparent` (`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`), or
/// `None` for an empty one.
pub fn traceparent(value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = value.splitn(5, '-').collect();
    let well_formed = parts.len() == 4
        && parts.iter().zip([2, 32, 16, 2]).all(|(part, len)| {
            part.len() == len
                && part
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        });
    if well_formed {
        Ok(Some(value.to_owned()))
    } else {
        Err("must be empty or a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>".to_owned())
    }
}

/// An optional idempotency key.
pub fn request_id(value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        Ok(None)
    } else if REQUEST_ID.is_match(value) {
        Ok(Some(value.to_owned()))
    } else {
        Err("must be 1 to 128 of A-Z a-z 0-9 - _ (a UUID is a good choice)".to_owned())
    }
}

/// The most people one outcome may report arrested or convicted: more than any operation
/// has seen, few enough that no sum of outcomes comes near overflowing.
pub const MAX_PEOPLE: i64 = 100_000;
/// The most units one outcome may report seized.
pub const MAX_SEIZED_UNITS: i64 = 1_000_000_000;
/// The largest seized value one outcome may report, in whole currency units.
pub const MAX_SEIZED_VALUE_UNITS: i64 = 1_000_000_000_000;

/// Checks the figures an agency reports for an outcome: arrests, seized units and
/// convictions each from zero to a sane maximum, the seized value positive and bounded, and
/// at least one of them reported. Returns the seized value, if any.
pub fn outcome_figures(
    violations: &mut FieldViolations,
    field: &str,
    arrests: i32,
    seized_units: i64,
    convictions: i32,
    seized_value: Option<&assay_proto::common::v1::Money>,
) -> Option<Money> {
    for (name, value, max) in [
        ("arrests", i64::from(arrests), MAX_PEOPLE),
        ("seized_units", seized_units, MAX_SEIZED_UNITS),
        ("convictions", i64::from(convictions), MAX_PEOPLE),
    ] {
        if !(0..=max).contains(&value) {
            violations.add(
                format!("{field}.{name}"),
                format!("must be from 0 to {max}"),
            );
        }
    }
    let value = seized_value.and_then(|v| {
        let checked = Money::positive_from_proto(v).and_then(|m| {
            if v.units < MAX_SEIZED_VALUE_UNITS {
                Ok(m)
            } else {
                Err(format!("must be below {MAX_SEIZED_VALUE_UNITS} units"))
            }
        });
        violations.check(&format!("{field}.seized_value"), checked)
    });
    if arrests == 0 && seized_units == 0 && convictions == 0 && seized_value.is_none() {
        violations.add(
            field,
            "must report arrests, seized units, seized value or convictions",
        );
    }
    value
}

/// `total += value`, refusing to wrap: a sum that would overflow is an error, never a
/// negative figure in a report.
pub fn add_to(total: &mut i64, value: i64) -> Result<(), crate::ApiError> {
    *total = total.checked_add(value).ok_or_else(|| {
        crate::ApiError::internal(anyhow::anyhow!("a figure overflowed while adding up"))
    })?;
    Ok(())
}

/// A time range's two ends, each optional; the end must not come before the start.
pub fn time_range(
    violations: &mut crate::error::FieldViolations,
    field: &str,
    range: Option<&assay_proto::common::v1::TimeRange>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let Some(range) = range else {
        return (None, None);
    };
    let mut end = |name: &str, t: Option<&prost_types::Timestamp>| {
        t.and_then(|t| violations.check(&format!("{field}.{name}"), crate::time::from_timestamp(t)))
    };
    let from = end("start_time", range.start_time.as_ref());
    let until = end("end_time", range.end_time.as_ref());
    if let (Some(from), Some(until)) = (from, until)
        && until < from
    {
        violations.add(format!("{field}.end_time"), "must not be before start_time");
    }
    (from, until)
}

/// A contact person: a name, an email, a phone number and an optional role.
pub fn contact(
    violations: &mut crate::error::FieldViolations,
    field: &str,
    contact: &assay_proto::common::v1::Contact,
) {
    let at = |name: &str| format!("{field}.{name}");
    violations.check(&at("name"), text(&contact.name, 200));
    violations.check(&at("email"), email(&contact.email));
    violations.check(&at("phone"), phone(&contact.phone));
    violations.check(&at("role"), optional_text(&contact.role, 100));
}

/// The entries of a repeated field to look at: all of them when there are `min` to `max`,
/// none when there are more (the field is refused whole, so no work is done per entry).
pub fn bounded<'a, T>(
    violations: &mut crate::error::FieldViolations,
    field: &str,
    items: &'a [T],
    min: usize,
    max: usize,
) -> &'a [T] {
    match count(items, min, max) {
        Ok(()) => items,
        Err(e) => {
            violations.add(field, e);
            if items.len() > max { &[] } else { items }
        }
    }
}

/// Checks the size of a repeated field.
pub fn count<T>(items: &[T], min: usize, max: usize) -> Result<(), String> {
    match items.len() {
        n if n < min => Err(format!("must have at least {min} entries")),
        n if n > max => Err(format!("must have at most {max} entries, got {n}")),
        _ => Ok(()),
    }
}

/// Checks a repeated field: its number of entries within `entries`, then each entry with
/// `check`, naming bad ones by index, and refusing duplicates (after cleaning). A field with
/// too many entries is refused whole before any of them is looked at, so the work a request
/// causes stays bounded; duplicates are found in a hash set.
pub fn each<T, U: Eq + std::hash::Hash + Clone>(
    violations: &mut crate::error::FieldViolations,
    field: &str,
    items: &[T],
    entries: std::ops::RangeInclusive<usize>,
    check: impl Fn(&T) -> Result<U, String>,
) -> Vec<U> {
    if let Err(e) = count(items, *entries.start(), *entries.end()) {
        violations.add(field, e);
        if items.len() > *entries.end() {
            return Vec::new();
        }
    }
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    let mut out: Vec<U> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match check(item) {
            Ok(value) if !seen.insert(value.clone()) => {
                violations.add(format!("{field}[{i}]"), "is a duplicate");
            }
            Ok(value) => out.push(value),
            Err(description) => violations.add(format!("{field}[{i}]"), description),
        }
    }
    out
}

/// A message the request must carry: INVALID_ARGUMENT naming `field` when it is missing.
/// Pass `req.field.as_ref()` to borrow it, `req.field` to take it.
pub fn present<T>(field: &str, value: Option<T>) -> crate::ApiResult<T> {
    value.ok_or_else(|| crate::ApiError::invalid(field, "must be set"))
}

/// A required protobuf enum field: set, and a value this server knows.
pub fn required_enum<E>(value: i32) -> Result<E, String>
where
    E: TryFrom<i32> + Default + PartialEq,
{
    match optional_enum(value)? {
        Some(value) => Ok(value),
        None => Err("must be set".to_owned()),
    }
}

/// An optional protobuf enum field (a filter): `None` when unset (zero).
pub fn optional_enum<E>(value: i32) -> Result<Option<E>, String>
where
    E: TryFrom<i32> + Default + PartialEq,
{
    match E::try_from(value) {
        Ok(parsed) if parsed == E::default() => Ok(None),
        Ok(parsed) => Ok(Some(parsed)),
        Err(_) => Err(format!("{value} is not a known value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_clean() {
        assert_eq!(text("  Acme  ", 10).unwrap(), "Acme");
        assert!(text("   ", 10).is_err());
        assert!(text("abcdefghijk", 10).is_err());
        assert!(text("a\u{0007}b", 10).is_err());
        assert_eq!(text("路易威登", 4).unwrap(), "路易威登");
    }

    #[test]
    fn traceparents_are_w3c_or_empty() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(traceparent(good).unwrap().as_deref(), Some(good));
        assert_eq!(traceparent("").unwrap(), None);
        for bad in [
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
            "not a trace",
        ] {
            assert!(traceparent(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn countries_are_iso_3166_alpha_2() {
        assert!(country_code("US").is_ok());
        assert!(country_code("CN").is_ok());
        assert!(country_code("us").is_err());
        assert!(country_code("XX").is_err());
        assert!(country_code("USA").is_err());
        assert!(country_code("").is_err());
    }

    #[test]
    fn currencies_are_iso_4217() {
        assert!(currency_code("USD").is_ok());
        assert!(currency_code("CNY").is_ok());
        assert!(currency_code("usd").is_err());
        assert!(currency_code("XYZ").is_err());
        assert!(currency_code("").is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(email("legal@acme.example").is_ok());
        assert!(email("legal@localhost").is_err());
        assert!(email("not an address").is_err());
        assert!(email("@acme.example").is_err());
        assert!(email("").is_err());
        assert_eq!(email_domain("a@Police.GOV").as_deref(), Some("police.gov"));
    }

    #[test]
    fn phones_are_e164_or_empty() {
        assert!(phone("").is_ok());
        assert!(phone("+4930123456").is_ok());
        assert!(phone("030 123456").is_err());
        assert!(phone("+0123456789").is_err());
    }

    #[test]
    fn urls_slugs_and_ids() {
        assert!(optional_url("").is_ok());
        assert!(optional_url("https://acme.example/brands").is_ok());
        assert!(optional_url("ftp://acme.example").is_err());
        assert!(optional_url("https://").is_err());
        assert!(slug("handbags").is_ok());
        assert!(slug("watches/luxury").is_ok());
        assert!(slug("Handbags").is_err());
        assert!(slug("-bags").is_err());
        assert!(external_id("seller-42").is_ok());
        assert!(external_id("seller 42").is_err());
        assert_eq!(request_id("").unwrap(), None);
        assert!(
            request_id("0b9e8a3c-5f1d-4b7e-9c1a-2d3e4f5a6b7c")
                .unwrap()
                .is_some()
        );
        assert!(request_id("has space").is_err());
    }

    #[test]
    fn each_names_bad_and_duplicate_elements() {
        let mut violations = crate::error::FieldViolations::new();
        let out = each(
            &mut violations,
            "brand.categories",
            &["a", "B", "a"],
            0..=10,
            |s| slug(s),
        );
        assert_eq!(out, ["a"]);
        let fields: Vec<_> = violations.iter().map(|(f, _)| f.to_owned()).collect();
        assert_eq!(fields, ["brand.categories[1]", "brand.categories[2]"]);
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn names_shown_to_people_hide_nothing() {
        for sneaky in [
            "Maison \u{202E}erèimuL",
            "Lumi\u{200B}ère",
            "\u{2066}Lumière\u{2069}",
            "Lumière\u{FEFF}",
            "Lu\u{00AD}mière",
            "Lumière\u{E0041}",
        ] {
            assert!(text(sneaky, 100).is_err(), "{sneaky:?}");
            assert!(optional_text(sneaky, 100).is_err(), "{sneaky:?}");
            // Listings keep them: screening reads the disguise.
            assert!(listing_text(sneaky, 100).is_ok(), "{sneaky:?}");
        }
        for fine in [
            "Lumière",
            "میخواهم",
            "क्‍ष",
            "👩‍💻 desk",
            "路易威登",
            "two\nlines",
        ] {
            assert!(optional_text(fine, 100).is_ok(), "{fine:?}");
        }
    }

    #[test]
    fn oversized_text_is_refused_by_its_length_first() {
        let huge = "a".repeat(10_000_000);
        assert!(text(&huge, 100).is_err());
        assert!(listing_text(&huge, 100).is_err());
    }
}

#[cfg(test)]
mod each_tests {
    use super::*;
    use crate::FieldViolations;

    #[test]
    fn too_many_entries_are_refused_before_any_is_checked() {
        let items: Vec<u32> = (0..1_000_000).collect();
        let mut violations = FieldViolations::new();
        let checked = each(
            &mut violations,
            "ids",
            &items,
            0..=100,
            |_| -> Result<u32, String> { panic!("no entry is looked at") },
        );
        assert!(checked.is_empty());
        assert_eq!(violations.total(), 1);
    }

    #[test]
    fn duplicates_and_bad_entries_are_named() {
        let items = ["a", "b", "a", ""];
        let mut violations = FieldViolations::new();
        let checked = each(&mut violations, "tags", &items, 1..=10, |t| {
            if t.is_empty() {
                Err("must be set".to_owned())
            } else {
                Ok(t.to_string())
            }
        });
        assert_eq!(checked, ["a", "b"]);
        let fields: Vec<_> = violations.iter().map(|(f, _)| f.to_owned()).collect();
        assert_eq!(fields, ["tags[2]", "tags[3]"]);
        let mut violations = FieldViolations::new();
        each(&mut violations, "tags", &[] as &[&str], 1..=10, |t| {
            Ok(t.to_string())
        });
        assert_eq!(violations.total(), 1, "too few");
    }
}

#[cfg(test)]
mod figure_tests {
    use super::*;

    #[test]
    fn outcome_figures_are_bounded() {
        let mut violations = FieldViolations::new();
        outcome_figures(&mut violations, "outcome", 3, i64::MAX, -1, None);
        let fields: Vec<_> = violations.iter().map(|(f, _)| f.to_owned()).collect();
        assert_eq!(fields, ["outcome.seized_units", "outcome.convictions"]);

        let mut violations = FieldViolations::new();
        outcome_figures(&mut violations, "outcome", 0, 0, 0, None);
        assert_eq!(violations.iter().count(), 1, "nothing reported");

        let mut violations = FieldViolations::new();
        let huge = assay_proto::common::v1::Money {
            currency_code: "EUR".into(),
            units: i64::MAX,
            nanos: 0,
        };
        outcome_figures(&mut violations, "o", 1, 0, 0, Some(&huge));
        assert_eq!(violations.iter().next().unwrap().0, "o.seized_value");

        let mut violations = FieldViolations::new();
        outcome_figures(&mut violations, "o", 12, MAX_SEIZED_UNITS, 2, None);
        assert!(violations.is_empty());
    }

    #[test]
    fn sums_never_wrap() {
        let mut total = i64::MAX - 1;
        assert!(add_to(&mut total, 1).is_ok());
        assert!(add_to(&mut total, 1).is_err());
        assert_eq!(total, i64::MAX);
    }
}
