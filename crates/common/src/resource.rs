//! Conventions of resources in the API: etags for optimistic concurrency and field masks
//! for partial updates.

use crate::error::{ApiError, ApiResult};

/// The etag of a record at `version`.
pub fn etag(version: i64) -> String {
    format!("v{version}")
}

/// ABORTED when the caller sent an etag (it may send none) that is not the record's.
pub fn check_etag(sent: &str, version: i64, kind: &'static str) -> ApiResult<()> {
    if sent.is_empty() || sent == etag(version) {
        Ok(())
    } else {
        Err(ApiError::stale_etag(kind))
    }
}

/// The paths of an update mask, each one of `allowed`; no mask (or `*`) means all of them.
pub fn mask_paths(
    mask: Option<&prost_types::FieldMask>,
    allowed: &[&'static str],
) -> ApiResult<Vec<&'static str>> {
    let paths = mask.map(|m| m.paths.as_slice()).unwrap_or_default();
    if paths.is_empty() || paths.iter().any(|p| p == "*") {
        return Ok(allowed.to_vec());
    }
    let mut chosen = Vec::with_capacity(paths.len());
    for path in paths {
        match allowed.iter().find(|a| **a == path) {
            Some(known) if !chosen.contains(known) => chosen.push(*known),
            Some(_) => {}
            None => {
                return Err(ApiError::invalid(
                    "update_mask",
                    format!(
                        "{path:?} cannot be updated; updatable fields: {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags() {
        assert!(check_etag("", 3, "brand").is_ok());
        assert!(check_etag("v3", 3, "brand").is_ok());
        assert!(matches!(
            check_etag("v2", 3, "brand"),
            Err(ApiError::StaleEtag { kind: "brand" })
        ));
    }

    #[test]
    fn masks() {
        let allowed = ["name", "aliases"];
        assert_eq!(mask_paths(None, &allowed).unwrap(), allowed);
        let mask = prost_types::FieldMask {
            paths: vec!["aliases".into()],
        };
        assert_eq!(mask_paths(Some(&mask), &allowed).unwrap(), ["aliases"]);
        let bad = prost_types::FieldMask {
            paths: vec!["member_id".into()],
        };
        assert!(mask_paths(Some(&bad), &allowed).is_err());
    }
}
