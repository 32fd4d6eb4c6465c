//! Storage of risk matrices (versioned, approved by signature) and the risk register. The trait
//! and the backend-independent rows; the queries are in `queries/risk.rs`.
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use shared::auth::UserId;
use shared::org::{ProcessId, RecordMeta};
use shared::register::{
    Basis, Control, Heatmap, MatrixId, MatrixInput, MatrixRevision, MatrixRevisionId, Rating, RevisionStatus, Risk,
    RiskId, RiskInput, RiskPage, RiskSort, RiskStatus, RiskSummary, WorkItem, reference,
};
use shared::risk::{MatrixDefinition, Zone};

use super::{AuditContext, Change, StoreResult};

/// What to list from the register (every field narrows the list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskFilter {
    /// Text in the title, description or category (case-insensitive).
    pub text: Option<String>,
    /// Only this status.
    pub status: Option<RiskStatus>,
    /// Closed risks too (otherwise only when `status` is `closed`).
    pub include_closed: bool,
    /// Only this owner's.
    pub owner_id: Option<i64>,
    /// Only this process's.
    pub process_id: Option<i64>,
    /// Which rating `zone`, `likelihood` and `severity` look at.
    pub basis: Basis,
    /// Only this zone.
    pub zone: Option<Zone>,
    /// Only risks whose review date has passed.
    pub overdue: bool,
    /// Only risks scored on this matrix revision.
    pub matrix_revision_id: Option<i64>,
    /// Only this likelihood level.
    pub likelihood: Option<i64>,
    /// Only this severity level.
    pub severity: Option<i64>,
    /// Order.
    pub sort: RiskSort,
    /// Reverse the order.
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
    /// Where the page starts (keyset paging, which stays fast however deep the page); when set,
    /// `offset` is not used.
    pub at: Option<PageAt>,
}

/// Why a new matrix revision was not started.
#[derive(Debug)]
pub enum NewRevision {
    /// Started: the new draft.
    Started(MatrixRevision),
    /// The matrix already has a draft; edit that one (HTTP 409).
    DraftExists(MatrixRevision),
    /// No such matrix.
    NotFound,
}

/// The risk register's queries.
#[async_trait]
pub trait RiskStore: Send + Sync + 'static {
    /// Every revision of every matrix, by matrix then newest revision first.
    async fn list_matrix_revisions(&self) -> StoreResult<Vec<MatrixRevision>>;
    /// One revision.
    async fn get_matrix_revision(&self, id: MatrixRevisionId) -> StoreResult<Option<MatrixRevision>>;
    /// Creates a matrix with its first (draft) revision.
    async fn create_matrix(&self, ctx: &AuditContext, input: &MatrixInput) -> StoreResult<MatrixRevision>;
    /// Starts the next revision of a matrix as a draft.
    async fn create_matrix_revision(
        &self,
        ctx: &AuditContext,
        matrix: MatrixId,
        input: &MatrixInput,
    ) -> StoreResult<NewRevision>;
    /// Edits a draft revision if it is still at `version` (approved revisions are frozen: 409).
    async fn update_matrix_revision(
        &self,
        ctx: &AuditContext,
        id: MatrixRevisionId,
        version: i64,
        input: &MatrixInput,
    ) -> StoreResult<Change<MatrixRevision>>;

    /// One page of the register.
    async fn list_risks(&self, filter: &RiskFilter, today: NaiveDate) -> StoreResult<RiskPage>;
    /// The ids of every risk matching the filter, in the filter's order (paging ignored): what
    /// the CSV export then reads in chunks ([`RiskStore::export_risks`]).
    async fn risk_ids(&self, filter: &RiskFilter) -> StoreResult<Vec<i64>>;
    /// The risks `ids`, whole (evidence labelled), in that order; an id no longer found is left
    /// out.
    async fn export_risks(&self, ids: &[i64]) -> StoreResult<Vec<Risk>>;
    /// The heatmap of a matrix revision over the risks matching `filter` (its cell filters are
    /// ignored); closed risks are never counted.
    async fn risk_heatmap(&self, revision: MatrixRevisionId, filter: &RiskFilter) -> StoreResult<Option<Heatmap>>;
    /// One risk.
    async fn get_risk(&self, id: RiskId) -> StoreResult<Option<Risk>>;
    /// Creates a risk from validated, normalised input.
    async fn create_risk(&self, ctx: &AuditContext, input: &RiskInput) -> StoreResult<Risk>;
    /// Updates a risk if it is still at `version`.
    async fn update_risk(
        &self,
        ctx: &AuditContext,
        id: RiskId,
        version: i64,
        input: &RiskInput,
    ) -> StoreResult<Change<Risk>>;
    /// Reviews due by `horizon` of the risks `user` owns (everyone's when none).
    async fn work_items(
        &self,
        user: Option<UserId>,
        today: NaiveDate,
        horizon: NaiveDate,
    ) -> StoreResult<Vec<WorkItem>>;
}

#[derive(sqlx::FromRow)]
pub(super) struct RevisionRow {
    pub revision_id: i64,
    pub matrix_id: i64,
    pub revision: i64,
    pub definition: String,
    pub change_note: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub newest_approved: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    pub retired_reason: Option<String>,
}

impl RevisionRow {
    pub(super) fn into_revision(self) -> Result<MatrixRevision, String> {
        let definition: MatrixDefinition = serde_json::from_str(&self.definition)
            .map_err(|e| format!("risk matrix revision {}: unreadable definition: {e}", self.revision_id))?;
        let status = match (self.approved_at, self.newest_approved) {
            (None, _) => RevisionStatus::Draft,
            (Some(_), Some(n)) if n == self.revision => RevisionStatus::Effective,
            (Some(_), _) => RevisionStatus::Superseded,
        };
        Ok(MatrixRevision {
            id: MatrixRevisionId(self.revision_id),
            matrix_id: MatrixId(self.matrix_id),
            revision: self.revision,
            definition,
            change_note: self.change_note,
            status,
            approved_by: self.approved_by,
            approved_at: self.approved_at,
            meta: RecordMeta {
                version: self.version,
                created_at: self.created_at,
                updated_at: self.updated_at,
                retired_at: self.retired_at,
                retired_reason: self.retired_reason,
            },
        })
    }
}

/// An approval signature of a revision's current version (a later edit would supersede it, but
/// approved revisions take no edits).
const APPROVED: &str = "from signatures s where s.record_type = 'risk_matrix_revision' and s.meaning = 'approved' \
     and s.record_id = mr.revision_id and s.record_version = mr.version";

pub(super) fn revision_select() -> String {
    format!(
        "select mr.revision_id, mr.matrix_id, mr.revision, mr.definition, mr.change_note, \
         (select s.signer_name {APPROVED} order by s.signature_id limit 1) as approved_by, \
         (select s.signed_at {APPROVED} order by s.signature_id limit 1) as approved_at, \
         (select max(o.revision) from risk_matrix_revisions o where o.matrix_id = mr.matrix_id and exists \
            (select 1 from signatures s where s.record_type = 'risk_matrix_revision' and s.meaning = 'approved' \
             and s.record_id = o.revision_id and s.record_version = o.version)) as newest_approved, \
         mr.version, mr.created_at, mr.updated_at, mr.retired_at, mr.retired_reason \
         from risk_matrix_revisions mr"
    )
}

/// The stored name of a zone.
pub(super) fn zone_text(z: Zone) -> &'static str {
    match z {
        Zone::Acceptable => "acceptable",
        Zone::ReduceAsFarAsPossible => "reduce_as_far_as_possible",
        Zone::Unacceptable => "unacceptable",
    }
}

fn parse_zone(s: &str) -> Zone {
    match s {
        "acceptable" => Zone::Acceptable,
        "reduce_as_far_as_possible" => Zone::ReduceAsFarAsPossible,
        _ => Zone::Unacceptable,
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RiskRow {
    pub risk_id: i64,
    pub title: String,
    pub description: String,
    pub category: String,
    pub process_id: i64,
    pub process_name: String,
    pub owner_id: i64,
    pub owner_name: String,
    pub status: String,
    pub review_date: NaiveDate,
    pub matrix_id: i64,
    pub matrix_revision_id: i64,
    pub matrix_revision: i64,
    pub inherent_likelihood: i64,
    pub inherent_severity: i64,
    pub inherent_score: i64,
    pub inherent_zone: String,
    pub residual_likelihood: i64,
    pub residual_severity: i64,
    pub residual_score: i64,
    pub residual_zone: String,
    pub controls: String,
    pub acceptance_rationale: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    pub retired_reason: Option<String>,
}

fn rating(l: i64, s: i64, score: i64, zone: &str) -> Rating {
    Rating {
        likelihood: u8::try_from(l).unwrap_or_default(),
        severity: u8::try_from(s).unwrap_or_default(),
        score: u16::try_from(score).unwrap_or_default(),
        zone: parse_zone(zone),
    }
}

impl RiskRow {
    pub(super) fn into_risk(self) -> Risk {
        let id = RiskId(self.risk_id);
        Risk {
            id,
            reference: reference(id),
            title: self.title,
            description: self.description,
            category: self.category,
            process_id: ProcessId(self.process_id),
            process_name: self.process_name,
            owner_id: UserId(self.owner_id),
            owner_name: self.owner_name,
            status: RiskStatus::parse(&self.status).unwrap_or_default(),
            review_date: self.review_date,
            matrix_id: MatrixId(self.matrix_id),
            matrix_revision_id: MatrixRevisionId(self.matrix_revision_id),
            matrix_revision: self.matrix_revision,
            inherent: rating(
                self.inherent_likelihood,
                self.inherent_severity,
                self.inherent_score,
                &self.inherent_zone,
            ),
            residual: rating(
                self.residual_likelihood,
                self.residual_severity,
                self.residual_score,
                &self.residual_zone,
            ),
            controls: serde_json::from_str::<Vec<Control>>(&self.controls).unwrap_or_default(),
            acceptance_rationale: self.acceptance_rationale,
            meta: RecordMeta {
                version: self.version,
                created_at: self.created_at,
                updated_at: self.updated_at,
                retired_at: self.retired_at,
                retired_reason: self.retired_reason,
            },
        }
    }

    pub(super) fn into_summary(self, today: NaiveDate) -> RiskSummary {
        let version = self.version;
        let risk = self.into_risk();
        RiskSummary {
            overdue: risk.review_date < today && risk.status != RiskStatus::Closed,
            id: risk.id,
            reference: risk.reference,
            title: risk.title,
            category: risk.category,
            process_id: risk.process_id,
            process_name: risk.process_name,
            owner_id: risk.owner_id,
            owner_name: risk.owner_name,
            status: risk.status,
            review_date: risk.review_date,
            matrix_revision_id: risk.matrix_revision_id,
            inherent: risk.inherent,
            residual: risk.residual,
            version,
        }
    }
}

/// The columns a [`RiskRow`] reads.
pub(super) const RISK_COLUMNS: &str = "r.risk_id, r.title, r.description, r.category, r.process_id, \
     p.name as process_name, r.owner_id, u.full_name as owner_name, r.status, r.review_date, mr.matrix_id, \
     r.matrix_revision_id, mr.revision as matrix_revision, r.inherent_likelihood, r.inherent_severity, \
     r.inherent_score, r.inherent_zone, r.residual_likelihood, r.residual_severity, r.residual_score, \
     r.residual_zone, r.controls, r.acceptance_rationale, r.version, r.created_at, r.updated_at, r.retired_at, \
     r.retired_reason";

/// The tables a [`RiskRow`] is read from.
pub(super) const RISK_FROM: &str = "from risks r join processes p on p.process_id = r.process_id \
     join users u on u.user_id = r.owner_id \
     join risk_matrix_revisions mr on mr.revision_id = r.matrix_revision_id";

/// A bound value of a filter.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    Text(String),
    Int(i64),
    Date(NaiveDate),
}

/// A `where` clause with its arguments, numbered `$1…` in order. Only the filters in use are
/// in the SQL, so each query can use the indexes that fit it.
#[derive(Debug, Default)]
pub(super) struct Where {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Where {
    /// Adds `clause`, whose `?` is the next argument.
    pub(super) fn and(&mut self, clause: &str, arg: Option<Arg>) {
        let clause = match arg {
            Some(a) => {
                self.args.push(a);
                clause.replace('?', &format!("${}", self.args.len()))
            }
            None => clause.to_string(),
        };
        self.sql.push_str(if self.sql.is_empty() { "" } else { " and " });
        self.sql.push_str(&clause);
    }

    /// The next placeholder after the arguments (for `limit` and `offset`).
    pub(super) fn next(&self, k: usize) -> String {
        format!("${}", self.args.len() + k)
    }
}

/// The register's filter over `risks r` (with `cells`, the zone and cell filters too); the
/// basis picks the columns (an enum, never user text).
pub(super) fn filter_where(f: &RiskFilter, cells: bool, today: NaiveDate) -> Where {
    let b = f.basis.as_str();
    let mut w = Where::default();
    w.and("r.retired_at is null", None);
    if let Some(id) = f.matrix_revision_id {
        w.and("r.matrix_revision_id = ?", Some(Arg::Int(id)));
    }
    if let Some(p) = f.pattern() {
        // `search_text`: title, description and category, lowercased, kept by the database.
        w.and("r.search_text like ? escape '\\'", Some(Arg::Text(p)));
    }
    if let Some(s) = f.status {
        w.and("r.status = ?", Some(Arg::Text(s.as_str().into())));
    } else if !f.include_closed {
        w.and("r.status <> 'closed'", None);
    }
    if let Some(o) = f.owner_id {
        w.and("r.owner_id = ?", Some(Arg::Int(o)));
    }
    if let Some(p) = f.process_id {
        w.and("r.process_id = ?", Some(Arg::Int(p)));
    }
    if f.overdue {
        w.and("r.review_date < ?", Some(Arg::Date(today)));
    }
    if cells {
        if let Some(z) = f.zone {
            w.and(&format!("r.{b}_zone = ?"), Some(Arg::Text(zone_text(z).into())));
        }
        if let Some(l) = f.likelihood {
            w.and(&format!("r.{b}_likelihood = ?"), Some(Arg::Int(l)));
        }
        if let Some(s) = f.severity {
            w.and(&format!("r.{b}_severity = ?"), Some(Arg::Int(s)));
        }
    }
    w
}

impl RiskFilter {
    /// The `like` pattern of the text filter, with `%`, `_` and `\` taken literally.
    pub(super) fn pattern(&self) -> Option<String> {
        self.text.as_ref().filter(|t| !t.trim().is_empty()).map(|t| {
            let escaped: String = t
                .trim()
                .to_lowercase()
                .chars()
                .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
                .collect();
            format!("%{escaped}%")
        })
    }

    /// `order by` for the sort (a whitelist; never user text).
    pub(super) fn order_sql(&self) -> String {
        let (column, desc) = self.sort_key();
        let dir = if desc { "desc" } else { "asc" };
        if column == "r.risk_id" {
            format!("order by r.risk_id {dir}")
        } else {
            format!("order by {column} {dir}, r.risk_id {dir}")
        }
    }
}

/// Where a keyset page starts: after or before a row, named by a cursor from a page the same
/// filters and sort returned ([`shared::register::RiskPage::next_after`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    /// The page after this row.
    After(String),
    /// The page before this row.
    Before(String),
}

impl RiskFilter {
    /// The sort's key expression and whether it runs descending. Ties are broken by the risk's
    /// id in the same direction, so that `(key, id)` orders the rows totally and a cursor is
    /// one row value compare (index-friendly on both databases).
    pub(super) fn sort_key(&self) -> (&'static str, bool) {
        // Each sort's natural direction: highest scores and latest dates need attention first.
        let (column, natural_desc) = match self.sort {
            RiskSort::Reference => ("r.risk_id", false),
            RiskSort::Title => ("lower(r.title)", false),
            RiskSort::ResidualScore => ("r.residual_score", true),
            RiskSort::InherentScore => ("r.inherent_score", true),
            RiskSort::ReviewDate => ("r.review_date", false),
            RiskSort::Status => ("r.status", false),
            RiskSort::Owner => ("lower(u.full_name)", false),
        };
        (column, natural_desc != self.descending)
    }

    /// The cursor's position as bound values: the sort key (typed as the column is) and the id;
    /// `None` when the cursor is not one of this sort's.
    pub(super) fn cursor_args(&self, cursor: &str) -> Option<(Option<Arg>, i64)> {
        let (id, key) = match cursor.split_once('.') {
            Some((id, key)) => (id.parse().ok()?, Some(key)),
            None => (cursor.parse().ok()?, None),
        };
        let key = match (self.sort, key) {
            (RiskSort::Reference, None) => None,
            (RiskSort::Reference, Some(_)) | (_, None) => return None,
            (RiskSort::ResidualScore | RiskSort::InherentScore, Some(k)) => Some(Arg::Int(k.parse().ok()?)),
            (RiskSort::ReviewDate, Some(k)) => Some(Arg::Date(k.parse().ok()?)),
            (RiskSort::Title | RiskSort::Status | RiskSort::Owner, Some(k)) => Some(Arg::Text(k.to_string())),
        };
        Some((key, id))
    }

    /// A row's cursor, from its id and its sort key as text (`None` for the reference sort).
    pub(super) fn cursor_of(id: i64, key: Option<&str>) -> String {
        match key {
            Some(k) => format!("{id}.{k}"),
            None => id.to_string(),
        }
    }
}

/// Binds a [`Where`]'s arguments to a query, in order.
macro_rules! bind_filter {
    ($query:expr, $w:expr) => {{
        let mut q = $query;
        for a in &$w.args {
            q = match a {
                $crate::storage::risk::Arg::Text(t) => q.bind(t.clone()),
                $crate::storage::risk::Arg::Int(i) => q.bind(*i),
                $crate::storage::risk::Arg::Date(d) => q.bind(*d),
            };
        }
        q
    }};
}
pub(super) use bind_filter;

/// Binds a risk's stored columns (title … acceptance rationale, then the time of the change), in
/// the order the insert and the update name them.
macro_rules! bind_risk {
    ($q:expr, $input:expr, $revision:expr, $inherent:expr, $residual:expr, $controls:expr) => {
        $q.bind(&$input.title)
            .bind(&$input.description)
            .bind(&$input.category)
            .bind($input.process_id.map(|p| p.0))
            .bind($input.owner_id.map(|u| u.0))
            .bind($input.status.as_str())
            .bind($input.review_date)
            .bind($revision.id.0)
            .bind(i64::from($inherent.likelihood))
            .bind(i64::from($inherent.severity))
            .bind(i64::from($inherent.score))
            .bind($crate::storage::risk::zone_text($inherent.zone))
            .bind(i64::from($residual.likelihood))
            .bind(i64::from($residual.severity))
            .bind(i64::from($residual.score))
            .bind($crate::storage::risk::zone_text($residual.zone))
            .bind(&$controls)
            .bind(&$input.acceptance_rationale)
            .bind(chrono::Utc::now())
    };
}
pub(super) use bind_risk;
