use assay_common::ids::CaseId;
use sea_orm::entity::prelude::*;

/// A case; its listings, brands, tags, events and evidence are in their own tables.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CaseId,
    pub source: String,
    pub status: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    /// For notices: the member who filed it.
    pub member_id: String,
    pub ip_right_id: String,
    pub hit_id: String,
    /// What made it, for exactly-once intake (e.g. `screening.hit/<hit id>`).
    #[sea_orm(unique)]
    pub source_key: Option<String>,
    pub risk_score: f64,
    pub assignee: String,
    pub fast_track: bool,
    pub due_time: Option<DateTimeUtc>,
    pub merged_into: String,
    #[sea_orm(column_type = "Text")]
    pub resolution_note: String,
    /// `UPHELD`, `REJECTED` or `OVERTURNED` once decided (domain::Decision).
    pub decision: String,
    pub decision_time: Option<DateTimeUtc>,
    /// The encoded `CounterNotice`, once filed.
    pub counter_notice: Option<Vec<u8>>,
    pub counter_notice_time: Option<DateTimeUtc>,
    pub version: i64,
    pub create_time: DateTimeUtc,
    /// The W3C `traceparent` of the request that opened it ("" for none).
    #[sea_orm(column_type = "Text")]
    pub trace_context: String,
    pub update_time: DateTimeUtc,
    /// When it was first found past its deadline undecided, and escalated.
    pub sla_breach_time: Option<DateTimeUtc>,
    /// The grounds its notice gave (`domain::reasons::encode`; "" for none).
    #[sea_orm(column_type = "Text")]
    pub reason_codes: String,
    /// The grounds its takedown upheld ("" for none, or not taken down).
    #[sea_orm(column_type = "Text")]
    pub decision_reason_codes: String,
    /// Taken down by the rights holder itself (trusted self-service removal).
    pub self_service: bool,
    /// The summary in other languages, `{"zh-Hans": "..."}` (`domain::say::summary`);
    /// `None` for a summary in English only.
    #[sea_orm(column_type = "Text", nullable)]
    pub summary_translations: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
