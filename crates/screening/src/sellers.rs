//! What case management knows of sellers — confirmed strikes, the policy that makes a
//! repeat infringer, links to repeat infringers — held in memory for the engine, with no
//! call per listing. Case management sends each change (`RecordSellerStandings`); every
//! replica follows the table, as it follows rules.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use assay_common::db::Db;
use assay_common::{ApiResult, FieldViolations, time, validate};
use assay_proto::screening::v1::{SellerLink as LinkProto, SellerStanding as StandingProto};
use chrono::{DateTime, Utc};

use crate::engine::{SellerLink, SellerRecord};
use crate::store;

/// Strikes one standing may carry.
pub const MAX_STRIKES: usize = 100;
/// Links one standing may carry.
pub const MAX_LINKS: usize = 50;
/// Standings one call may carry.
pub const MAX_STANDINGS: usize = 1000;
/// How far back a replica looks again for rows another one wrote, beyond the newest it saw:
/// two writers' clocks and commits need not be in order.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(10);

/// One seller's standing as case management last said.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// Strikes that still stand, newest first.
    pub strike_times: Vec<DateTime<Utc>>,
    pub window: Duration,
    pub repeat_infringer_strikes: u32,
    pub links: Vec<SellerLink>,
    pub as_of: DateTime<Utc>,
}

impl Standing {
    /// Checks a standing case management sent, naming bad fields under `prefix`.
    pub fn check(
        standing: &StandingProto,
        prefix: &str,
        violations: &mut FieldViolations,
    ) -> Option<(String, Self)> {
        let field = |name: &str| format!("{prefix}.{name}");
        let seller_id = violations.check(
            &field("seller_id"),
            validate::external_id(&standing.seller_id),
        );
        if standing.strike_times.len() > MAX_STRIKES {
            violations.add(field("strike_times"), format!("at most {MAX_STRIKES}"));
        }
        let mut strike_times: Vec<DateTime<Utc>> = standing
            .strike_times
            .iter()
            .take(MAX_STRIKES)
            .filter_map(|t| time::from_timestamp(t).ok())
            .collect();
        if strike_times.len() != standing.strike_times.len().min(MAX_STRIKES) {
            violations.add(field("strike_times"), "must be valid times");
        }
        strike_times.sort_unstable_by(|a, b| b.cmp(a));
        let window = match &standing.strike_window {
            Some(window) if window.seconds > 0 && window.nanos >= 0 => {
                Some(Duration::from_secs(window.seconds as u64))
            }
            _ => {
                violations.add(field("strike_window"), "must be a positive duration");
                None
            }
        };
        if standing.repeat_infringer_strikes < 1 {
            violations.add(field("repeat_infringer_strikes"), "must be at least 1");
        }
        if standing.links.len() > MAX_LINKS {
            violations.add(field("links"), format!("at most {MAX_LINKS}"));
        }
        let links: Vec<SellerLink> = standing
            .links
            .iter()
            .take(MAX_LINKS)
            .enumerate()
            .filter_map(|(i, link)| {
                let seller_id = violations.check(
                    &field(&format!("links[{i}].seller_id")),
                    validate::external_id(&link.seller_id),
                );
                let evidence = violations.check(
                    &field(&format!("links[{i}].evidence")),
                    validate::text(&link.evidence, 200),
                );
                Some(SellerLink {
                    seller_id: seller_id?,
                    evidence: evidence?,
                })
            })
            .collect();
        let as_of = match standing.as_of.as_ref().map(time::from_timestamp) {
            Some(Ok(at)) => Some(at),
            _ => {
                violations.add(field("as_of"), "must be a valid time");
                None
            }
        };
        Some((
            seller_id?,
            Standing {
                strike_times,
                window: window?,
                repeat_infringer_strikes: standing.repeat_infringer_strikes.max(1) as u32,
                links,
                as_of: as_of?,
            },
        ))
    }

    pub fn to_proto(&self, seller_id: &str) -> StandingProto {
        StandingProto {
            seller_id: seller_id.to_owned(),
            strike_times: self
                .strike_times
                .iter()
                .map(|t| time::to_timestamp(*t))
                .collect(),
            strike_window: Some(prost_types::Duration {
                seconds: self.window.as_secs() as i64,
                nanos: 0,
            }),
            repeat_infringer_strikes: self.repeat_infringer_strikes as i32,
            links: self
                .links
                .iter()
                .map(|l| LinkProto {
                    seller_id: l.seller_id.clone(),
                    evidence: l.evidence.clone(),
                })
                .collect(),
            as_of: Some(time::to_timestamp(self.as_of)),
        }
    }

    /// Nothing to hold against the seller: it is forgotten.
    pub fn is_empty(&self) -> bool {
        self.strike_times.is_empty() && self.links.is_empty()
    }

    /// Strikes that count at `now`: within the window.
    pub fn active_strikes(&self, now: DateTime<Utc>) -> u32 {
        let window = chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX);
        let since = now.checked_sub_signed(window);
        self.strike_times
            .iter()
            .filter(|t| since.is_none_or(|s| **t >= s))
            .count() as u32
    }

    /// What the engine weighs, as of `now`.
    pub fn record(&self, now: DateTime<Utc>) -> SellerRecord<'_> {
        let active_strikes = self.active_strikes(now);
        SellerRecord {
            active_strikes,
            window_days: (self.window.as_secs() / 86_400) as u32,
            repeat_infringer: active_strikes >= self.repeat_infringer_strikes,
            links: &self.links,
        }
    }
}

/// Standings by seller id. Its keys come from case management, not from callers.
pub type Standings = HashMap<String, Arc<Standing>, foldhash::quality::RandomState>;

/// Every standing this replica knows, by seller id.
#[derive(Debug, Default)]
pub struct SellerBook {
    standings: ArcSwap<Standings>,
    /// The newest update time read from the table.
    seen: Mutex<Option<DateTime<Utc>>>,
}

impl SellerBook {
    /// Every standing as it is now, for a batch of listings to look up without a lock or
    /// a reference count each.
    pub fn snapshot(&self) -> Arc<Standings> {
        self.standings.load_full()
    }

    pub fn len(&self) -> usize {
        self.standings.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes in standings newer than those held; an empty one forgets its seller.
    pub fn apply(&self, updates: impl IntoIterator<Item = (String, Standing)>) {
        let updates: Vec<(String, Standing)> = updates.into_iter().collect();
        if updates.is_empty() {
            return;
        }
        self.standings.rcu(|current| {
            let mut next = Standings::clone(current);
            for (seller_id, standing) in &updates {
                if next
                    .get(seller_id)
                    .is_some_and(|held| held.as_of >= standing.as_of)
                {
                    continue;
                }
                if standing.is_empty() {
                    next.remove(seller_id);
                } else {
                    next.insert(seller_id.clone(), Arc::new(standing.clone()));
                }
            }
            next
        });
    }

    /// Reads what was recorded since this replica last looked (on any replica).
    pub async fn refresh(&self, db: &Db) -> ApiResult<()> {
        let since = (*self.seen.lock().unwrap_or_else(|e| e.into_inner())).map(|t| t - OVERLAP);
        let rows = store::seller_standings_since(db, since).await?;
        let Some(newest) = rows.iter().map(|r| r.update_time).max() else {
            return Ok(());
        };
        let mut updates = Vec::with_capacity(rows.len());
        for row in rows {
            match store::decode_standing(&row) {
                Ok(standing) => updates.push((row.seller_id, standing)),
                Err(error) => {
                    tracing::error!(seller_id = %row.seller_id, %error, "unreadable seller standing")
                }
            }
        }
        self.apply(updates);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        *seen = Some(seen.map_or(newest, |s| s.max(newest)));
        Ok(())
    }
}

/// Follows the table every `interval` until shutdown, so that what case management told
/// another replica reaches this one.
pub async fn follow_forever(
    book: Arc<SellerBook>,
    db: Db,
    interval: Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut rounds = assay_common::jobs::Rounds::every(interval, shutdown);
    while rounds.next().await {
        if let Err(error) = book.refresh(&db).await {
            tracing::warn!(%error, "reading seller standings failed; will retry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(as_of_secs: i64, strikes: &[i64], links: usize) -> Standing {
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        Standing {
            strike_times: strikes.iter().map(|s| at(*s)).collect(),
            window: Duration::from_secs(100),
            repeat_infringer_strikes: 2,
            links: (0..links)
                .map(|i| SellerLink {
                    seller_id: format!("r{i}"),
                    evidence: "payment account".into(),
                })
                .collect(),
            as_of: at(as_of_secs),
        }
    }

    #[test]
    fn strikes_count_within_the_window_only() {
        let s = standing(0, &[1000, 950, 890], 0);
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        assert_eq!(s.active_strikes(at(1000)), 2);
        assert!(s.record(at(1000)).repeat_infringer);
        assert_eq!(s.active_strikes(at(1051)), 1);
        assert!(!s.record(at(1051)).repeat_infringer);
        assert_eq!(s.active_strikes(at(5000)), 0);
    }

    #[test]
    fn an_older_standing_never_replaces_a_newer_one_and_an_empty_one_forgets() {
        let book = SellerBook::default();
        assert!(book.snapshot().get("s").is_none());
        book.apply([("s".to_owned(), standing(10, &[5], 0))]);
        book.apply([("s".to_owned(), standing(9, &[5, 4, 3], 0))]);
        assert_eq!(book.snapshot().get("s").unwrap().strike_times.len(), 1);
        book.apply([("s".to_owned(), standing(11, &[], 1))]);
        assert_eq!(book.snapshot().get("s").unwrap().links.len(), 1);
        book.apply([("s".to_owned(), standing(12, &[], 0))]);
        assert!(book.snapshot().get("s").is_none() && book.is_empty());
    }

    #[test]
    fn bad_standings_name_their_fields() {
        let mut proto = standing(10, &[5], 1).to_proto("s-1");
        let mut violations = FieldViolations::new();
        let checked = Standing::check(&proto, "standings[0]", &mut violations);
        assert!(violations.is_empty(), "{violations}");
        assert_eq!(checked.unwrap().0, "s-1");

        proto.seller_id = String::new();
        proto.strike_window = None;
        proto.repeat_infringer_strikes = 0;
        proto.links[0].evidence = String::new();
        proto.as_of = None;
        proto.strike_times = vec![Default::default(); MAX_STRIKES + 1];
        let mut violations = FieldViolations::new();
        assert!(Standing::check(&proto, "standings[0]", &mut violations).is_none());
        let named: Vec<&str> = violations.iter().map(|(f, _)| f).collect();
        for field in [
            "standings[0].seller_id",
            "standings[0].strike_times",
            "standings[0].strike_window",
            "standings[0].repeat_infringer_strikes",
            "standings[0].links[0].evidence",
            "standings[0].as_of",
        ] {
            assert!(named.contains(&field), "{field} not in {named:?}");
        }
    }
}
