//! Exemptions from training requirements, compiled once per backend (see [`crate::storage`]):
//! granted by a quality manager (the person's open assignments of it cancelled in the same
//! transaction), revoked with a reason or ended by the minute clock when their last day passes
//! (the person assigned again, cause `exemption_ended`, in the same transaction). While one is
//! active, [`super::assignment::assign_missing`] never assigns the requirement to the person.

use chrono::{DateTime, NaiveDate, Utc};
use shared::audit::{AuditAction, diff};
use shared::auth::UserId;
use shared::org::RecordMeta;
use shared::training::{AssignmentCause, Exemption, ExemptionId, ExemptionInput, RequirementId};
use shared::validation::{NOT_FOUND, RETIRED};

use super::assignment::{Scope, assign_missing, cancel};
use super::base::{append_audit, is_unique_violation};
use super::{Conn, SqlStore, WriteTx};
use crate::storage::common::{Audited, Draft, field_error};
use crate::storage::{AuditContext, StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct ExemptionRow {
    exemption_id: i64,
    user_id: i64,
    user_name: String,
    requirement_id: i64,
    requirement_title: String,
    reason: String,
    until: Option<NaiveDate>,
    granted_by_name: String,
    revoked_at: Option<DateTime<Utc>>,
    revoked_reason: Option<String>,
    ended_at: Option<DateTime<Utc>>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const EXEMPTION_SELECT: &str = "select e.exemption_id, e.user_id, u.full_name as user_name, e.requirement_id, \
     q.title as requirement_title, e.reason, e.until, e.granted_by_name, e.revoked_at, e.revoked_reason, e.ended_at, \
     e.version, e.created_at, e.updated_at from training_exemptions e join users u on u.user_id = e.user_id \
     join training_requirements q on q.requirement_id = e.requirement_id";

impl From<ExemptionRow> for Exemption {
    fn from(r: ExemptionRow) -> Self {
        Exemption {
            id: ExemptionId(r.exemption_id),
            user_id: UserId(r.user_id),
            user_name: r.user_name,
            requirement_id: RequirementId(r.requirement_id),
            requirement_title: r.requirement_title,
            reason: r.reason,
            until: r.until,
            granted_by_name: r.granted_by_name,
            granted_at: r.created_at,
            revoked_at: r.revoked_at,
            revoked_reason: r.revoked_reason.clone(),
            meta: RecordMeta {
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
                // Out of force: revoked, or ended by the clock.
                retired_at: r.revoked_at.or(r.ended_at),
                retired_reason: r.revoked_reason.or_else(|| r.ended_at.map(|_| "Its last day passed".to_string())),
            },
        }
    }
}

async fn exemption_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<Exemption>> {
    let sql = format!("{EXEMPTION_SELECT} where e.exemption_id = $1");
    let row: Option<ExemptionRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    Ok(row.map(Into::into))
}

/// Marks an exemption ended (its last day passed), audited.
async fn mark_ended(tx: &mut WriteTx, ctx: &AuditContext, id: i64, until: Option<NaiveDate>) -> StoreResult<()> {
    let now = Utc::now();
    let (version,): (i64,) = sqlx::query_as(
        "update training_exemptions set ended_at = $2, version = version + 1, updated_at = $2 \
         where exemption_id = $1 returning version",
    )
    .bind(id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let reason = format!("Exemption ended: its last day ({}) passed", until.map(|d| d.to_string()).unwrap_or_default());
    let draft = Draft {
        action: AuditAction::Update,
        record_type: "training_exemption",
        record_id: id,
        record_version: version,
        changes: diff(&serde_json::json!({ "ended_at": null }), &serde_json::json!({ "ended_at": now })),
        reason: Some(&reason),
    };
    append_audit(tx, ctx, draft).await
}

/// The minute clock's part: every exemption whose last day is before `today` ends, and its person
/// is assigned the requirement again when their curricula still hold it and they are not current
/// (cause `exemption_ended`). Returns how many were assigned.
pub(super) async fn end_exemptions(tx: &mut WriteTx, ctx: &AuditContext, today: NaiveDate) -> StoreResult<usize> {
    let ending: Vec<(i64, i64, i64, Option<NaiveDate>)> = sqlx::query_as(
        "select exemption_id, user_id, requirement_id, until from training_exemptions \
         where revoked_at is null and ended_at is null and until < $1 order by exemption_id",
    )
    .bind(today)
    .fetch_all(&mut **tx)
    .await?;
    let mut made = 0;
    for (id, user, requirement, until) in ending {
        mark_ended(tx, ctx, id, until).await?;
        let detail = format!("Exemption ended: its last day was {}", until.map(|d| d.to_string()).unwrap_or_default());
        made +=
            assign_missing(tx, ctx, Scope::Pair(user, requirement), AssignmentCause::ExemptionEnded, &detail, today)
                .await?;
    }
    Ok(made)
}

/// Whether the clock has exemptions to end on `today` (read before taking the writer's turn).
pub(super) async fn exemptions_ending(conn: &mut Conn, today: NaiveDate) -> StoreResult<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "select exemption_id from training_exemptions where revoked_at is null and ended_at is null \
         and until < $1 limit 1",
    )
    .bind(today)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

impl SqlStore {
    pub(super) async fn exemptions(
        &self,
        user: Option<UserId>,
        requirement: Option<RequirementId>,
        active: Option<bool>,
        today: NaiveDate,
    ) -> StoreResult<Vec<Exemption>> {
        let sql = format!(
            "{EXEMPTION_SELECT} where ($1 is null or e.user_id = $1) and ($2 is null or e.requirement_id = $2) \
             order by e.exemption_id desc"
        );
        let rows: Vec<ExemptionRow> =
            sqlx::query_as(&sql).bind(user.map(|u| u.0)).bind(requirement.map(|r| r.0)).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(Exemption::from)
            .filter(|e| active.is_none_or(|a| a == (e.meta.retired_at.is_none() && e.is_active(today))))
            .collect())
    }

    pub(super) async fn grant_exemption(
        &self,
        ctx: &AuditContext,
        input: &ExemptionInput,
        today: NaiveDate,
    ) -> StoreResult<Exemption> {
        input.validate(Some(today)).map_err(StoreError::Invalid)?;
        let mut tx = self.write_tx().await?;
        let person: Option<(Option<DateTime<Utc>>,)> =
            sqlx::query_as("select retired_at from users where user_id = $1")
                .bind(input.user_id.0)
                .fetch_optional(&mut *tx)
                .await?;
        match person {
            None => return Err(field_error("user_id", NOT_FOUND)),
            Some((Some(_),)) => return Err(field_error("user_id", RETIRED)),
            Some((None,)) => {}
        }
        let requirement: Option<(Option<DateTime<Utc>>,)> =
            sqlx::query_as("select retired_at from training_requirements where requirement_id = $1")
                .bind(input.requirement_id.0)
                .fetch_optional(&mut *tx)
                .await?;
        match requirement {
            None => return Err(field_error("requirement_id", NOT_FOUND)),
            Some((Some(_),)) => return Err(field_error("requirement_id", RETIRED)),
            Some((None,)) => {}
        }
        let current: Option<(i64, Option<NaiveDate>)> = sqlx::query_as(
            "select exemption_id, until from training_exemptions where user_id = $1 and requirement_id = $2 \
             and revoked_at is null and ended_at is null",
        )
        .bind(input.user_id.0)
        .bind(input.requirement_id.0)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id, until)) = current {
            if shared::training::exemption_active(false, until, today) {
                return Err(StoreError::Conflict(
                    "This person is already exempted from this requirement; revoke that exemption first.".into(),
                ));
            }
            // Its last day passed and the clock has not ended it yet: it ends now, and the new
            // one takes its place (nobody is assigned in between).
            mark_ended(&mut tx, ctx, id, until).await?;
        }
        let now = Utc::now();
        let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
            "insert into training_exemptions (user_id, requirement_id, reason, until, granted_by, granted_by_name, \
             created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $7) returning exemption_id",
        )
        .bind(input.user_id.0)
        .bind(input.requirement_id.0)
        .bind(&input.reason)
        .bind(input.until)
        .bind(ctx.actor_id)
        .bind(&ctx.actor_name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let (id,) = inserted.map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("This person was exempted from this requirement meanwhile.".into())
            } else {
                StoreError::Database(e)
            }
        })?;
        let exemption =
            exemption_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("training_exemption", id))?;
        let audited = Audited {
            action: AuditAction::Create,
            record_id: id,
            before: None,
            after: &exemption,
            version: 1,
            reason: Some(&input.reason),
        };
        append_audit(&mut tx, ctx, audited).await?;
        let open: Vec<(i64,)> = sqlx::query_as(
            "select assignment_id from training_assignments where user_id = $1 and requirement_id = $2 \
             and state = 'open'",
        )
        .bind(input.user_id.0)
        .bind(input.requirement_id.0)
        .fetch_all(&mut *tx)
        .await?;
        let why = format!("Exempted: {}", input.reason);
        for (assignment,) in open {
            cancel(&mut tx, ctx, assignment, &why).await?;
        }
        tx.commit().await?;
        Ok(exemption)
    }

    pub(super) async fn revoke(
        &self,
        ctx: &AuditContext,
        id: ExemptionId,
        reason: &str,
        today: NaiveDate,
    ) -> StoreResult<Exemption> {
        let reason = reason.trim();
        let mut tx = self.write_tx().await?;
        let before =
            exemption_by_id(&mut tx, id.0).await?.ok_or_else(|| StoreError::NotFound("No such exemption.".into()))?;
        if before.meta.retired_at.is_some() {
            return Err(StoreError::Retired(
                "This exemption is no longer in force (revoked, or its last day passed); nothing was changed.".into(),
            ));
        }
        let now = Utc::now();
        let done = sqlx::query(
            "update training_exemptions set revoked_at = $2, revoked_reason = $3, version = version + 1, \
             updated_at = $2 where exemption_id = $1 and revoked_at is null and ended_at is null",
        )
        .bind(id.0)
        .bind(now)
        .bind(reason)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done != 1 {
            return Err(StoreError::Conflict("This exemption changed meanwhile; nothing was changed.".into()));
        }
        let after =
            exemption_by_id(&mut tx, id.0).await?.ok_or_else(|| StoreError::unreadable("training_exemption", id.0))?;
        let audited = Audited {
            action: AuditAction::Update,
            record_id: id.0,
            before: Some(&before),
            after: &after,
            version: after.meta.version,
            reason: Some(reason),
        };
        append_audit(&mut tx, ctx, audited).await?;
        let detail = format!("Exemption revoked: {reason}");
        let pair = Scope::Pair(after.user_id.0, after.requirement_id.0);
        assign_missing(&mut tx, ctx, pair, AssignmentCause::ExemptionEnded, &detail, today).await?;
        tx.commit().await?;
        Ok(after)
    }
}
