//! Seller clusters: the sellers linked to one seller through identifiers they share (a
//! payment account, an address, a phone), found breadth first and bounded.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use super::MAX_CLUSTER;

/// An identifier: its kind's proto name and its normalised value.
pub type Identifier = (String, String);

/// Product images this many bits apart (of 64) or fewer are the same picture, re-encoded,
/// resized or lightly edited.
pub const NEAR_IMAGE_BITS: u32 = 3;

/// The kind of the index rows that find near-duplicate images: never shown, never linked on
/// their own.
pub const IMAGE_BAND: &str = "IMAGE_HASH_BAND";

/// The index keys of an image hash (16 hex digits): its four 16-bit quarters, each with its
/// place. Two hashes at most [`NEAR_IMAGE_BITS`] apart differ in at most three quarters, so
/// they share at least one key: an exact look-up finds every near duplicate.
pub fn image_bands(hash: &str) -> Vec<String> {
    (0..4)
        .filter_map(|i| hash.get(i * 4..i * 4 + 4).map(|q| format!("{i}:{q}")))
        .collect()
}

/// The identifiers a screened listing gives its seller: the perceptual hash of each image
/// that is the seller's own picture. Two kinds of image tie strangers together and are
/// left out: a blank or nearly uniform one, which hashes to (nearly) all zeros or all ones
/// and every seller has; and a brand's logo (within [`BRAND_IMAGE_BITS`] of one of
/// `logos`), which every counterfeiter of that brand shows.
pub fn captured_images(hashes: impl IntoIterator<Item = u64>, logos: &[u64]) -> Vec<Identifier> {
    let mut captured: Vec<Identifier> = hashes
        .into_iter()
        .filter(|h| (MIN_IMAGE_BITS..=64 - MIN_IMAGE_BITS).contains(&h.count_ones()))
        .filter(|h| {
            logos
                .iter()
                .all(|logo| (h ^ logo).count_ones() > BRAND_IMAGE_BITS)
        })
        .map(|h| (IMAGE_HASH.to_owned(), format!("{h:016x}")))
        .collect();
    captured.sort_unstable();
    captured.dedup();
    captured
}

/// The fewest bits (of 64) an image hash must have set, and unset, to be captured.
const MIN_IMAGE_BITS: u32 = 8;

/// An image this many bits or fewer from a brand's logo is that logo: the distance at which
/// screening sees a logo in a listing.
pub const BRAND_IMAGE_BITS: u32 = 7;

/// The kind of an image hash identifier, as stored.
const IMAGE_HASH: &str = "IDENTIFIER_KIND_IMAGE_HASH";

/// How many bits two image hashes differ in; None unless both are 16 hex digits.
pub fn image_distance(a: &str, b: &str) -> Option<u32> {
    let a = u64::from_str_radix(a, 16).ok()?;
    let b = u64::from_str_radix(b, 16).ok()?;
    Some((a ^ b).count_ones())
}

/// A breadth-first search in progress. The caller asks [`ClusterSearch::next_seller`] for a
/// seller to follow, reports analysts' decisions about it with [`ClusterSearch::decided`],
/// then who shares its identifiers with [`ClusterSearch::linked`], until no seller is left
/// to follow.
#[derive(Debug)]
pub struct ClusterSearch {
    members: Vec<String>,
    seen: HashSet<String>,
    queue: VecDeque<String>,
    shared: BTreeMap<String, BTreeSet<Identifier>>,
    confirmed: BTreeMap<String, BTreeSet<String>>,
    broken: HashSet<(String, String)>,
    truncated: bool,
}

/// The sellers found, the seller searched from first, in the order they were reached.
#[derive(Debug, PartialEq, Eq)]
pub struct Cluster {
    pub members: Vec<String>,
    /// For each member, the identifiers it shares with another member.
    pub shared: BTreeMap<String, BTreeSet<Identifier>>,
    /// For each member, the members an analyst confirmed it is linked to.
    pub confirmed: BTreeMap<String, BTreeSet<String>>,
    /// Whether more sellers were linked than [`MAX_CLUSTER`].
    pub truncated: bool,
}

/// Two sellers in the order their link is filed under: the smaller id first.
pub fn link_pair(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

impl ClusterSearch {
    pub fn from(seller_id: String) -> Self {
        Self {
            members: vec![seller_id.clone()],
            seen: HashSet::from([seller_id.clone()]),
            queue: VecDeque::from([seller_id]),
            shared: BTreeMap::new(),
            confirmed: BTreeMap::new(),
            broken: HashSet::new(),
            truncated: false,
        }
    }

    /// The next seller whose identifiers to follow.
    pub fn next_seller(&mut self) -> Option<String> {
        self.queue.pop_front()
    }

    /// Records analysts' decisions about `seller` and each other seller: confirmed (true),
    /// which links them, or broken (false), which keeps any shared identifier from doing so.
    pub fn decided(&mut self, seller: &str, decisions: impl IntoIterator<Item = (String, bool)>) {
        for (other, confirmed) in decisions {
            if other == seller {
                continue;
            }
            if !confirmed {
                self.broken.insert(link_pair(seller, &other));
                continue;
            }
            self.confirmed
                .entry(seller.to_owned())
                .or_default()
                .insert(other.clone());
            self.confirmed
                .entry(other.clone())
                .or_default()
                .insert(seller.to_owned());
            self.reach(other);
        }
    }

    /// Records that `seller` shares an identifier with each `(holder, identifier)`, but
    /// for holders an analyst said are not linked to it.
    pub fn linked(
        &mut self,
        seller: &str,
        holders: impl IntoIterator<Item = (String, Identifier)>,
    ) {
        for (holder, identifier) in holders {
            if holder == seller || self.broken.contains(&link_pair(seller, &holder)) {
                continue;
            }
            self.shared
                .entry(seller.to_owned())
                .or_default()
                .insert(identifier.clone());
            self.shared
                .entry(holder.clone())
                .or_default()
                .insert(identifier);
            self.reach(holder);
        }
    }

    /// Adds `seller` to the members and the queue, unless found before or over the limit.
    fn reach(&mut self, seller: String) {
        if self.seen.contains(&seller) {
            return;
        }
        if self.seen.len() >= MAX_CLUSTER {
            self.truncated = true;
            return;
        }
        self.seen.insert(seller.clone());
        self.members.push(seller.clone());
        self.queue.push_back(seller);
    }

    pub fn finish(self) -> Cluster {
        Cluster {
            members: self.members,
            shared: self.shared,
            confirmed: self.confirmed,
            truncated: self.truncated,
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_screened_listing_gives_its_seller_the_hashes_of_real_pictures_only() {
        use assay_proto::cases::v1::IdentifierKind;
        assert_eq!(IMAGE_HASH, IdentifierKind::ImageHash.as_str_name());
        let picture = 0x8f3c_61e0_5a5a_0ff1;
        assert_eq!(
            captured_images([picture, 0, u64::MAX, 0x0000_0000_0000_007f, picture], &[]),
            vec![(IMAGE_HASH.to_owned(), "8f3c61e05a5a0ff1".to_owned())],
            "blank, uniform and nearly empty images link nobody; a picture counts once"
        );
        assert_eq!(captured_images([0x0000_0000_0000_00ff], &[]).len(), 1);
        assert!(captured_images([!0x0000_0000_0000_007fu64], &[]).is_empty());
        // A brand's logo, even altered in a few bits, is the brand's, not the seller's.
        let logo = 0x3c3c_f00f_a5a5_0ff0;
        assert!(captured_images([logo ^ 0b101_0101], &[logo]).is_empty());
        assert_eq!(
            captured_images([logo ^ 0xff], &[logo]).len(),
            1,
            "8 bits off: a picture"
        );
    }

    #[test]
    fn near_duplicate_images_share_an_index_key() {
        let a = "ffffffff00000000";
        assert_eq!(image_bands(a), ["0:ffff", "1:ffff", "2:0000", "3:0000"]);
        // Three bits apart, in three quarters: still one quarter alike.
        let b = "fffefffe00000001";
        assert_eq!(image_distance(a, b), Some(3));
        let shared = image_bands(a)
            .into_iter()
            .filter(|k| image_bands(b).contains(k))
            .count();
        assert!(shared >= 1);
        assert_eq!(image_distance(a, "ffffffff0000001f"), Some(5));
        assert_eq!(image_distance(a, "not hex"), None);
    }

    use super::*;

    fn id(kind: &str, value: &str) -> Identifier {
        (kind.to_owned(), value.to_owned())
    }

    /// Runs a search over a fixed table of who holds which identifier.
    fn search(from: &str, holdings: &[(&str, Identifier)]) -> Cluster {
        search_with(from, holdings, &[])
    }

    /// The same, with analysts' decisions: (seller, seller, confirmed).
    fn search_with(
        from: &str,
        holdings: &[(&str, Identifier)],
        decisions: &[(&str, &str, bool)],
    ) -> Cluster {
        let mut search = ClusterSearch::from(from.to_owned());
        while let Some(seller) = search.next_seller() {
            let decided = decisions.iter().filter_map(|&(a, b, confirmed)| {
                let other = if a == seller {
                    b
                } else if b == seller {
                    a
                } else {
                    return None;
                };
                Some((other.to_owned(), confirmed))
            });
            search.decided(&seller, decided.collect::<Vec<_>>());
            let own: Vec<&Identifier> = holdings
                .iter()
                .filter(|(s, _)| *s == seller)
                .map(|(_, i)| i)
                .collect();
            let holders = holdings
                .iter()
                .filter(|(_, i)| own.contains(&i))
                .map(|(s, i)| (s.to_string(), i.clone()));
            search.linked(&seller, holders.collect::<Vec<_>>());
        }
        search.finish()
    }

    #[test]
    fn sellers_link_through_chains_of_shared_identifiers() {
        let bank = id("IDENTIFIER_KIND_PAYMENT_ACCOUNT", "DE001");
        let phone = id("IDENTIFIER_KIND_PHONE", "4930123456");
        let cluster = search(
            "S1",
            &[
                ("S1", bank.clone()),
                ("S2", bank.clone()),
                ("S2", phone.clone()),
                ("S3", phone.clone()),
                ("S4", id("IDENTIFIER_KIND_PHONE", "999999")),
            ],
        );
        assert_eq!(cluster.members, ["S1", "S2", "S3"]);
        assert!(!cluster.truncated);
        assert_eq!(cluster.shared["S1"], BTreeSet::from([bank.clone()]));
        assert_eq!(cluster.shared["S2"], BTreeSet::from([bank, phone.clone()]));
        assert_eq!(cluster.shared["S3"], BTreeSet::from([phone]));
    }

    #[test]
    fn a_broken_link_ignores_what_two_sellers_share_and_a_confirmed_one_needs_nothing_shared() {
        let warehouse = id("IDENTIFIER_KIND_ADDRESS", "1 fulfilment park");
        let bank = id("IDENTIFIER_KIND_PAYMENT_ACCOUNT", "DE001");
        let holdings = [
            ("S1", warehouse.clone()),
            ("S2", warehouse.clone()),
            ("S2", bank.clone()),
            ("S3", bank.clone()),
        ];
        assert_eq!(search("S1", &holdings).members, ["S1", "S2", "S3"]);

        // The warehouse is a coincidence: S1 stands alone, S2 and S3 still share a bank.
        let broken = search_with("S1", &holdings, &[("S2", "S1", false)]);
        assert_eq!(broken.members, ["S1"]);
        assert!(broken.shared.is_empty());
        let from_s2 = search_with("S2", &holdings, &[("S2", "S1", false)]);
        assert_eq!(from_s2.members, ["S2", "S3"]);
        assert_eq!(from_s2.shared["S2"], BTreeSet::from([bank.clone()]));

        // Confirmed: S4 shares nothing, yet belongs, and the cluster says who vouched.
        let confirmed = search_with("S1", &holdings, &[("S3", "S4", true)]);
        assert_eq!(confirmed.members, ["S1", "S2", "S3", "S4"]);
        assert_eq!(confirmed.confirmed["S4"], BTreeSet::from(["S3".to_owned()]));
        assert_eq!(confirmed.confirmed["S3"], BTreeSet::from(["S4".to_owned()]));
        assert!(!confirmed.shared.contains_key("S4"));
        assert_eq!(link_pair("S9", "S10"), ("S10".to_owned(), "S9".to_owned()));
    }

    #[test]
    fn a_seller_alone_is_a_cluster_of_one() {
        let cluster = search("S1", &[("S1", id("IDENTIFIER_KIND_EMAIL", "a@b.example"))]);
        assert_eq!(cluster.members, ["S1"]);
        assert!(cluster.shared.is_empty());
    }

    #[test]
    fn a_huge_cluster_is_cut_at_its_bound_and_says_so() {
        let shared = id("IDENTIFIER_KIND_ADDRESS", "1 dock road");
        let names: Vec<String> = (0..MAX_CLUSTER + 50).map(|i| format!("S{i}")).collect();
        let holdings: Vec<(&str, Identifier)> =
            names.iter().map(|n| (n.as_str(), shared.clone())).collect();
        let cluster = search("S0", &holdings);
        assert_eq!(cluster.members.len(), MAX_CLUSTER);
        assert!(cluster.truncated);
    }
}
