//! Typed, prefixed identifiers: `mbr_0193c9...` is a member, `brd_...` a brand.
//!
//! The body is a UUIDv7 in lower-case hex, so ids sort by creation time (keyset pagination
//! relies on it) and a wrong kind of id is refused before any lookup.

/// Defines a typed id with its prefix.
#[macro_export]
macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        ///
        /// Stored as its text: an entity's column may hold it (`sea_orm::DeriveValueType`).
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sea_orm::DeriveValueType)]
        pub struct $name(String);

        // Written as its text, as a `String` is: what a filter's `Debug` puts in a page
        // token's scope stays the same whether the filter holds the id or its text.
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        // An id is made by its service, never by the database.
        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id, later than every id made before it in this process.
            pub fn generate() -> Self {
                Self($crate::id::generate($prefix))
            }

            /// Parses an id sent by a caller; the error says what is wrong.
            pub fn parse(text: &str) -> Result<Self, String> {
                $crate::id::check($prefix, text).map(|()| Self(text.to_owned()))
            }

            /// Wraps an id read back from our own store.
            pub fn from_trusted(text: String) -> Self {
                Self(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

const BODY_LEN: usize = 32;

#[doc(hidden)]
pub fn generate(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

#[doc(hidden)]
pub fn check(prefix: &str, text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".to_owned());
    }
    let Some(body) = text
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
    else {
        return Err(format!(
            "must be an id of the form {prefix}_<32 hex digits>"
        ));
    };
    if body.len() != BODY_LEN
        || !body
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "must be an id of the form {prefix}_<32 hex digits>"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    define_id!(TestId, "tst");

    #[test]
    fn an_id_reads_as_its_text() {
        let id = TestId::generate();
        assert_eq!(format!("{id:?}"), format!("{:?}", id.as_str()));
        assert_eq!(format!("{id}"), id.as_str());
        let value: sea_orm::Value = id.clone().into();
        assert_eq!(value, sea_orm::Value::from(id.as_str()));
    }

    #[test]
    fn generated_ids_parse_and_sort_by_creation() {
        let first = TestId::generate();
        let second = TestId::generate();
        assert!(first < second);
        assert_eq!(TestId::parse(first.as_str()).unwrap(), first);
    }

    #[test]
    fn wrong_prefix_or_body_is_refused() {
        assert!(TestId::parse("").is_err());
        assert!(TestId::parse("mbr_0193c9a0b1c2d3e4f5a6b7c8d9e0f1a2").is_err());
        assert!(TestId::parse("tst_0193C9A0B1C2D3E4F5A6B7C8D9E0F1A2").is_err());
        assert!(TestId::parse("tst_123").is_err());
        assert!(TestId::parse("tst_0193c9a0b1c2d3e4f5a6b7c8d9e0f1a2").is_ok());
    }
}
