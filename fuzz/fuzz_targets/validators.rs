//! The shared field checks, on any string: no panic; what a check accepts it accepts again
//! unchanged (cleaning is idempotent), within the length asked for, and text shown to people
//! never keeps a character that hides or reorders what it says.
#![no_main]

use assay_common::FieldViolations;
use assay_common::validate;
use libfuzzer_sys::fuzz_target;

type Check = fn(&str) -> Result<String, String>;

const CHECKS: &[(&str, Check)] = &[
    ("country_code", validate::country_code),
    ("email", validate::email),
    ("phone", validate::phone),
    ("domain", validate::domain),
    ("optional_url", validate::optional_url),
    ("slug", validate::slug),
    ("external_id", validate::external_id),
];

fuzz_target!(|input: (u8, &str)| {
    let (max, text) = input;
    let max = usize::from(max);

    for (shown, check) in [
        (
            true,
            validate::text as fn(&str, usize) -> Result<String, String>,
        ),
        (true, validate::optional_text),
        (false, validate::listing_text),
        (false, validate::optional_listing_text),
    ] {
        if let Ok(clean) = check(text, max) {
            assert!(
                clean.chars().count() <= max,
                "{} > {max}",
                clean.chars().count()
            );
            assert_eq!(check(&clean, max).as_ref(), Ok(&clean), "not idempotent");
            if shown {
                assert_eq!(clean.chars().find_map(validate::hidden), None, "{clean:?}");
            }
        }
    }
    for (name, check) in CHECKS {
        if let Ok(clean) = check(text) {
            assert_eq!(check(&clean).as_ref(), Ok(&clean), "{name} not idempotent");
        }
    }
    if let Ok(Some(id)) = validate::request_id(text) {
        assert_eq!(validate::request_id(&id), Ok(Some(id.clone())));
    }
    let _ = validate::currency_code(text);

    // A repeated field made of the input's lines: bounded, and each violation named once.
    let items: Vec<&str> = text.split('\n').collect();
    let mut violations = FieldViolations::new();
    let accepted = validate::each(&mut violations, "items", &items, 0..=max, |s| {
        validate::slug(s)
    });
    assert!(accepted.len() <= items.len().min(max));
    if items.len() > max {
        assert!(accepted.is_empty(), "entries looked at past the limit");
    }
});
