//! A seller's standing as screening is told it: the strikes that still stand, the policy
//! that reads them, and the repeat infringers it is linked to.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::RepeatInfringerPolicy;
use super::cluster::Cluster;

/// Strikes one standing carries, newest first.
pub const MAX_STRIKES: usize = 100;
/// Links one standing carries.
pub const MAX_LINKS: usize = 50;

/// Each seller's strikes: when given, and when withdrawn.
pub type StrikesBySeller = HashMap<String, Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>>;

/// One seller's standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub seller_id: String,
    /// Strikes not withdrawn and within the window, newest first.
    pub strike_times: Vec<DateTime<Utc>>,
    pub window: Duration,
    pub repeat_infringer_strikes: u32,
    /// (repeat infringer, what links them), in the cluster's order.
    pub links: Vec<(String, String)>,
    pub as_of: DateTime<Utc>,
}

/// The standing of every member of `cluster`, as of `now`. A member with nothing against
/// it gets an empty standing, so that screening forgets what it held.
pub fn standings(
    policy: &RepeatInfringerPolicy,
    cluster: &Cluster,
    strikes: &StrikesBySeller,
    now: DateTime<Utc>,
) -> Vec<Standing> {
    let window = chrono::Duration::from_std(policy.window).unwrap_or(chrono::Duration::MAX);
    let since = now.checked_sub_signed(window);
    let standing_strikes = |seller: &str| -> Vec<DateTime<Utc>> {
        let mut times: Vec<DateTime<Utc>> = strikes
            .get(seller)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter(|(at, withdrawn)| withdrawn.is_none() && since.is_none_or(|s| *at >= s))
            .map(|(at, _)| *at)
            .collect();
        times.sort_unstable_by(|a, b| b.cmp(a));
        times.truncate(MAX_STRIKES);
        times
    };
    let repeat: Vec<&String> = cluster
        .members
        .iter()
        .filter(|m| {
            let active = standing_strikes(m).len() as u32;
            policy.is_repeat_infringer(active)
        })
        .collect();
    cluster
        .members
        .iter()
        .map(|member| Standing {
            seller_id: member.clone(),
            strike_times: standing_strikes(member),
            window: policy.window,
            repeat_infringer_strikes: policy.strikes,
            links: repeat
                .iter()
                .filter(|r| **r != member)
                .take(MAX_LINKS)
                .map(|r| ((*r).clone(), link_evidence(cluster, r)))
                .collect(),
            as_of: now,
        })
        .collect()
}

/// What links a seller into its cluster, as codes a catalogue writes as a list
/// (`LIST($evidence, of: "link")`): "payment-account,address", or "analyst-confirmed".
/// Screening is told them in `SellerLink.evidence`, and they go into the reasons of
/// enforcement actions.
pub fn link_evidence(cluster: &Cluster, seller: &str) -> String {
    let mut kinds: BTreeSet<&str> = cluster
        .shared
        .get(seller)
        .into_iter()
        .flatten()
        .map(|(kind, _)| match kind.as_str() {
            "IDENTIFIER_KIND_PAYMENT_ACCOUNT" => "payment-account",
            "IDENTIFIER_KIND_ADDRESS" => "address",
            "IDENTIFIER_KIND_PHONE" => "phone",
            "IDENTIFIER_KIND_IMAGE_HASH" => "product-image",
            "IDENTIFIER_KIND_EMAIL" => "email",
            _ => "identifier",
        })
        .collect();
    if cluster.confirmed.contains_key(seller) {
        kinds.insert("analyst-confirmed");
    }
    match kinds.len() {
        0 => "identifier".to_owned(),
        _ => kinds.into_iter().collect::<Vec<_>>().join(","),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn at(days: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + days * 86_400, 0).unwrap()
    }

    fn cluster(members: &[&str], shared: &[(&str, &str)]) -> Cluster {
        let mut map: BTreeMap<String, BTreeSet<crate::domain::cluster::Identifier>> =
            BTreeMap::new();
        for (seller, kind) in shared {
            map.entry((*seller).to_owned())
                .or_default()
                .insert(((*kind).to_owned(), "v".to_owned()));
        }
        Cluster {
            members: members.iter().map(|m| (*m).to_owned()).collect(),
            shared: map,
            confirmed: BTreeMap::new(),
            truncated: false,
        }
    }

    #[test]
    fn strikes_withdrawn_or_too_old_do_not_stand() {
        let policy = RepeatInfringerPolicy::default();
        let strikes = HashMap::from([(
            "s".to_owned(),
            vec![
                (at(-400), None),
                (at(-10), Some(at(-5))),
                (at(-20), None),
                (at(-1), None),
            ],
        )]);
        let got = standings(&policy, &cluster(&["s"], &[]), &strikes, at(0));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].strike_times, [at(-1), at(-20)]);
        assert!(got[0].links.is_empty());
        assert_eq!(got[0].repeat_infringer_strikes, 3);
    }

    #[test]
    fn members_are_linked_to_the_repeat_infringers_of_their_cluster() {
        let policy = RepeatInfringerPolicy::default();
        let three = vec![(at(-3), None), (at(-2), None), (at(-1), None)];
        let strikes = HashMap::from([("r".to_owned(), three), ("s".to_owned(), vec![])]);
        let got = standings(
            &policy,
            &cluster(
                &["s", "r", "t"],
                &[
                    ("r", "IDENTIFIER_KIND_PAYMENT_ACCOUNT"),
                    ("r", "IDENTIFIER_KIND_ADDRESS"),
                    ("s", "IDENTIFIER_KIND_PAYMENT_ACCOUNT"),
                ],
            ),
            &strikes,
            at(0),
        );
        let by: HashMap<&str, &Standing> = got.iter().map(|s| (s.seller_id.as_str(), s)).collect();
        let link = ("r".to_owned(), "address,payment-account".to_owned());
        assert_eq!(by["s"].links, std::slice::from_ref(&link));
        assert_eq!(by["t"].links, [link]);
        // A repeat infringer is not linked to itself.
        assert!(by["r"].links.is_empty());
        assert_eq!(by["r"].strike_times.len(), 3);
        // Nothing against t but the link; nothing at all against a lone seller.
        assert!(by["t"].strike_times.is_empty());
        let alone = standings(&policy, &cluster(&["u"], &[]), &HashMap::new(), at(0));
        assert!(alone[0].strike_times.is_empty() && alone[0].links.is_empty());
    }

    #[test]
    fn a_link_an_analyst_confirmed_says_so() {
        let mut confirmed = cluster(&["s", "r"], &[("r", "IDENTIFIER_KIND_PHONE")]);
        assert_eq!(link_evidence(&confirmed, "r"), "phone");
        confirmed
            .confirmed
            .insert("r".to_owned(), BTreeSet::from(["s".to_owned()]));
        assert_eq!(link_evidence(&confirmed, "r"), "analyst-confirmed,phone");
        confirmed.shared.clear();
        assert_eq!(link_evidence(&confirmed, "r"), "analyst-confirmed");
    }
}
