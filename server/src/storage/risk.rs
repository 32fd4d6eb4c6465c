//! Storage of risk matrices (versioned, approved by signature) and the risk register. The SQL is
//! written once in [`risk_store!`] and instantiated for both backends beside the others.

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
    /// Every risk matching the filter, whole (for the CSV export), in the filter's order.
    async fn export_risks(&self, filter: &RiskFilter) -> StoreResult<Vec<Risk>>;
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
    /// What is waiting for `user` by `horizon`: reviews of the risks they own.
    async fn work_items(&self, user: UserId, today: NaiveDate, horizon: NaiveDate) -> StoreResult<Vec<WorkItem>>;
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

pub(super) const RISK_SELECT: &str = "select r.risk_id, r.title, r.description, r.category, r.process_id, \
     p.name as process_name, r.owner_id, u.full_name as owner_name, r.status, r.review_date, mr.matrix_id, \
     r.matrix_revision_id, mr.revision as matrix_revision, r.inherent_likelihood, r.inherent_severity, \
     r.inherent_score, r.inherent_zone, r.residual_likelihood, r.residual_severity, r.residual_score, \
     r.residual_zone, r.controls, r.acceptance_rationale, r.version, r.created_at, r.updated_at, r.retired_at, \
     r.retired_reason from risks r join processes p on p.process_id = r.process_id \
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
    fn and(&mut self, clause: &str, arg: Option<Arg>) {
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
        let desc = natural_desc != self.descending;
        format!("order by {column} {}, r.risk_id", if desc { "desc" } else { "asc" })
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

macro_rules! risk_store {
    ($store:ident) => {
        use shared::register::{
            Heatmap as RHeatmap, MatrixId as RMatrixId, MatrixInput as RMatrixInput, MatrixRevision as RMatrixRevision,
            MatrixRevisionId as RMatrixRevisionId, RevisionCount, RevisionStatus as RRevisionStatus, Risk as RRisk,
            RiskId as RRiskId, RiskInput as RRiskInput, RiskPage as RRiskPage, RiskStatus as RRiskStatus,
            WorkItem as RWorkItem, EvidenceType, acceptance_problem, REVISION_NOT_EFFECTIVE,
        };
        use $crate::storage::risk::{
            NewRevision, RISK_SELECT, RevisionRow, RiskFilter, RiskRow, RiskStore, bind_filter, bind_risk, filter_where,
            revision_select,
        };

        fn decode(e: String) -> StoreError {
            StoreError::Database(sqlx::Error::Decode(e.into()))
        }

        async fn matrix_revision_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<RMatrixRevision>> {
            let sql = format!("{} where mr.revision_id = $1", revision_select());
            let row: Option<RevisionRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
            row.map(RevisionRow::into_revision).transpose().map_err(decode)
        }

        /// A risk as stored, with its evidence labelled with the records' names as they are now.
        async fn risk_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<RRisk>> {
            let sql = format!("{RISK_SELECT} where r.risk_id = $1");
            let row: Option<RiskRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
            let Some(mut risk) = row.map(RiskRow::into_risk) else { return Ok(None) };
            for control in &mut risk.controls {
                for e in &mut control.evidence {
                    e.label = evidence_label(&mut *conn, e.record_type, e.record_id).await?;
                }
            }
            Ok(Some(risk))
        }

        /// What an evidence reference is called now: the process's name, or "PF-001 row 12:
        /// failure mode".
        async fn evidence_label(conn: &mut Conn, kind: EvidenceType, id: i64) -> StoreResult<String> {
            Ok(match kind {
                EvidenceType::Process => {
                    let name: Option<(String,)> = sqlx::query_as("select name from processes where process_id = $1")
                        .bind(id)
                        .fetch_optional(conn)
                        .await?;
                    name.map(|(n,)| n).unwrap_or_else(|| format!("process {id}"))
                }
                EvidenceType::FmeaRow => {
                    let row: Option<(String, i64, String)> = sqlx::query_as(
                        "select f.fmea_number, r.position, r.failure_mode from fmea_rows r join fmeas f on f.fmea_id = r.fmea_id \
                         where r.row_id = $1",
                    )
                    .bind(id)
                    .fetch_optional(conn)
                    .await?;
                    row.map(|(f, p, m)| format!("{f} row {p}: {m}")).unwrap_or_else(|| format!("FMEA row {id}"))
                }
            })
        }

        /// Keeps the evidence index in step with a risk's controls.
        async fn sync_evidence(conn: &mut Conn, risk: i64, input: &RRiskInput) -> StoreResult<()> {
            sqlx::query("delete from risk_evidence where risk_id = $1").bind(risk).execute(&mut *conn).await?;
            let mut seen = std::collections::BTreeSet::new();
            for e in input.controls.iter().flat_map(|c| c.evidence.iter()) {
                let kind = match e.record_type {
                    EvidenceType::Process => "process",
                    EvidenceType::FmeaRow => "fmea_row",
                };
                if seen.insert((kind, e.record_id)) {
                    sqlx::query("insert into risk_evidence (risk_id, record_type, record_id) values ($1, $2, $3)")
                        .bind(risk)
                        .bind(kind)
                        .bind(e.record_id)
                        .execute(&mut *conn)
                        .await?;
                }
            }
            Ok(())
        }

        /// The JSON a signature of a matrix revision binds: the revision without the status
        /// fields derived from its signatures.
        fn revision_json(r: &RMatrixRevision) -> serde_json::Value {
            let mut json = serde_json::to_value(r).unwrap_or_default();
            if let Some(o) = json.as_object_mut() {
                for derived in ["status", "approved_by", "approved_at"] {
                    o.remove(derived);
                }
            }
            json
        }

        /// Checks what a risk refers to (process, owner, matrix revision, evidence), inside the
        /// write's transaction; returns the scoring revision's definition. The revision must
        /// be the effective one unless the risk keeps the revision it already had.
        async fn check_risk_references(
            conn: &mut Conn,
            input: &RRiskInput,
            before: Option<&RRisk>,
        ) -> StoreResult<RMatrixRevision> {
            let process = input.process_id.ok_or_else(|| field_error("process_id", shared::validation::REQUIRED))?;
            if before.is_none_or(|b| b.process_id != process) {
                active_reference(&mut *conn, PROCESSES, "process_id", process.0).await?;
            }
            let owner = input.owner_id.ok_or_else(|| field_error("owner_id", shared::validation::REQUIRED))?;
            active_reference(&mut *conn, USERS, "owner_id", owner.0).await?;
            let revision_id =
                input.matrix_revision_id.ok_or_else(|| field_error("matrix_revision_id", shared::validation::REQUIRED))?;
            let revision = matrix_revision_by_id(&mut *conn, revision_id.0)
                .await?
                .ok_or_else(|| field_error("matrix_revision_id", shared::validation::NOT_FOUND))?;
            let kept = before.is_some_and(|b| b.matrix_revision_id == revision_id);
            if !kept && revision.status != RRevisionStatus::Effective {
                return Err(field_error("matrix_revision_id", REVISION_NOT_EFFECTIVE));
            }
            for (i, control) in input.controls.iter().enumerate() {
                for e in &control.evidence {
                    let had = before.is_some_and(|b| {
                        b.controls.iter().any(|c| c.evidence.iter().any(|x| x.record_type == e.record_type && x.record_id == e.record_id))
                    });
                    let field = format!("controls[{i}].evidence");
                    let sql = match e.record_type {
                        EvidenceType::Process => "select retired_at from processes where process_id = $1",
                        EvidenceType::FmeaRow => "select retired_at from fmea_rows where row_id = $1",
                    };
                    let found: Option<(Option<TDateTime<TUtc>>,)> =
                        sqlx::query_as(sql).bind(e.record_id).fetch_optional(&mut *conn).await?;
                    match found {
                        None => return Err(field_error(&field, shared::validation::NOT_FOUND)),
                        Some((Some(_),)) if !had => return Err(field_error(&field, shared::validation::RETIRED)),
                        Some(_) => {}
                    }
                }
            }
            Ok(revision)
        }

        /// Accepts a risk's residual risk as part of signing it: the status becomes `accepted`
        /// and the rationale is saved, in the signature's transaction; returns the new version
        /// and its JSON, which the signature then binds.
        async fn accept_risk(
            conn: &mut Conn,
            ctx: &AuditContext,
            id: i64,
            version: i64,
            rationale: &str,
        ) -> StoreResult<(i64, serde_json::Value)> {
            let before = risk_by_id(&mut *conn, id).await?.ok_or(sqlx::Error::RowNotFound)?;
            let rationale = rationale.trim();
            let revision = matrix_revision_by_id(&mut *conn, before.matrix_revision_id.0).await?.ok_or(sqlx::Error::RowNotFound)?;
            acceptance_problem(before.status, revision.status, before.residual.zone, rationale).map_err(StoreError::Invalid)?;
            let done = sqlx::query(
                "update risks set status = 'accepted', acceptance_rationale = $3, version = version + 1, updated_at = $4 \
                 where risk_id = $1 and version = $2 and retired_at is null",
            )
            .bind(id)
            .bind(version)
            .bind(rationale)
            .bind(TUtc::now())
            .execute(&mut *conn)
            .await?
            .rows_affected() == 1;
            if !done {
                return Err(StoreError::InUse("This risk changed while it was being accepted; nothing was signed.".into()));
            }
            let after = risk_by_id(&mut *conn, id).await?.ok_or(sqlx::Error::RowNotFound)?;
            let audited = Audited {
                action: AuditAction::Update,
                record_id: id,
                before: Some(&before),
                after: &after,
                version: after.meta.version,
                reason: Some("Residual risk accepted by signature"),
            };
            append_audit(&mut *conn, ctx, audited).await?;
            Ok((after.meta.version, serde_json::to_value(&after).unwrap_or_default()))
        }

        async fn insert_revision(
            conn: &mut Conn,
            ctx: &AuditContext,
            matrix: i64,
            revision: i64,
            input: &RMatrixInput,
        ) -> StoreResult<RMatrixRevision> {
            let now = TUtc::now();
            let definition = serde_json::to_string(&input.definition).unwrap_or_default();
            let (id,): (i64,) = sqlx::query_as(
                "insert into risk_matrix_revisions (matrix_id, revision, definition, change_note, version, created_at, updated_at) \
                 values ($1, $2, $3, $4, 1, $5, $5) returning revision_id",
            )
            .bind(matrix)
            .bind(revision)
            .bind(&definition)
            .bind(&input.change_note)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            let saved = matrix_revision_by_id(&mut *conn, id).await?.ok_or(sqlx::Error::RowNotFound)?;
            let audited = Audited { action: AuditAction::Create, record_id: id, before: None, after: &saved, version: 1, reason: Some(input.change_note.as_str()) };
            append_audit(&mut *conn, ctx, audited).await?;
            Ok(saved)
        }

        /// The ratings on the scoring revision (a field error when off it) and the controls as stored.
        fn risk_columns(input: &RRiskInput, revision: &RMatrixRevision) -> StoreResult<(
            shared::register::Rating,
            shared::register::Rating,
            String,
        )> {
            let (inherent, residual) = input.ratings(&revision.definition).ok_or_else(|| {
                let mut e = shared::FieldErrors::new();
                revision.definition.check_cell(&mut e, "inherent_likelihood", "inherent_severity", input.inherent_likelihood.unwrap_or(0), input.inherent_severity.unwrap_or(0));
                revision.definition.check_cell(&mut e, "residual_likelihood", "residual_severity", input.residual_likelihood.unwrap_or(0), input.residual_severity.unwrap_or(0));
                StoreError::Invalid(e)
            })?;
            let controls = serde_json::to_string(&input.controls).unwrap_or_else(|_| "[]".into());
            Ok((inherent, residual, controls))
        }

        #[async_trait]
        impl RiskStore for $store {
            async fn list_matrix_revisions(&self) -> StoreResult<Vec<RMatrixRevision>> {
                let sql = format!("{} order by mr.matrix_id, mr.revision desc", revision_select());
                let rows: Vec<RevisionRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
                rows.into_iter().map(|r| r.into_revision().map_err(decode)).collect()
            }

            async fn get_matrix_revision(&self, id: RMatrixRevisionId) -> StoreResult<Option<RMatrixRevision>> {
                let mut conn = self.pool.acquire().await?;
                matrix_revision_by_id(&mut conn, id.0).await
            }

            async fn create_matrix(&self, ctx: &AuditContext, input: &RMatrixInput) -> StoreResult<RMatrixRevision> {
                let (_turn, mut tx) = self.write_tx().await?;
                let (matrix,): (i64,) = sqlx::query_as("insert into risk_matrices (created_at) values ($1) returning matrix_id")
                    .bind(TUtc::now())
                    .fetch_one(&mut *tx)
                    .await?;
                let saved = insert_revision(&mut tx, ctx, matrix, 1, input).await?;
                tx.commit().await?;
                Ok(saved)
            }

            async fn create_matrix_revision(&self, ctx: &AuditContext, matrix: RMatrixId, input: &RMatrixInput) -> StoreResult<NewRevision> {
                let (_turn, mut tx) = self.write_tx().await?;
                let sql = format!("{} where mr.matrix_id = $1 order by mr.revision desc limit 1", revision_select());
                let latest: Option<RevisionRow> = sqlx::query_as(&sql).bind(matrix.0).fetch_optional(&mut *tx).await?;
                let Some(latest) = latest.map(RevisionRow::into_revision).transpose().map_err(decode)? else {
                    return Ok(NewRevision::NotFound);
                };
                if latest.status == RRevisionStatus::Draft {
                    return Ok(NewRevision::DraftExists(latest));
                }
                let saved = insert_revision(&mut tx, ctx, matrix.0, latest.revision + 1, input).await?;
                tx.commit().await?;
                Ok(NewRevision::Started(saved))
            }

            async fn update_matrix_revision(&self, ctx: &AuditContext, id: RMatrixRevisionId, version: i64, input: &RMatrixInput) -> StoreResult<Change<RMatrixRevision>> {
                let (_turn, mut tx) = self.write_tx().await?;
                let before = matrix_revision_by_id(&mut tx, id.0).await?;
                if let Some(b) = &before && b.status != RRevisionStatus::Draft {
                    return Err(StoreError::InUse(format!(
                        "Revision {} is approved and frozen; start a new revision to change the matrix.", b.revision
                    )));
                }
                let done = sqlx::query(
                    "update risk_matrix_revisions set definition = $3, change_note = $4, version = version + 1, updated_at = $5 \
                     where revision_id = $1 and version = $2 and retired_at is null",
                )
                .bind(id.0)
                .bind(version)
                .bind(serde_json::to_string(&input.definition).unwrap_or_default())
                .bind(&input.change_note)
                .bind(TUtc::now())
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
                let after = matrix_revision_by_id(&mut tx, id.0).await?;
                let change = finish(&mut tx, ctx, Written { action: AuditAction::Update, record_id: id.0, reason: Some(input.change_note.as_str()), expected_version: version, done, before, after }).await?;
                tx.commit().await?;
                Ok(change)
            }

            async fn list_risks(&self, f: &RiskFilter, today: chrono::NaiveDate) -> StoreResult<RRiskPage> {
                let w = filter_where(f, true, today);
                let sql = format!("{RISK_SELECT} where {} {} limit {} offset {}", w.sql, f.order_sql(), w.next(1), w.next(2));
                let rows: Vec<RiskRow> = bind_filter!(sqlx::query_as(&sql), w)
                    .bind(f.limit)
                    .bind(f.offset)
                    .fetch_all(&self.pool)
                    .await?;
                let count = format!("select count(*) from risks r where {}", w.sql);
                let (total,): (i64,) = bind_filter!(sqlx::query_as(&count), w).fetch_one(&self.pool).await?;
                Ok(RRiskPage { items: rows.into_iter().map(|r| r.into_summary(today)).collect(), total })
            }

            async fn export_risks(&self, f: &RiskFilter) -> StoreResult<Vec<RRisk>> {
                let today = TUtc::now().date_naive();
                let w = filter_where(f, true, today);
                let sql = format!("{RISK_SELECT} where {} {}", w.sql, f.order_sql());
                let rows: Vec<RiskRow> = bind_filter!(sqlx::query_as(&sql), w).fetch_all(&self.pool).await?;
                let mut risks: Vec<RRisk> = rows.into_iter().map(RiskRow::into_risk).collect();
                // Evidence names: processes read once; FMEA rows one by one (few are cited).
                let names: Vec<(i64, String)> = sqlx::query_as("select process_id, name from processes").fetch_all(&self.pool).await?;
                let names: std::collections::HashMap<i64, String> = names.into_iter().collect();
                let mut conn = self.pool.acquire().await?;
                for risk in &mut risks {
                    for c in &mut risk.controls {
                        for e in &mut c.evidence {
                            e.label = match e.record_type {
                                EvidenceType::Process => names.get(&e.record_id).cloned().unwrap_or_default(),
                                EvidenceType::FmeaRow => evidence_label(&mut conn, e.record_type, e.record_id).await?,
                            };
                        }
                    }
                }
                Ok(risks)
            }

            async fn risk_heatmap(&self, revision: RMatrixRevisionId, f: &RiskFilter) -> StoreResult<Option<RHeatmap>> {
                let mut conn = self.pool.acquire().await?;
                let Some(rev) = matrix_revision_by_id(&mut conn, revision.0).await? else { return Ok(None) };
                let f = RiskFilter { matrix_revision_id: Some(revision.0), include_closed: false, status: f.status.filter(|s| *s != RRiskStatus::Closed), ..f.clone() };
                let w = filter_where(&f, false, TUtc::now().date_naive());
                let sql = format!(
                    "select r.inherent_likelihood, r.inherent_severity, r.residual_likelihood, r.residual_severity, count(*) \
                     from risks r where {} group by r.inherent_likelihood, r.inherent_severity, r.residual_likelihood, r.residual_severity",
                    w.sql
                );
                let groups: Vec<(i64, i64, i64, i64, i64)> = bind_filter!(sqlx::query_as(&sql), w).fetch_all(&mut *conn).await?;
                let level = |v: i64| u8::try_from(v).unwrap_or_default();
                let groups: Vec<(u8, u8, u8, u8, i64)> =
                    groups.into_iter().map(|(a, b, c, d, n)| (level(a), level(b), level(c), level(d), n)).collect();
                // Per other revision of the matrix (a handful), an indexed count.
                let others: Vec<(i64, i64, i64)> = sqlx::query_as(
                    "select mr.revision_id, mr.revision, (select count(*) from risks r where r.matrix_revision_id = mr.revision_id \
                     and r.status <> 'closed' and r.retired_at is null) from risk_matrix_revisions mr \
                     where mr.matrix_id = $1 and mr.revision_id <> $2 order by mr.revision",
                )
                .bind(rev.matrix_id.0)
                .bind(revision.0)
                .fetch_all(&mut *conn)
                .await?;
                let others = others
                    .into_iter()
                    .filter(|(_, _, count)| *count > 0)
                    .map(|(id, revision, count)| RevisionCount { revision_id: RMatrixRevisionId(id), revision, count })
                    .collect();
                Ok(Some(RHeatmap::build(rev, &groups, others)))
            }

            async fn get_risk(&self, id: RRiskId) -> StoreResult<Option<RRisk>> {
                let mut conn = self.pool.acquire().await?;
                risk_by_id(&mut conn, id.0).await
            }

            async fn create_risk(&self, ctx: &AuditContext, input: &RRiskInput) -> StoreResult<RRisk> {
                let (_turn, mut tx) = self.write_tx().await?;
                let revision = check_risk_references(&mut tx, input, None).await?;
                let (inherent, residual, controls) = risk_columns(input, &revision)?;
                let q = sqlx::query_as::<_, (i64,)>(
                    "insert into risks (title, description, category, process_id, owner_id, status, review_date, \
                     matrix_revision_id, inherent_likelihood, inherent_severity, inherent_score, inherent_zone, \
                     residual_likelihood, residual_severity, residual_score, residual_zone, controls, \
                     acceptance_rationale, version, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 1, $19, $19) \
                     returning risk_id",
                );
                let (id,) = bind_risk!(q, input, revision, inherent, residual, controls)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| constraint_error(e, "process_id"))?;
                sync_evidence(&mut tx, id, input).await?;
                let risk = risk_by_id(&mut tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
                let audited = Audited { action: AuditAction::Create, record_id: id, before: None, after: &risk, version: 1, reason: None };
                append_audit(&mut tx, ctx, audited).await?;
                tx.commit().await?;
                Ok(risk)
            }

            async fn update_risk(&self, ctx: &AuditContext, id: RRiskId, version: i64, input: &RRiskInput) -> StoreResult<Change<RRisk>> {
                let (_turn, mut tx) = self.write_tx().await?;
                let before = risk_by_id(&mut tx, id.0).await?;
                let Some(b) = &before else { return Ok(Change::NotFound) };
                if b.meta.version != version {
                    return Ok(Change::Stale(b.clone()));
                }
                // The status rule again, against the risk as it is inside this transaction.
                if let Some(code) = input.status_problem(Some(b)) {
                    return Err(field_error("status", code));
                }
                let revision = check_risk_references(&mut tx, input, Some(b)).await?;
                let (inherent, residual, controls) = risk_columns(input, &revision)?;
                let q = sqlx::query(
                    "update risks set title = $3, description = $4, category = $5, process_id = $6, owner_id = $7, \
                     status = $8, review_date = $9, matrix_revision_id = $10, inherent_likelihood = $11, \
                     inherent_severity = $12, inherent_score = $13, inherent_zone = $14, residual_likelihood = $15, \
                     residual_severity = $16, residual_score = $17, residual_zone = $18, controls = $19, \
                     acceptance_rationale = $20, version = version + 1, updated_at = $21 \
                     where risk_id = $1 and version = $2 and retired_at is null",
                )
                .bind(id.0)
                .bind(version);
                let done = bind_risk!(q, input, revision, inherent, residual, controls)
                .execute(&mut *tx)
                .await
                .map_err(|e| constraint_error(e, "process_id"))?
                .rows_affected() == 1;
                if done {
                    sync_evidence(&mut tx, id.0, input).await?;
                }
                let after = risk_by_id(&mut tx, id.0).await?;
                let reason = Some(input.reason.as_str()).filter(|r| !r.is_empty());
                let change = finish(&mut tx, ctx, Written { action: AuditAction::Update, record_id: id.0, reason, expected_version: version, done, before, after }).await?;
                tx.commit().await?;
                Ok(change)
            }

            async fn work_items(&self, user: UserId, today: chrono::NaiveDate, horizon: chrono::NaiveDate) -> StoreResult<Vec<RWorkItem>> {
                let rows: Vec<(i64, String, chrono::NaiveDate)> = sqlx::query_as(
                    "select risk_id, title, review_date from risks where owner_id = $1 and status <> 'closed' \
                     and retired_at is null and review_date <= $2 order by review_date, risk_id",
                )
                .bind(user.0)
                .bind(horizon)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, title, due)| RWorkItem {
                        kind: "Risk review".into(),
                        record_type: "risk".into(),
                        record_id: id,
                        reference: shared::register::reference(RRiskId(id)),
                        title,
                        due,
                        overdue: due < today,
                    })
                    .collect())
            }
        }
    };
}
pub(super) use risk_store;
