//! Pagination: page sizes and opaque, tamper-checked page tokens.
//!
//! A token carries the sort key of the last item returned and an HMAC over that key and the
//! request's *scope* (the method and every filter), so a token cannot be forged, altered, or
//! replayed against a different query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 1000;
const MAC_LEN: usize = 16;

/// Checks `page_size`: 0 means the default; negative is refused; large is capped.
pub fn page_size(requested: i32) -> Result<u64, ApiError> {
    match requested {
        n if n < 0 => Err(ApiError::invalid("page_size", "must not be negative")),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok((n as u64).min(MAX_PAGE_SIZE)),
    }
}

/// Signs and checks page tokens with a secret key.
#[derive(Clone)]
pub struct PageTokens {
    key: [u8; 32],
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens(..)")
    }
}

impl PageTokens {
    /// Tokens signed with a key derived from `secret`; replicas sharing the secret accept
    /// each other's tokens.
    pub fn new(secret: &[u8]) -> Self {
        use sha2::Digest;
        let key = Sha256::new_with_prefix(b"assay page tokens\0")
            .chain_update(secret)
            .finalize();
        Self { key: key.into() }
    }

    /// Tokens signed with a random key: valid only in this process.
    pub fn random() -> Self {
        Self {
            key: rand::random(),
        }
    }

    fn mac(&self, scope: &str, cursor: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(cursor.as_bytes());
        mac
    }

    /// The token that continues `scope` after `cursor`.
    pub fn encode(&self, scope: &str, cursor: &str) -> String {
        let tag = self.mac(scope, cursor).finalize().into_bytes();
        let mut raw = Vec::with_capacity(MAC_LEN + cursor.len());
        raw.extend_from_slice(&tag[..MAC_LEN]);
        raw.extend_from_slice(cursor.as_bytes());
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The cursor inside a caller's token, `None` for the first page.
    pub fn decode(&self, scope: &str, token: &str) -> Result<Option<String>, ApiError> {
        if token.is_empty() {
            return Ok(None);
        }
        let invalid = || {
            ApiError::invalid(
                "page_token",
                "is not a token this server issued for this request (the filters must stay the same)",
            )
        };
        let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
        if raw.len() < MAC_LEN {
            return Err(invalid());
        }
        let (tag, cursor) = raw.split_at(MAC_LEN);
        let cursor = std::str::from_utf8(cursor).map_err(|_| invalid())?;
        self.mac(scope, cursor)
            .verify_truncated_left(tag)
            .map_err(|_| invalid())?;
        Ok(Some(cursor.to_owned()))
    }

    /// A numeric cursor (a sequence or version) inside a caller's token.
    pub fn decode_number(&self, scope: &str, token: &str) -> Result<Option<i64>, ApiError> {
        self.decode(scope, token)?
            .map(|cursor| cursor.parse::<i64>())
            .transpose()
            .map_err(|_| ApiError::invalid("page_token", "is not a token of this request"))
    }

    /// Cuts a page fetched with one row more than `size`: returns the page and the token
    /// for the next one (empty on the last page).
    pub fn page<T>(
        &self,
        scope: &str,
        mut rows: Vec<T>,
        size: u64,
        cursor_of: impl Fn(&T) -> String,
    ) -> (Vec<T>, String) {
        if rows.len() as u64 > size {
            rows.truncate(size as usize);
            let next = rows
                .last()
                .map(|row| self.encode(scope, &cursor_of(row)))
                .unwrap_or_default();
            (rows, next)
        } else {
            (rows, String::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_within_their_scope() {
        let tokens = PageTokens::new(b"secret");
        let token = tokens.encode("ListBrands|member=m1", "brd_0001");
        assert_eq!(
            tokens.decode("ListBrands|member=m1", &token).unwrap(),
            Some("brd_0001".to_owned())
        );
        assert_eq!(tokens.decode("ListBrands|member=m1", "").unwrap(), None);
    }

    #[test]
    fn altered_foreign_or_rescoped_tokens_are_refused() {
        let tokens = PageTokens::new(b"secret");
        let token = tokens.encode("ListBrands|member=m1", "brd_0001");
        assert!(tokens.decode("ListBrands|member=m2", &token).is_err());
        assert!(
            PageTokens::new(b"other")
                .decode("ListBrands|member=m1", &token)
                .is_err()
        );
        let mut raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
        *raw.last_mut().unwrap() ^= 1;
        assert!(
            tokens
                .decode("ListBrands|member=m1", &URL_SAFE_NO_PAD.encode(raw))
                .is_err()
        );
        assert!(tokens.decode("ListBrands|member=m1", "!!!").is_err());
        assert!(tokens.decode("ListBrands|member=m1", "AAAA").is_err());
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(7).unwrap(), 7);
        assert_eq!(page_size(1_000_000).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(-1).is_err());
    }

    #[test]
    fn page_cuts_and_continues() {
        let tokens = PageTokens::random();
        let (rows, next) = tokens.page("s", vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(rows, [1, 2]);
        assert_eq!(tokens.decode("s", &next).unwrap(), Some("2".to_owned()));
        let (rows, next) = tokens.page("s", vec![3], 2, |n| n.to_string());
        assert_eq!(rows, [3]);
        assert!(next.is_empty());
    }
}
