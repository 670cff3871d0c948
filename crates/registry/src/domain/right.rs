//! IP rights: validation, registration-number formats per office, and verification.
//!
//! ```text
//! PENDING --verify--> VERIFIED --(valid_until passes)--> EXPIRED (derived)
//!    |                   |
//!    +------reject-------+--> REJECTED --(update)--> PENDING
//! ```
//! Updating what was verified (office, number, kind, classes, dates) sends a right back to
//! PENDING: a verification covers the facts that were checked.

use std::sync::LazyLock;

use assay_common::{FieldViolations, time, validate};
use assay_proto::registry::v1::{IpOffice, IpRight, IpRightKind, VerificationStatus};
use chrono::NaiveDate;
use regex::Regex;

/// A right's registration facts as checked and cleaned.
#[derive(Debug, Clone, PartialEq)]
pub struct RightSpec {
    pub kind: IpRightKind,
    pub office: IpOffice,
    pub registration_number: String,
    pub nice_classes: Vec<i32>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// The word mark as registered; empty when the right is not a word mark.
    pub mark_text: String,
}

/// Validity longer than this is surely a typo (copyright lasts life + 70 years at most).
const MAX_VALIDITY_YEARS: i32 = 150;

struct Format {
    office: IpOffice,
    kinds: &'static [IpRightKind],
    pattern: &'static str,
    example: &'static str,
}

/// Registration-number formats we know. Numbers are compared after removing spaces and
/// commas and upper-casing.
const FORMATS: &[Format] = &[
    Format {
        office: IpOffice::Uspto,
        kinds: &[IpRightKind::Trademark, IpRightKind::UtilityPatent],
        pattern: r"^[0-9]{7,8}$",
        example: "6123456",
    },
    Format {
        office: IpOffice::Uspto,
        kinds: &[IpRightKind::DesignPatent],
        pattern: r"^D[0-9]{6,7}$",
        example: "D912345",
    },
    Format {
        office: IpOffice::Euipo,
        kinds: &[IpRightKind::Trademark],
        pattern: r"^[0-9]{9}$",
        example: "018123456",
    },
    Format {
        office: IpOffice::Euipo,
        kinds: &[IpRightKind::DesignPatent],
        pattern: r"^[0-9]{9}-[0-9]{4}$",
        example: "008123456-0001",
    },
    Format {
        office: IpOffice::Cnipa,
        kinds: &[IpRightKind::Trademark],
        pattern: r"^[0-9]{6,9}$",
        example: "12345678",
    },
    Format {
        office: IpOffice::Cnipa,
        kinds: &[IpRightKind::DesignPatent, IpRightKind::UtilityPatent],
        pattern: r"^(ZL)?[0-9]{12}\.[0-9X]$",
        example: "ZL201830123456.7",
    },
    Format {
        office: IpOffice::Wipo,
        kinds: &[IpRightKind::Trademark],
        pattern: r"^[0-9]{6,7}$",
        example: "1234567",
    },
    Format {
        office: IpOffice::Wipo,
        kinds: &[IpRightKind::DesignPatent],
        pattern: r"^DM/[0-9]{6}$",
        example: "DM/212345",
    },
    Format {
        office: IpOffice::Ukipo,
        kinds: &[IpRightKind::Trademark],
        pattern: r"^UK[0-9]{11}$",
        example: "UK00003123456",
    },
    Format {
        office: IpOffice::Jpo,
        kinds: &[IpRightKind::Trademark, IpRightKind::DesignPatent],
        pattern: r"^[0-9]{7}$",
        example: "6123456",
    },
    Format {
        office: IpOffice::Kipo,
        kinds: &[IpRightKind::Trademark],
        pattern: r"^40-?[0-9]{7}$",
        example: "40-1234567",
    },
    Format {
        office: IpOffice::Usco,
        kinds: &[IpRightKind::Copyright],
        pattern: r"^(VA|VAU|TX|TXU|PA|PAU|SR|SRU)[0-9]{7,10}$",
        example: "VA0002345678",
    },
];

static COMPILED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    FORMATS
        .iter()
        .map(|f| Regex::new(f.pattern).expect("valid pattern"))
        .collect()
});

static LOOSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z0-9][A-Z0-9./-]{0,39}$").expect("valid pattern"));

/// Cleans and checks a registration number for an office and kind.
pub fn registration_number(
    office: IpOffice,
    kind: IpRightKind,
    number: &str,
) -> Result<String, String> {
    let cleaned: String = number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .flat_map(char::to_uppercase)
        .collect();
    if cleaned.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if office == IpOffice::Usco && kind != IpRightKind::Copyright {
        return Err("the US Copyright Office registers copyrights only".to_owned());
    }
    if kind == IpRightKind::Copyright && matches!(office, IpOffice::Euipo | IpOffice::Wipo) {
        return Err("this office does not register copyrights".to_owned());
    }
    let known = FORMATS
        .iter()
        .zip(COMPILED.iter())
        .find(|(f, _)| f.office == office && f.kinds.contains(&kind));
    match known {
        Some((_, regex)) if regex.is_match(&cleaned) => Ok(cleaned),
        Some((format, _)) => Err(format!(
            "{number:?} is not a {} {} registration number (e.g. {:?})",
            office_name(office),
            kind_name(kind),
            format.example
        )),
        None if LOOSE.is_match(&cleaned) => Ok(cleaned),
        None => Err(format!(
            "{number:?} is not a registration number: 1 to 40 of A-Z 0-9 . / -"
        )),
    }
}

pub fn office_name(office: IpOffice) -> &'static str {
    match office {
        IpOffice::Unspecified | IpOffice::Other => "other office",
        IpOffice::Uspto => "USPTO",
        IpOffice::Euipo => "EUIPO",
        IpOffice::Cnipa => "CNIPA",
        IpOffice::Wipo => "WIPO",
        IpOffice::Ukipo => "UKIPO",
        IpOffice::Jpo => "JPO",
        IpOffice::Kipo => "KIPO",
        IpOffice::Usco => "US Copyright Office",
    }
}

pub fn kind_name(kind: IpRightKind) -> &'static str {
    match kind {
        IpRightKind::Unspecified => "right",
        IpRightKind::Trademark => "trade mark",
        IpRightKind::DesignPatent => "design",
        IpRightKind::UtilityPatent => "patent",
        IpRightKind::Copyright => "copyright",
    }
}

/// Checks the registration facts of `right`, naming bad fields under `prefix`.
pub fn validate(
    right: &IpRight,
    prefix: &str,
    violations: &mut FieldViolations,
) -> Option<RightSpec> {
    let field = |name: &str| format!("{prefix}.{name}");
    let kind = violations.check(
        &field("kind"),
        validate::required_enum::<IpRightKind>(right.kind),
    );
    let office = violations.check(
        &field("office"),
        validate::required_enum::<IpOffice>(right.office),
    );
    let registration_number = match (kind, office) {
        (Some(kind), Some(office)) => violations.check(
            &field("registration_number"),
            registration_number(office, kind, &right.registration_number),
        ),
        _ => None,
    };
    let nice_classes = match kind {
        Some(IpRightKind::Trademark) => {
            if right.nice_classes.is_empty() {
                violations.add(
                    field("nice_classes"),
                    "a trade mark needs at least one Nice class",
                );
            }
            let mut classes = validate::each(
                violations,
                &field("nice_classes"),
                &right.nice_classes,
                0..=45,
                |c| {
                    if (1..=45).contains(c) {
                        Ok(*c)
                    } else {
                        Err(format!("{c} is not a Nice class (1 to 45)"))
                    }
                },
            );
            classes.sort_unstable();
            Some(classes)
        }
        Some(_) if !right.nice_classes.is_empty() => {
            violations.add(field("nice_classes"), "only trade marks have Nice classes");
            None
        }
        _ => Some(Vec::new()),
    };
    let valid_from = violations.check(
        &field("valid_from"),
        time::required_date(right.valid_from.as_ref()),
    );
    let valid_until = violations.check(
        &field("valid_until"),
        time::required_date(right.valid_until.as_ref()),
    );
    if let (Some(from), Some(until)) = (valid_from, valid_until) {
        if until < from {
            violations.add(field("valid_until"), "must not be before valid_from");
        } else if until.years_since(from).unwrap_or(0) > MAX_VALIDITY_YEARS as u32 {
            violations.add(
                field("valid_until"),
                format!("a validity of more than {MAX_VALIDITY_YEARS} years is not plausible"),
            );
        }
    }
    let mark_text = violations.check(
        &field("mark_text"),
        validate::optional_text(&right.mark_text, 200).and_then(|mark| {
            if !mark.is_empty() && term(&mark).is_empty() {
                Err("must contain letters or digits".to_owned())
            } else {
                Ok(mark)
            }
        }),
    );
    Some(RightSpec {
        kind: kind?,
        office: office?,
        registration_number: registration_number?,
        nice_classes: nice_classes?,
        valid_from: valid_from?,
        valid_until: valid_until?,
        mark_text: mark_text?,
    })
}

/// A name as marks are compared: letters and digits only, lower case, accents dropped
/// ("Lumière" and "LUMIERE" are the same mark; "Hermes" and "Lumiere" are not).
pub fn term(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The terms a verification covers: the brand's name and aliases, normalized, sorted.
pub fn terms(name: &str, aliases: &[String]) -> Vec<String> {
    let mut terms: Vec<String> = std::iter::once(name)
        .chain(aliases.iter().map(String::as_str))
        .map(term)
        .filter(|t| !t.is_empty())
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// Whether a right verified for `verified` still covers a brand called `name` with
/// `aliases`: every one of them was among what staff checked.
pub fn covers(verified: &[String], name: &str, aliases: &[String]) -> bool {
    terms(name, aliases)
        .iter()
        .all(|t| verified.binary_search(t).is_ok())
}

/// Why a right cannot be verified for a brand called `brand_name`, if it cannot: a word
/// mark must be the brand's name.
pub fn mark_fits(mark_text: &str, brand_name: &str) -> Result<(), String> {
    if mark_text.is_empty() || term(mark_text) == term(brand_name) {
        Ok(())
    } else {
        Err(format!(
            "the brand is called {brand_name:?} but the registered mark is {mark_text:?}: \
             a right protects the mark it registers"
        ))
    }
}

/// What a caller sees: EXPIRED is VERIFIED past its last valid day.
pub fn effective_status(
    stored: VerificationStatus,
    valid_until: NaiveDate,
    on: NaiveDate,
) -> VerificationStatus {
    if stored == VerificationStatus::Verified && valid_until < on {
        VerificationStatus::Expired
    } else {
        stored
    }
}

/// Whether a right protects its brand on `day`.
pub fn protects(
    stored: VerificationStatus,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    day: NaiveDate,
) -> bool {
    stored == VerificationStatus::Verified && valid_from <= day && day <= valid_until
}

/// The stored status after verifying, or why not.
pub fn verify(
    stored: VerificationStatus,
    valid_until: NaiveDate,
    today: NaiveDate,
) -> Result<VerificationStatus, String> {
    match stored {
        VerificationStatus::Pending if valid_until < today => {
            Err("the right's validity has ended: it cannot be verified".to_owned())
        }
        VerificationStatus::Pending => Ok(VerificationStatus::Verified),
        VerificationStatus::Verified => Err("the right is already verified".to_owned()),
        VerificationStatus::Rejected => Err(
            "the right was rejected: correct it with UpdateIpRight, which resubmits it".to_owned(),
        ),
        _ => Err("the right has no verification status".to_owned()),
    }
}

/// The stored status after rejecting, or why not.
pub fn reject(stored: VerificationStatus) -> Result<VerificationStatus, String> {
    match stored {
        VerificationStatus::Pending | VerificationStatus::Verified => {
            Ok(VerificationStatus::Rejected)
        }
        VerificationStatus::Rejected => Err("the right is already rejected".to_owned()),
        _ => Err("the right has no verification status".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use assay_proto::common::v1::Date;

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn right() -> IpRight {
        IpRight {
            kind: IpRightKind::Trademark as i32,
            office: IpOffice::Euipo as i32,
            registration_number: "018 123 456".into(),
            nice_classes: vec![25, 18],
            valid_from: Some(Date {
                year: 2020,
                month: 1,
                day: 15,
            }),
            valid_until: Some(Date {
                year: 2030,
                month: 1,
                day: 15,
            }),
            ..IpRight::default()
        }
    }

    fn fields(right: &IpRight) -> Vec<String> {
        let mut violations = FieldViolations::new();
        validate(right, "ip_right", &mut violations);
        violations.iter().map(|(f, _)| f.to_owned()).collect()
    }

    #[test]
    fn a_good_right_is_cleaned() {
        let mut violations = FieldViolations::new();
        let spec = validate(&right(), "ip_right", &mut violations).unwrap();
        assert_eq!(spec.registration_number, "018123456");
        assert_eq!(spec.nice_classes, [18, 25]);
    }

    #[test]
    fn registration_numbers_follow_their_office() {
        use IpOffice::*;
        use IpRightKind::*;
        let ok = [
            (Uspto, Trademark, "6,123,456"),
            (Uspto, DesignPatent, "D912345"),
            (Euipo, Trademark, "018123456"),
            (Euipo, DesignPatent, "008123456-0001"),
            (Cnipa, Trademark, "12345678"),
            (Cnipa, UtilityPatent, "ZL201830123456.7"),
            (Wipo, Trademark, "1234567"),
            (Wipo, DesignPatent, "DM/212345"),
            (Ukipo, Trademark, "uk00003123456"),
            (Jpo, Trademark, "6123456"),
            (Kipo, Trademark, "40-1234567"),
            (Usco, Copyright, "VA0002345678"),
            (Other, Trademark, "TM-2019/445"),
        ];
        for (office, kind, number) in ok {
            assert!(
                registration_number(office, kind, number).is_ok(),
                "{office:?} {kind:?} {number}"
            );
        }
        let bad = [
            (Uspto, Trademark, "12"),
            (Euipo, Trademark, "18123456"),
            (Ukipo, Trademark, "3123456"),
            (Wipo, DesignPatent, "212345"),
            (Usco, Trademark, "VA0002345678"),
            (Euipo, Copyright, "123"),
            (Other, Trademark, "#?!"),
            (Cnipa, Trademark, ""),
        ];
        for (office, kind, number) in bad {
            assert!(
                registration_number(office, kind, number).is_err(),
                "{office:?} {kind:?} {number}"
            );
        }
        assert_eq!(
            registration_number(Euipo, Trademark, "18123456").unwrap_err(),
            "\"18123456\" is not a EUIPO trade mark registration number (e.g. \"018123456\")"
        );
    }

    #[test]
    fn nice_classes_and_validity() {
        let mut bad = right();
        bad.nice_classes = vec![0, 46, 25, 25];
        assert_eq!(
            fields(&bad),
            [
                "ip_right.nice_classes[0]",
                "ip_right.nice_classes[1]",
                "ip_right.nice_classes[3]"
            ]
        );
        let mut none = right();
        none.nice_classes.clear();
        assert_eq!(fields(&none), ["ip_right.nice_classes"]);
        let mut patent = right();
        patent.kind = IpRightKind::DesignPatent as i32;
        patent.registration_number = "008123456-0001".into();
        assert_eq!(fields(&patent), ["ip_right.nice_classes"]);
        let mut backwards = right();
        backwards.valid_until = Some(Date {
            year: 2019,
            month: 1,
            day: 1,
        });
        assert_eq!(fields(&backwards), ["ip_right.valid_until"]);
        let mut forever = right();
        forever.valid_until = Some(Date {
            year: 2400,
            month: 1,
            day: 1,
        });
        assert_eq!(fields(&forever), ["ip_right.valid_until"]);
        let mut no_dates = right();
        no_dates.valid_from = None;
        no_dates.valid_until = Some(Date {
            year: 2023,
            month: 2,
            day: 30,
        });
        assert_eq!(
            fields(&no_dates),
            ["ip_right.valid_from", "ip_right.valid_until"]
        );
        let mut unset = right();
        unset.kind = 0;
        unset.office = 0;
        assert_eq!(fields(&unset), ["ip_right.kind", "ip_right.office"]);
    }

    #[test]
    fn verification_and_expiry() {
        use VerificationStatus::*;
        let today = day(2026, 11, 28);
        assert_eq!(verify(Pending, day(2030, 1, 1), today), Ok(Verified));
        assert!(verify(Pending, day(2026, 11, 27), today).is_err());
        assert!(verify(Verified, day(2030, 1, 1), today).is_err());
        assert!(verify(Rejected, day(2030, 1, 1), today).is_err());
        assert_eq!(reject(Pending), Ok(Rejected));
        assert_eq!(reject(Verified), Ok(Rejected));
        assert!(reject(Rejected).is_err());

        assert_eq!(
            effective_status(Verified, day(2026, 11, 28), today),
            Verified
        );
        assert_eq!(
            effective_status(Verified, day(2026, 11, 27), today),
            Expired
        );
        assert_eq!(effective_status(Pending, day(2020, 1, 1), today), Pending);
        assert!(protects(Verified, day(2020, 1, 1), today, today));
        assert!(!protects(
            Verified,
            day(2026, 11, 29),
            day(2030, 1, 1),
            today
        ));
        assert!(!protects(Pending, day(2020, 1, 1), day(2030, 1, 1), today));
    }
}

#[cfg(test)]
mod mark_tests {
    use super::*;

    #[test]
    fn marks_compare_by_letters_and_digits() {
        assert_eq!(term("Lumière"), "lumiere");
        assert_eq!(term("L.U.M.I.E.R.E"), "lumiere");
        assert_eq!(term("路易威登"), "路易威登");
        assert!(mark_fits("LUMIERE", "Lumière").is_ok());
        assert!(
            mark_fits("", "Anything").is_ok(),
            "no word mark, nothing to compare"
        );
        assert!(mark_fits("LUMIERE", "Hermes").is_err());
    }

    #[test]
    fn a_verification_covers_the_names_it_saw_and_no_others() {
        let verified = terms("Lumière", &["LMR".into(), "卢米埃".into()]);
        assert!(covers(&verified, "LUMIERE", &["lmr".into()]));
        assert!(covers(&verified, "Lumière", &[]));
        assert!(
            !covers(&verified, "Hermes", &[]),
            "renamed into another mark"
        );
        assert!(
            !covers(&verified, "Lumière", &["Hermès".into()]),
            "an alias that was never checked"
        );
    }
}
