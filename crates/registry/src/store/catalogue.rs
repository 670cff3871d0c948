//! The catalogue: what is protected, derived and versioned.

use super::*;
use assay_common::notify;

/// Ids of all brands of a member (deleted ones included).
pub async fn member_brand_ids(
    db: &impl ConnectionTrait,
    member_id: &MemberId,
) -> ApiResult<Vec<BrandId>> {
    Ok(brand::Entity::find()
        .select_only()
        .column(brand::Column::Id)
        .filter(brand::Column::MemberId.eq(member_id.as_str()))
        .into_tuple::<BrandId>()
        .all(db)
        .await?)
}

/// Ids of every brand that is, or might become, protected: those with a catalogue entry or
/// a verified right.
pub async fn candidate_brand_ids(db: &impl ConnectionTrait) -> ApiResult<Vec<BrandId>> {
    let mut ids: HashSet<BrandId> = catalogue_entry::Entity::find()
        .select_only()
        .column(catalogue_entry::Column::BrandId)
        .filter(catalogue_entry::Column::Protected.eq(true))
        .into_tuple::<BrandId>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    ids.extend(
        ip_right::Entity::find()
            .select_only()
            .column(ip_right::Column::BrandId)
            .filter(ip_right::Column::Status.eq(VerificationStatus::Verified.as_str_name()))
            .distinct()
            .into_tuple::<BrandId>()
            .all(db)
            .await?,
    );
    let mut ids: Vec<BrandId> = ids.into_iter().collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Recomputes the catalogue entries of `brand_ids` as of `day`, and publishes those that
/// changed under one new revision. Returns that revision, or `None` if nothing changed.
pub async fn refresh_catalogue(
    db: &impl ConnectionTrait,
    brand_ids: &[BrandId],
    day: NaiveDate,
    now: DateTime<Utc>,
) -> ApiResult<Option<i64>> {
    // One refresh at a time, whichever replica or call: each reads the facts only once it
    // holds the revision, so none writes an entry from facts another has since changed.
    lock_revision(db).await?;
    let mut ids: Vec<&BrandId> = brand_ids.iter().collect();
    ids.sort_unstable();
    ids.dedup();
    // Brand id, and its new encoded entry and content hash (none: no longer protected).
    type Change = (BrandId, Option<(Vec<u8>, String)>);
    let mut changes: Vec<Change> = Vec::new();

    for chunk in ids.chunks(IN_CHUNK) {
        let chunk: Vec<&str> = chunk.iter().map(|s| s.as_str()).collect();
        let brands = brand::Entity::find()
            .filter(brand::Column::Id.is_in(chunk.clone()))
            .all(db)
            .await?;
        let owner_ids: Vec<&str> = brands.iter().map(|b| b.member_id.as_str()).collect();
        let owners: HashMap<MemberId, MemberStatus> = member::Entity::find()
            .filter(member::Column::Id.is_in(owner_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|m| member_status(&m.status).map(|s| (m.id, s)))
            .collect::<ApiResult<_>>()?;
        let mut rights: HashMap<BrandId, Vec<RightFacts>> = HashMap::new();
        for right in ip_right::Entity::find()
            .filter(ip_right::Column::BrandId.is_in(chunk.clone()))
            .all(db)
            .await?
        {
            rights
                .entry(right.brand_id.clone())
                .or_default()
                .push(RightFacts {
                    kind: right_kind(&right.kind)?,
                    status: right_status(&right.status)?,
                    valid_from: right.valid_from,
                    valid_until: right.valid_until,
                });
        }
        let mut agents: HashMap<BrandId, Vec<MemberId>> = HashMap::new();
        for row in delegation_brand::Entity::find()
            .filter(delegation_brand::Column::BrandId.is_in(chunk.clone()))
            .filter(live_delegation(now))
            .all(db)
            .await?
        {
            agents
                .entry(row.brand_id)
                .or_default()
                .push(row.agent_member_id);
        }
        let existing: HashMap<BrandId, catalogue_entry::Model> = catalogue_entry::Entity::find()
            .filter(catalogue_entry::Column::BrandId.is_in(chunk.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.brand_id.clone(), e))
            .collect();

        for brand in &brands {
            let spec = brand_spec(brand)?;
            let facts = BrandFacts {
                brand_id: brand.id.as_str(),
                member_id: brand.member_id.as_str(),
                owner_status: owners
                    .get(&brand.member_id)
                    .copied()
                    .unwrap_or(MemberStatus::Unspecified),
                deleted: brand.delete_time.is_some(),
                spec: &spec,
                rights: rights.get(&brand.id).map(Vec::as_slice).unwrap_or_default(),
                agent_member_ids: agents
                    .remove(&brand.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(MemberId::into_string)
                    .collect(),
            };
            let desired = derive::entry(&facts, day).map(|e| derive::encode(&e));
            let current = existing.get(&brand.id);
            let unchanged = match (&desired, current) {
                (Some((_, hash)), Some(entry)) => entry.protected && entry.content_hash == *hash,
                (None, Some(entry)) => !entry.protected,
                (None, None) => true,
                (Some(_), None) => false,
            };
            if !unchanged {
                changes.push((brand.id.clone(), desired));
            }
        }
    }
    if changes.is_empty() {
        return Ok(None);
    }

    let revision = bump_revision(db).await?;
    // Other replicas' watchers hear of it at commit.
    notify::notify(db, notify::channel::CATALOGUE, &revision.to_string()).await?;
    for (brand_id, desired) in changes {
        let (protected, body, hash) = match desired {
            Some((body, hash)) => (true, body, hash),
            None => (false, Vec::new(), String::new()),
        };
        let entry = catalogue_entry::ActiveModel {
            brand_id: Set(brand_id),
            protected: Set(protected),
            revision: Set(revision),
            content_hash: Set(hash),
            body: Set(body),
        };
        catalogue_entry::Entity::insert(entry)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(catalogue_entry::Column::BrandId)
                    .update_columns([
                        catalogue_entry::Column::Protected,
                        catalogue_entry::Column::Revision,
                        catalogue_entry::Column::ContentHash,
                        catalogue_entry::Column::Body,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await?;
    }
    Ok(Some(revision))
}

/// Locks the catalogue's revision until the transaction ends (on SQLite the one writer
/// already serialises transactions).
async fn lock_revision(db: &impl ConnectionTrait) -> ApiResult<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        catalogue_state::Entity::find_by_id(1)
            .lock_exclusive()
            .one(db)
            .await?;
    }
    Ok(())
}

async fn bump_revision(db: &impl ConnectionTrait) -> ApiResult<i64> {
    catalogue_state::Entity::update_many()
        .col_expr(
            catalogue_state::Column::Revision,
            Expr::col(catalogue_state::Column::Revision).add(1),
        )
        .filter(catalogue_state::Column::Id.eq(1))
        .exec(db)
        .await?;
    current_revision(db).await
}

pub async fn current_revision(db: &impl ConnectionTrait) -> ApiResult<i64> {
    catalogue_state::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|s| s.revision)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("catalogue_state row is missing")))
}

/// Catalogue entries changed after `revision`, oldest change first, and the revision they
/// bring a watcher to. Read in one statement, so the result is one consistent state.
pub async fn catalogue_since(
    db: &impl ConnectionTrait,
    revision: i64,
) -> ApiResult<(i64, Vec<catalogue_entry::Model>)> {
    let entries = catalogue_entry::Entity::find()
        .filter(catalogue_entry::Column::Revision.gt(revision))
        .order_by_asc(catalogue_entry::Column::Revision)
        .order_by_asc(catalogue_entry::Column::BrandId)
        .all(db)
        .await?;
    let reached = entries.last().map_or(revision, |e| e.revision);
    Ok((reached, entries))
}

/// Decodes a published entry, with its revision.
pub fn catalogue_brand(entry: &catalogue_entry::Model) -> ApiResult<CatalogueBrand> {
    let mut brand = CatalogueBrand::decode(entry.body.as_slice())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("corrupt catalogue entry: {e}")))?;
    brand.revision = entry.revision;
    Ok(brand)
}

pub async fn is_protected(db: &impl ConnectionTrait, brand_id: &BrandId) -> ApiResult<bool> {
    Ok(catalogue_entry::Entity::find_by_id(brand_id.clone())
        .one(db)
        .await?
        .is_some_and(|e| e.protected))
}

pub async fn protected_among(
    db: &impl ConnectionTrait,
    brand_ids: &[&BrandId],
) -> ApiResult<HashSet<BrandId>> {
    if brand_ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(catalogue_entry::Entity::find()
        .select_only()
        .column(catalogue_entry::Column::BrandId)
        .filter(catalogue_entry::Column::BrandId.is_in(brand_ids.iter().map(|id| id.as_str())))
        .filter(catalogue_entry::Column::Protected.eq(true))
        .into_tuple::<BrandId>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}
