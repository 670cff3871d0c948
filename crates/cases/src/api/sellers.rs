//! Sellers: their strikes, their identifiers, and the clusters those link.

use std::collections::BTreeSet;

use super::*;
use crate::domain::cluster::Cluster;
use crate::domain::enforcement::SuspendedLink;

impl CasesApi {
    /// Brings the enforcement level of each seller of case `case_id` in line with its
    /// strikes that count, recording an action where it changes (inside `txn`, with the
    /// strikes that changed it).
    pub(super) async fn enforce(
        &self,
        txn: &DatabaseTransaction,
        case_id: &CaseId,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let sellers: BTreeSet<String> = store::listings_of_case(txn, case_id)
            .await?
            .into_iter()
            .map(|l| l.seller_id)
            .collect();
        // In the order of their ids, so that two transactions never wait on each other.
        for seller_id in sellers {
            self.enforce_seller(txn, &seller_id, now).await?;
        }
        Ok(())
    }

    /// Steps back every seller whose strikes ran out of the window since its level was
    /// set, each in its own transaction; returns how many changed.
    pub async fn enforce_expired(&self) -> ApiResult<u64> {
        let mut changed = 0;
        for seller_id in store::enforced_sellers(self.db()).await? {
            let txn = self.db().begin().await?;
            if self
                .enforce_seller(&txn, &seller_id, time::now())
                .await?
                .changed
            {
                changed += 1;
            }
            txn.commit().await?;
        }
        Ok(changed)
    }

    /// Brings one seller's enforcement level in line with its strikes that count at `now`
    /// (and, where the policy suspends linked sellers, with its cluster). Where its own
    /// suspension came or went, its cluster is queued for another look.
    async fn enforce_seller(
        &self,
        txn: &DatabaseTransaction,
        seller_id: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<Enforced> {
        let config = &self.inner.config;
        store::lock_seller(txn, seller_id).await?;
        let counting: Vec<String> = store::strikes_of(txn, &[seller_id.to_owned()])
            .await?
            .into_iter()
            .filter(|s| {
                config
                    .repeat_infringer
                    .counts(s.strike_time, s.withdraw_time, now)
            })
            .map(|s| s.case_id.to_string())
            .collect();
        let active = counting.len() as u32;
        let previous = store::enforcement_of(txn, seller_id).await?;
        let (cluster, suspended) = if config.enforcement.suspend_linked {
            let cluster = store::cluster_of(txn, seller_id.to_owned()).await?;
            let suspended = self.suspended_link(txn, &cluster, now).await?;
            (Some(cluster), suspended)
        } else {
            (None, None)
        };
        if config.enforcement.spreads(&previous, active)
            && let Some(cluster) = &cluster
        {
            let others = cluster.members.iter().filter(|m| *m != seller_id).cloned();
            store::queue_enforcement_checks(txn, others, false).await?;
        }
        let window_days = config.repeat_infringer.window.as_secs() / 86_400;
        let Some(change) =
            config
                .enforcement
                .decide(&previous, active, window_days, suspended.as_ref())
        else {
            return Ok(Enforced {
                changed: false,
                cluster,
            });
        };
        tracing::info!(
            seller_id,
            level = change.level.as_str_name(),
            linked_seller_id = change.linked_seller_id,
            active,
            "enforcement level changed"
        );
        store::record_enforcement(
            txn,
            store::NewEnforcement {
                seller_id,
                level: change.level,
                previous: previous.level,
                active_strikes: active,
                case_ids: counting,
                reason: change.reason,
                linked_seller_id: change.linked_seller_id,
            },
            now,
        )
        .await?;
        Ok(Enforced {
            changed: true,
            cluster,
        })
    }

    /// The first seller of `cluster` (but the one searched from) that its own strikes
    /// suspend, with what links the two.
    async fn suspended_link(
        &self,
        txn: &DatabaseTransaction,
        cluster: &Cluster,
        now: DateTime<Utc>,
    ) -> ApiResult<Option<SuspendedLink>> {
        let others = &cluster.members[1.min(cluster.members.len())..];
        let strikes = store::strikes_by_seller(txn, others).await?;
        let config = &self.inner.config;
        Ok(others
            .iter()
            .find(|other| {
                let active = config
                    .repeat_infringer
                    .active(strikes.get(*other).map_or(&[][..], Vec::as_slice), now);
                config.enforcement.level(active) == EnforcementLevel::Suspend
            })
            .map(|other| SuspendedLink {
                seller_id: other.clone(),
                evidence: domain::standing::link_evidence(cluster, other),
            }))
    }

    /// Looks again at a seller's enforcement level, in a transaction of its own (queued by
    /// [`store::queue_enforcement_checks`]); `spread`: then queues a look at every seller of
    /// its cluster.
    pub async fn check_enforcement(&self, seller_id: &str, spread: bool) -> ApiResult<()> {
        let txn = self.db().begin().await?;
        let enforced = self.enforce_seller(&txn, seller_id, time::now()).await?;
        // The cluster is there only where the policy suspends linked sellers.
        if spread && let Some(cluster) = enforced.cluster {
            let others = cluster.members.into_iter().filter(|m| m != seller_id);
            store::queue_enforcement_checks(&txn, others, false).await?;
        }
        txn.commit().await?;
        self.inner.relay.wake();
        Ok(())
    }

    /// Where the policy suspends linked sellers, queues a look at the clusters of sellers
    /// whose links changed, in the caller's transaction.
    pub(super) async fn links_changed(
        &self,
        txn: &DatabaseTransaction,
        seller_ids: impl IntoIterator<Item = String>,
    ) -> ApiResult<()> {
        if !self.inner.config.enforcement.suspend_linked {
            return Ok(());
        }
        store::queue_enforcement_checks(txn, seller_ids, true).await
    }

    pub(super) async fn list_enforcement_actions(
        &self,
        req: ListEnforcementActionsRequest,
    ) -> ApiResult<ListEnforcementActionsResponse> {
        let mut violations = FieldViolations::new();
        if req.after_sequence < 0 {
            violations.add("after_sequence", "must not be negative");
        }
        let limit = violations.check("page_size", feed_page(req.page_size));
        let seller_id = if req.seller_id.is_empty() {
            Some(None)
        } else {
            violations
                .check("seller_id", validate::external_id(&req.seller_id))
                .map(Some)
        };
        let (limit, seller_id) = violations.finish(|| (limit.unwrap(), seller_id.unwrap()))?;
        let actions =
            store::enforcement_actions(self.db(), req.after_sequence, seller_id.as_deref(), limit)
                .await?;
        Ok(ListEnforcementActionsResponse {
            actions: actions.iter().map(convert::enforcement_action).collect(),
        })
    }

    /// A seller as callers see it: its strikes and standing, its identifiers, its cases.
    async fn seller_standing(&self, seller_id: &str) -> ApiResult<Seller> {
        let now = time::now();
        let ids = [seller_id.to_owned()];
        let strikes = store::strikes_of(self.db(), &ids).await?;
        let times: Vec<_> = strikes
            .iter()
            .map(|s| (s.strike_time, s.withdraw_time))
            .collect();
        let policy = &self.inner.config.repeat_infringer;
        let active = policy.active(&times, now);
        let identifiers = store::identifiers_of(self.db(), &ids).await?;
        Ok(Seller {
            seller_id: seller_id.to_owned(),
            strikes: strikes
                .iter()
                .map(|s| Strike {
                    case_id: s.case_id.to_string(),
                    strike_time: Some(time::to_timestamp(s.strike_time)),
                    withdraw_time: time::opt_timestamp(s.withdraw_time),
                })
                .collect(),
            active_strikes: active as i32,
            repeat_infringer: policy.is_repeat_infringer(active),
            identifiers: identifiers
                .into_iter()
                .map(|i| SellerIdentifier {
                    kind: IdentifierKind::from_str_name(&i.kind).unwrap_or_default() as i32,
                    value: i.value,
                })
                .collect(),
            case_count: store::case_count_of_seller(self.db(), seller_id).await? as i32,
            enforcement: store::enforcement_of(self.db(), seller_id).await?.level as i32,
        })
    }

    pub(super) async fn get_seller(&self, req: GetSellerRequest) -> ApiResult<Seller> {
        let seller_id =
            validate::external_id(&req.seller_id).map_err(|e| ApiError::invalid("seller_id", e))?;
        self.seller_standing(&seller_id).await
    }

    pub(super) async fn record_seller_identifiers(
        &self,
        req: RecordSellerIdentifiersRequest,
    ) -> ApiResult<Seller> {
        let mut violations = FieldViolations::new();
        let seller_id = violations.check("seller_id", validate::external_id(&req.seller_id));
        let identifiers = validate::each(
            &mut violations,
            "identifiers",
            &req.identifiers,
            1..=50,
            |i| {
                let kind = validate::required_enum::<IdentifierKind>(i.kind)
                    .map_err(|e| format!("kind {e}"))?;
                let value = domain::normalize_identifier(kind, &i.value)
                    .map_err(|e| format!("value {e}"))?;
                Ok((kind.as_str_name().to_owned(), value))
            },
        );
        let seller_id = violations.require(seller_id)?;
        let identifiers: Vec<_> = identifiers
            .into_iter()
            .map(|identifier| (seller_id.clone(), identifier))
            .collect();
        let txn = self.db().begin().await?;
        store::record_identifiers(&txn, &identifiers, time::now()).await?;
        self.links_changed(&txn, [seller_id.clone()]).await?;
        txn.commit().await?;
        self.inner.relay.wake();
        self.seller_standing(&seller_id).await
    }

    pub(super) async fn get_seller_cluster(
        &self,
        req: GetSellerClusterRequest,
    ) -> ApiResult<GetSellerClusterResponse> {
        let seller_id =
            validate::external_id(&req.seller_id).map_err(|e| ApiError::invalid("seller_id", e))?;
        let Cluster {
            members,
            mut shared,
            mut confirmed,
            truncated,
        } = store::cluster_of(self.db(), seller_id).await?;
        let link_decisions = store::link_decisions_of(self.db(), &members).await?;
        let now = time::now();
        let strikes = store::strikes_by_seller(self.db(), &members).await?;
        let policy = &self.inner.config.repeat_infringer;
        let sellers: Vec<ClusterMember> = members
            .into_iter()
            .map(|member| {
                let active =
                    policy.active(strikes.get(&member).map_or(&[][..], Vec::as_slice), now);
                ClusterMember {
                    shared_identifiers: shared
                        .remove(&member)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(kind, value)| SellerIdentifier {
                            kind: IdentifierKind::from_str_name(&kind).unwrap_or_default() as i32,
                            value,
                        })
                        .collect(),
                    confirmed_links: confirmed
                        .remove(&member)
                        .unwrap_or_default()
                        .into_iter()
                        .collect(),
                    seller_id: member,
                    active_strikes: active as i32,
                    repeat_infringer: policy.is_repeat_infringer(active),
                }
            })
            .collect();
        Ok(GetSellerClusterResponse {
            contains_repeat_infringer: sellers.iter().any(|s| s.repeat_infringer),
            sellers,
            truncated,
            link_decisions: link_decisions.iter().map(convert::seller_link).collect(),
        })
    }

    pub(super) async fn decide_seller_link(
        &self,
        principal: &Principal,
        req: DecideSellerLinkRequest,
    ) -> ApiResult<DecideSellerLinkResponse> {
        let mut violations = FieldViolations::new();
        let seller_id = violations.check("seller_id", validate::external_id(&req.seller_id));
        let linked = violations.check(
            "linked_seller_id",
            validate::external_id(&req.linked_seller_id),
        );
        if let (Some(a), Some(b)) = (&seller_id, &linked)
            && a == b
        {
            violations.add("linked_seller_id", "must be another seller than seller_id");
        }
        let decision = violations.check(
            "decision",
            validate::required_enum::<LinkDecision>(req.decision),
        );
        let note = violations.check("note", validate::text(&req.note, MAX_LINK_NOTE));
        let (seller_id, linked, decision, note) = violations.finish(|| {
            (
                seller_id.unwrap(),
                linked.unwrap(),
                decision.unwrap(),
                note.unwrap(),
            )
        })?;
        let (seller_id, linked_seller_id) = domain::cluster::link_pair(&seller_id, &linked);
        let txn = self.db().begin().await?;
        let link = store::decide_link(
            &txn,
            crate::entity::seller_link::Model {
                seller_id,
                linked_seller_id,
                decision: decision.as_str_name().to_owned(),
                note,
                decided_by: principal.actor(),
                decide_time: time::now(),
            },
        )
        .await?;
        self.links_changed(
            &txn,
            [link.seller_id.clone(), link.linked_seller_id.clone()],
        )
        .await?;
        txn.commit().await?;
        tracing::info!(
            seller_id = link.seller_id,
            linked_seller_id = link.linked_seller_id,
            decision = link.decision,
            "seller link decided"
        );
        self.inner.relay.wake();
        Ok(DecideSellerLinkResponse {
            link: Some(convert::seller_link(&link)),
        })
    }
}

/// The longest note on a link decision.
const MAX_LINK_NOTE: usize = 2000;

/// What bringing a seller's level in line did.
struct Enforced {
    /// Whether its level changed (an action was recorded).
    changed: bool,
    /// Its cluster, where the policy suspends linked sellers (it was searched for that).
    cluster: Option<Cluster>,
}
