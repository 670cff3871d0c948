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

/// How many bits two image hashes differ in; None unless both are 16 hex digits.
pub fn image_distance(a: &str, b: &str) -> Option<u32> {
    let a = u64::from_str_radix(a, 16).ok()?;
    let b = u64::from_str_radix(b, 16).ok()?;
    Some((a ^ b).count_ones())
}

/// A breadth-first search in progress. The caller asks [`ClusterSearch::next_seller`] for a seller
/// to follow, looks up who shares its identifiers, and reports them with
/// [`ClusterSearch::linked`], until no seller is left to follow.
#[derive(Debug)]
pub struct ClusterSearch {
    members: Vec<String>,
    seen: HashSet<String>,
    queue: VecDeque<String>,
    shared: BTreeMap<String, BTreeSet<Identifier>>,
    truncated: bool,
}

/// The sellers found, the seller searched from first, in the order they were reached.
#[derive(Debug, PartialEq, Eq)]
pub struct Cluster {
    pub members: Vec<String>,
    /// For each member, the identifiers it shares with another member.
    pub shared: BTreeMap<String, BTreeSet<Identifier>>,
    /// Whether more sellers were linked than [`MAX_CLUSTER`].
    pub truncated: bool,
}

impl ClusterSearch {
    pub fn from(seller_id: String) -> Self {
        Self {
            members: vec![seller_id.clone()],
            seen: HashSet::from([seller_id.clone()]),
            queue: VecDeque::from([seller_id]),
            shared: BTreeMap::new(),
            truncated: false,
        }
    }

    /// The next seller whose identifiers to follow.
    pub fn next_seller(&mut self) -> Option<String> {
        self.queue.pop_front()
    }

    /// Records that `seller` shares an identifier with each `(holder, identifier)`.
    pub fn linked(
        &mut self,
        seller: &str,
        holders: impl IntoIterator<Item = (String, Identifier)>,
    ) {
        for (holder, identifier) in holders {
            if holder == seller {
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
            if self.seen.contains(&holder) {
                continue;
            }
            if self.seen.len() >= MAX_CLUSTER {
                self.truncated = true;
                continue;
            }
            self.seen.insert(holder.clone());
            self.members.push(holder.clone());
            self.queue.push_back(holder);
        }
    }

    pub fn finish(self) -> Cluster {
        Cluster {
            members: self.members,
            shared: self.shared,
            truncated: self.truncated,
        }
    }
}

#[cfg(test)]
mod tests {

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
        let mut search = ClusterSearch::from(from.to_owned());
        while let Some(seller) = search.next_seller() {
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
