//! Members: validation and the status machine.
//!
//! ```text
//! APPLIED --activate--> ACTIVE --suspend--> SUSPENDED --activate--> ACTIVE
//!    |                    |                    |
//!    +------exit----------+--------exit--------+--> EXITED (final)
//! ```

use assay_common::{FieldViolations, validate};
use assay_proto::common::v1::Contact;
use assay_proto::registry::v1::{Member, MemberKind, MemberStatus};

pub const MAX_CONTACTS: usize = 20;

/// A member's details as checked and cleaned.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberSpec {
    pub legal_name: String,
    pub display_name: String,
    pub kind: MemberKind,
    pub country_code: String,
    pub contacts: Vec<Contact>,
    pub website: String,
}

/// Checks every field of `member`, naming bad ones under `prefix`.
pub fn validate(
    member: &Member,
    prefix: &str,
    violations: &mut FieldViolations,
) -> Option<MemberSpec> {
    let field = |name: &str| format!("{prefix}.{name}");
    let legal_name = violations.check(
        &field("legal_name"),
        validate::text(&member.legal_name, 200),
    );
    let display_name = violations.check(
        &field("display_name"),
        validate::optional_text(&member.display_name, 200),
    );
    let kind = violations.check(&field("kind"), validate::required_enum(member.kind));
    let country_code = violations.check(
        &field("country_code"),
        validate::country_code(&member.country_code),
    );
    let website = violations.check(&field("website"), validate::optional_url(&member.website));
    let given = validate::bounded(
        violations,
        &field("contacts"),
        &member.contacts,
        1,
        MAX_CONTACTS,
    );
    let mut contacts = Vec::with_capacity(given.len());
    for (i, contact) in given.iter().enumerate() {
        let at = |name: &str| format!("{prefix}.contacts[{i}].{name}");
        let name = violations.check(&at("name"), validate::text(&contact.name, 200));
        let email = violations.check(&at("email"), validate::email(&contact.email));
        let phone = violations.check(&at("phone"), validate::phone(&contact.phone));
        let role = violations.check(&at("role"), validate::optional_text(&contact.role, 100));
        if let (Some(name), Some(email), Some(phone), Some(role)) = (name, email, phone, role) {
            contacts.push(Contact {
                name,
                email,
                phone,
                role,
            });
        }
    }
    let legal_name = legal_name?;
    let display_name = display_name?;
    Some(MemberSpec {
        display_name: if display_name.is_empty() {
            legal_name.clone()
        } else {
            display_name
        },
        legal_name,
        kind: kind?,
        country_code: country_code?,
        contacts,
        website: website?,
    })
}

/// A change of a member's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Activate,
    Suspend,
    Exit,
}

impl Transition {
    pub fn verb(self) -> &'static str {
        match self {
            Transition::Activate => "activate",
            Transition::Suspend => "suspend",
            Transition::Exit => "exit",
        }
    }
}

/// The status after `transition`, or why it is not allowed from `from`.
pub fn transition(from: MemberStatus, transition: Transition) -> Result<MemberStatus, String> {
    use MemberStatus::*;
    let to = match (from, transition) {
        (Applied | Suspended, Transition::Activate) => Active,
        (Active, Transition::Suspend) => Suspended,
        (Applied | Active | Suspended, Transition::Exit) => Exited,
        _ => {
            return Err(format!(
                "cannot {} a member that is {}",
                transition.verb(),
                status_word(from)
            ));
        }
    };
    Ok(to)
}

pub fn status_word(status: MemberStatus) -> &'static str {
    match status {
        MemberStatus::Unspecified => "in no status",
        MemberStatus::Applied => "APPLIED",
        MemberStatus::Active => "ACTIVE",
        MemberStatus::Suspended => "SUSPENDED",
        MemberStatus::Exited => "EXITED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> Member {
        Member {
            legal_name: "Acme Leather GmbH".into(),
            kind: MemberKind::BrandOwner as i32,
            country_code: "DE".into(),
            contacts: vec![Contact {
                name: "Ada Legal".into(),
                email: "legal@acme.example".into(),
                phone: "+4930123456".into(),
                role: "legal".into(),
            }],
            ..Member::default()
        }
    }

    fn fields(member: &Member) -> Vec<String> {
        let mut violations = FieldViolations::new();
        validate(member, "member", &mut violations);
        violations.iter().map(|(f, _)| f.to_owned()).collect()
    }

    #[test]
    fn a_good_member_passes_and_defaults_its_display_name() {
        let mut violations = FieldViolations::new();
        let spec = validate(&member(), "member", &mut violations).unwrap();
        assert!(violations.is_empty());
        assert_eq!(spec.display_name, "Acme Leather GmbH");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = member();
        bad.legal_name = " ".into();
        bad.kind = 0;
        bad.country_code = "ZZ".into();
        bad.website = "acme".into();
        bad.contacts[0].email = "nobody".into();
        bad.contacts[0].phone = "12".into();
        assert_eq!(
            fields(&bad),
            [
                "member.legal_name",
                "member.kind",
                "member.country_code",
                "member.website",
                "member.contacts[0].email",
                "member.contacts[0].phone",
            ]
        );
        let mut none = member();
        none.contacts.clear();
        assert_eq!(fields(&none), ["member.contacts"]);
        let mut unknown_kind = member();
        unknown_kind.kind = 99;
        assert_eq!(fields(&unknown_kind), ["member.kind"]);
    }

    #[test]
    fn status_machine() {
        use MemberStatus::*;
        use Transition::*;
        assert_eq!(transition(Applied, Activate), Ok(Active));
        assert_eq!(transition(Active, Suspend), Ok(Suspended));
        assert_eq!(transition(Suspended, Activate), Ok(Active));
        assert_eq!(transition(Suspended, Exit), Ok(Exited));
        assert_eq!(transition(Applied, Exit), Ok(Exited));
        assert_eq!(transition(Active, Exit), Ok(Exited));
        assert!(transition(Applied, Suspend).is_err());
        assert!(transition(Active, Activate).is_err());
        assert!(transition(Exited, Activate).is_err());
        assert!(transition(Exited, Exit).is_err());
        assert_eq!(
            transition(Exited, Suspend).unwrap_err(),
            "cannot suspend a member that is EXITED"
        );
    }
}
