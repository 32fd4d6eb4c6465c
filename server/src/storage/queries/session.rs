//! Classroom sessions with attendance lists, compiled once per backend (see [`crate::storage`]):
//! a qualified trainer records a session of a classroom requirement, and in the same transaction
//! each attendee's open assignment is completed with a training record (the trainer, completed on
//! the day it was held), all or nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use shared::FieldErrors;
use shared::audit::AuditAction;
use shared::auth::UserId;
use shared::org::RecordMeta;
use shared::training::{
    AssignmentId, Attendee, ClassSession, ClassSessionId, ClassSessionInput, Requirement, RequirementId,
    RequirementKind,
};
use shared::validation::{INVALID, NOT_FOUND, RETIRED};

use super::assignment::{REQUIREMENT_SELECT, RequirementRow, complete, not_a_trainer, qualified_trainer};
use super::base::append_audit;
use super::{Conn, SqlStore};
use crate::storage::common::{Audited, field_error};
use crate::storage::{AuditContext, StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: i64,
    requirement_id: i64,
    requirement_title: String,
    held_on: NaiveDate,
    trainer_id: i64,
    trainer_name: String,
    notes: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const SESSION_SELECT: &str = "select s.session_id, s.requirement_id, q.title as requirement_title, s.held_on, \
     s.trainer_id, u.full_name as trainer_name, s.notes, s.version, s.created_at, s.updated_at \
     from class_sessions s join training_requirements q on q.requirement_id = s.requirement_id \
     join users u on u.user_id = s.trainer_id";

/// Sessions (by `where`, binding `$1`) with their attendance lists, newest first.
async fn sessions_where(conn: &mut Conn, filter: &str, bind: Option<i64>) -> StoreResult<Vec<ClassSession>> {
    let sql = format!("{SESSION_SELECT} where {filter} order by s.held_on desc, s.session_id desc");
    let rows: Vec<SessionRow> = sqlx::query_as(&sql).bind(bind).fetch_all(&mut *conn).await?;
    let sql = format!(
        "select a.session_id, a.user_id, u.full_name, a.assignment_id from class_session_attendees a \
         join users u on u.user_id = a.user_id join class_sessions s on s.session_id = a.session_id \
         join training_requirements q on q.requirement_id = s.requirement_id \
         where {filter} order by lower(u.full_name), a.user_id"
    );
    let attendees: Vec<(i64, i64, String, i64)> = sqlx::query_as(&sql).bind(bind).fetch_all(&mut *conn).await?;
    let mut by_session: BTreeMap<i64, Vec<Attendee>> = BTreeMap::new();
    for (session, user, name, assignment) in attendees {
        by_session.entry(session).or_default().push(Attendee {
            user_id: UserId(user),
            user_name: name,
            assignment_id: AssignmentId(assignment),
        });
    }
    Ok(rows
        .into_iter()
        .map(|r| ClassSession {
            id: ClassSessionId(r.session_id),
            requirement_id: RequirementId(r.requirement_id),
            requirement_title: r.requirement_title,
            held_on: r.held_on,
            trainer_id: UserId(r.trainer_id),
            trainer_name: r.trainer_name,
            notes: r.notes,
            attendees: by_session.remove(&r.session_id).unwrap_or_default(),
            meta: RecordMeta {
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
                retired_at: None,
                retired_reason: None,
            },
        })
        .collect())
}

impl SqlStore {
    pub(super) async fn sessions(&self, requirement: Option<RequirementId>) -> StoreResult<Vec<ClassSession>> {
        let mut conn = self.pool.acquire().await?;
        sessions_where(&mut conn, "($1 is null or s.requirement_id = $1)", requirement.map(|r| r.0)).await
    }

    pub(super) async fn session(&self, id: ClassSessionId) -> StoreResult<Option<ClassSession>> {
        let mut conn = self.pool.acquire().await?;
        Ok(sessions_where(&mut conn, "s.session_id = $1", Some(id.0)).await?.pop())
    }

    pub(super) async fn record_session(
        &self,
        ctx: &AuditContext,
        trainer: UserId,
        input: &ClassSessionInput,
        today: NaiveDate,
    ) -> StoreResult<ClassSession> {
        input.validate(Some(today)).map_err(StoreError::Invalid)?;
        let mut tx = self.write_tx().await?;
        let sql = format!("{REQUIREMENT_SELECT} where q.requirement_id = $1");
        let row: Option<RequirementRow> =
            sqlx::query_as(&sql).bind(input.requirement_id.0).fetch_optional(&mut *tx).await?;
        let q = row.map(Requirement::try_from).transpose()?.ok_or_else(|| field_error("requirement_id", NOT_FOUND))?;
        if q.meta.retired_at.is_some() {
            return Err(field_error("requirement_id", RETIRED));
        }
        if q.kind != RequirementKind::Classroom {
            let mut e = FieldErrors::new();
            e.add("requirement_id", INVALID);
            return Err(StoreError::Refused(
                format!("\"{}\" is not a classroom session; its assignments are completed otherwise.", q.title),
                e,
            ));
        }
        if let Some(i) = input.attendee_ids.iter().position(|a| *a == trainer) {
            let mut e = FieldErrors::new();
            e.add(format!("attendee_ids[{i}]"), INVALID);
            return Err(StoreError::Refused(
                "You are on the attendance list: nobody signs off their own training; nothing was recorded.".into(),
                e,
            ));
        }
        if !qualified_trainer(&mut tx, trainer.0, q.id.0, today).await? {
            return Err(not_a_trainer());
        }
        // Every attendee must have an open assignment of it, assigned by the day it was held.
        let mut e = FieldErrors::new();
        let mut problems = Vec::new();
        let mut open = Vec::with_capacity(input.attendee_ids.len());
        for (i, who) in input.attendee_ids.iter().enumerate() {
            let name: Option<(String,)> = sqlx::query_as("select full_name from users where user_id = $1")
                .bind(who.0)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((name,)) = name else {
                e.add(format!("attendee_ids[{i}]"), NOT_FOUND);
                problems.push(format!("there is no person {}", who.0));
                continue;
            };
            let a: Option<(i64, i64, NaiveDate)> = sqlx::query_as(
                "select assignment_id, version, assigned_on from training_assignments \
                 where user_id = $1 and requirement_id = $2 and state = 'open'",
            )
            .bind(who.0)
            .bind(q.id.0)
            .fetch_optional(&mut *tx)
            .await?;
            match a {
                None => {
                    e.add(format!("attendee_ids[{i}]"), NOT_FOUND);
                    problems.push(format!("{name} has no open assignment of \"{}\"", q.title));
                }
                Some((_, _, assigned_on)) if input.held_on < assigned_on => {
                    e.add("held_on", INVALID);
                    problems.push(format!("{name} was assigned it on {assigned_on}, after the session"));
                }
                Some((id, version, _)) => open.push((*who, id, version)),
            }
        }
        if !e.is_empty() {
            return Err(StoreError::Refused(format!("Nothing was recorded: {}.", problems.join("; ")), e));
        }
        let now = Utc::now();
        let (id,): (i64,) = sqlx::query_as(
            "insert into class_sessions (requirement_id, held_on, trainer_id, notes, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $5) returning session_id",
        )
        .bind(q.id.0)
        .bind(input.held_on)
        .bind(trainer.0)
        .bind(&input.notes)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let completed_at = input.held_on.and_time(NaiveTime::MIN).and_utc();
        for (who, assignment, version) in &open {
            sqlx::query("insert into class_session_attendees (session_id, user_id, assignment_id) values ($1, $2, $3)")
                .bind(id)
                .bind(who.0)
                .bind(assignment)
                .execute(&mut *tx)
                .await?;
            complete(&mut tx, ctx, *assignment, *version, None, Some(trainer.0), completed_at).await?;
        }
        let session = sessions_where(&mut tx, "s.session_id = $1", Some(id))
            .await?
            .pop()
            .ok_or_else(|| StoreError::unreadable("training_session", id))?;
        let audited = Audited {
            action: AuditAction::Create,
            record_id: id,
            before: None,
            after: &session,
            version: 1,
            reason: Some("Classroom session recorded: its attendance list completes each attendee's assignment"),
        };
        append_audit(&mut tx, ctx, audited).await?;
        tx.commit().await?;
        Ok(session)
    }
}
