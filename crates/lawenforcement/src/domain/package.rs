//! The disclosure package, without I/O: what may be gathered for a request, what the
//! package holds and its manifest, when it is released and until when it may be
//! downloaded.

use std::collections::HashMap;

use assay_common::time::{from_timestamp, to_timestamp};
use assay_proto::lawenforcement::v1::{
    DataCategory, LegalRequest, Package, PackageFile, PackageItem, RequestStatus, Target,
};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::check::emergency_confirmed;

/// What may be gathered for `request`: the categories its review approved, once an
/// emergency request has its second, independent confirmation.
pub fn gathering(request: &LegalRequest) -> Result<Vec<DataCategory>, &'static str> {
    if !emergency_confirmed(request) {
        return Err(
            "an emergency request needs a second, independent confirmation before any data is gathered",
        );
    }
    Ok(request
        .approved_categories
        .iter()
        .filter_map(|c| DataCategory::try_from(*c).ok())
        .collect())
}

/// The manifest of `items`: one line per item, `<sha256>  <size>  <name>` (the format of
/// `sha256sum`, with the size), and its own SHA-256.
pub fn manifest(items: &[PackageItem]) -> (String, String) {
    let manifest: String = items
        .iter()
        .map(|i| format!("{}  {}  {}\n", i.sha256, i.size_bytes, i.name))
        .collect();
    let hash = hex::encode(Sha256::digest(manifest.as_bytes()));
    (manifest, hash)
}

/// The package of what was gathered at `now`, not yet released: its items, their
/// manifest, and the targets nothing was found for.
pub fn assemble(items: Vec<PackageItem>, not_found: Vec<Target>, now: DateTime<Utc>) -> Package {
    let (manifest, manifest_sha256) = manifest(&items);
    Package {
        items,
        manifest,
        manifest_sha256,
        build_time: Some(to_timestamp(now)),
        expire_time: None,
        not_found,
        delete_time: None,
    }
}

/// Releases the package of `request` to its agency at `now`, for `ttl`; returns when it
/// expires. An emergency request needs its second confirmation first.
pub fn release(
    request: &mut LegalRequest,
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> Result<DateTime<Utc>, &'static str> {
    if !emergency_confirmed(request) {
        return Err(
            "an emergency request needs a second, independent confirmation before any data goes out",
        );
    }
    let expires = now + ttl;
    request
        .package
        .get_or_insert_with(Package::default)
        .expire_time = Some(to_timestamp(expires));
    Ok(expires)
}

/// Whether the package of a request that is `status` may be downloaded at `now`: it was
/// released, and has not expired (its files are deleted then, its manifest kept).
pub fn downloadable(
    status: RequestStatus,
    package: &Package,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let expires = package
        .expire_time
        .as_ref()
        .map(|t| from_timestamp(t).unwrap_or_default());
    let released = matches!(status, RequestStatus::Disclosed | RequestStatus::Closed);
    match expires {
        Some(expires) if released => {
            if expires <= now {
                Err(format!(
                    "the package expired at {expires}: its files are deleted, only its manifest is kept"
                ))
            } else {
                Ok(())
            }
        }
        _ => Err("no package was disclosed for this request".to_owned()),
    }
}

/// The files of a package, in the order of its items, each with its stored content (empty
/// if none is stored under its name).
pub fn files(items: &[PackageItem], contents: Vec<(String, Vec<u8>)>) -> Vec<PackageFile> {
    let mut contents: HashMap<String, Vec<u8>> = contents.into_iter().collect();
    items
        .iter()
        .map(|item| PackageFile {
            content: contents.remove(&item.name).unwrap_or_default(),
            item: Some(item.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use assay_proto::lawenforcement::v1::{Confirmation, ConfirmationChannel};

    use super::*;

    fn item(name: &str, content: &[u8]) -> PackageItem {
        PackageItem {
            name: name.to_owned(),
            sha256: hex::encode(Sha256::digest(content)),
            size_bytes: content.len() as i64,
            ..Default::default()
        }
    }

    fn emergency(confirmations: &[(&str, ConfirmationChannel)]) -> LegalRequest {
        LegalRequest {
            emergency: true,
            approved_categories: vec![
                DataCategory::ScreenedListings as i32,
                // Unknown to this version: left out, never an error.
                999,
            ],
            confirmations: confirmations
                .iter()
                .map(|(by, channel)| Confirmation {
                    confirmed_by: (*by).to_owned(),
                    channel: *channel as i32,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn an_emergency_is_gathered_and_released_only_when_confirmed_twice() {
        let once = emergency(&[("ann", ConfirmationChannel::Email)]);
        assert!(gathering(&once).unwrap_err().contains("second"));
        let mut once = once;
        let now = Utc::now();
        assert!(release(&mut once, now, chrono::Duration::days(30)).is_err());
        assert!(once.package.is_none(), "nothing released");

        let mut twice = emergency(&[
            ("ann", ConfirmationChannel::Email),
            ("bob", ConfirmationChannel::Callback),
        ]);
        assert_eq!(gathering(&twice).unwrap(), [DataCategory::ScreenedListings]);
        let expires = release(&mut twice, now, chrono::Duration::days(30)).unwrap();
        assert_eq!(expires, now + chrono::Duration::days(30));
        assert_eq!(
            twice.package.unwrap().expire_time,
            Some(to_timestamp(expires))
        );
        // Not an emergency: no confirmation needed.
        assert!(gathering(&LegalRequest::default()).unwrap().is_empty());
    }

    #[test]
    fn the_manifest_lists_every_item_as_sha256sum_does_and_hashes_itself() {
        let items = vec![item("listings.json", b"[]"), item("hits.json", b"{}")];
        let package = assemble(items.clone(), Vec::new(), Utc::now());
        assert_eq!(
            package.manifest,
            format!(
                "{}  2  listings.json\n{}  2  hits.json\n",
                items[0].sha256, items[1].sha256
            )
        );
        assert_eq!(
            package.manifest_sha256,
            hex::encode(Sha256::digest(package.manifest.as_bytes()))
        );
        assert!(package.expire_time.is_none(), "assembled, not released");
        assert_eq!(
            manifest(&[]),
            (String::new(), hex::encode(Sha256::digest(b"")))
        );
    }

    #[test]
    fn a_package_is_downloadable_from_release_until_it_expires() {
        let now = Utc::now();
        let mut package = Package::default();
        assert!(downloadable(RequestStatus::Gathering, &package, now).is_err());
        package.expire_time = Some(to_timestamp(now + chrono::Duration::days(1)));
        for status in [RequestStatus::Disclosed, RequestStatus::Closed] {
            assert_eq!(downloadable(status, &package, now), Ok(()));
        }
        // Gathered and dated, but its request never disclosed it.
        let refused = downloadable(RequestStatus::Approved, &package, now).unwrap_err();
        assert!(refused.contains("no package was disclosed"), "{refused}");
        let later = now + chrono::Duration::days(2);
        let expired = downloadable(RequestStatus::Closed, &package, later).unwrap_err();
        assert!(expired.contains("expired"), "{expired}");
    }

    #[test]
    fn files_follow_the_items_whatever_order_they_are_stored_in() {
        let items = vec![item("b", b"2"), item("a", b"1"), item("missing", b"")];
        let files = files(
            &items,
            vec![
                ("a".to_owned(), b"1".to_vec()),
                ("b".to_owned(), b"2".to_vec()),
            ],
        );
        let got: Vec<(&str, &[u8])> = files
            .iter()
            .map(|f| (f.item.as_ref().unwrap().name.as_str(), f.content.as_slice()))
            .collect();
        assert_eq!(got, [("b", &b"2"[..]), ("a", b"1"), ("missing", b"")]);
    }
}
