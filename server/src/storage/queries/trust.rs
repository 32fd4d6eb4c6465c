//! Users, sessions, failed sign-ins and signatures: the queries of [`crate::storage::trust`],
//! compiled once per backend (see [`crate::storage`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared::audit::{AuditAction, Changes};
use shared::auth::UserId;
use shared::org::DepartmentId;

use super::assignment::{assign_person, cancel_person, check_acknowledgment, settle_acknowledgment};
use super::base::{active_reference, append_audit, finish, lock_chain, process_by_id, retire};
use super::capa::{approve_capa_plan, capa_by_id, capa_plan_json};
use super::document::{
    check_revision_signer, document_by_id, lock_revision, revision_and_document, revision_content_json, settle_revision,
};
use super::fmea::{fmea_baseline, fmea_baseline_json};
use super::risk::{accept_risk, matrix_revision_by_id, revision_json, risk_by_id};
use super::{Conn, SqlStore, WriteTx};
use crate::auth::SessionAuth;
use crate::storage::common::{Audited, DEPARTMENTS, Draft, MetaRow, Written, constraint_error};
use crate::storage::trust::{
    Credentials, SIGNED_TABLES, SignInFailure, SignOutcome, TrustStore, parse_roles, roles_text,
};
use crate::storage::{AuditContext, Change, StoreError, StoreResult};
use shared::auth::{FailedSignIn, SessionRecord, User, UserInput, UserSummary};
use shared::signature::{HASH_SCHEME, Meaning, SignInput, Signature, SignatureCheck, canonical, judge, text_hash};

#[derive(sqlx::FromRow)]
struct UserRow {
    user_id: i64,
    username: String,
    full_name: String,
    email: String,
    department_id: Option<i64>,
    roles: String,
    must_change_password: bool,
    password_changed_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
    esign_agreed_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    meta: MetaRow,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId(r.user_id),
            username: r.username,
            full_name: r.full_name,
            email: r.email,
            department_id: r.department_id.map(DepartmentId),
            roles: parse_roles(&r.roles),
            must_change_password: r.must_change_password,
            password_changed_at: r.password_changed_at,
            locked_until: r.locked_until,
            esign_agreed_at: r.esign_agreed_at,
            meta: r.meta.into(),
        }
    }
}

/// Every request's session with its user, by the SHA-256 of the cookie's secret (`$1`).
pub(super) const SESSION_BY_TOKEN: &str = "select s.session_id, s.csrf_token, s.created_at, s.last_seen_at, \
     s.expires_at, s.ended_at, u.user_id, u.username, u.full_name, u.roles, u.retired_at, u.must_change_password, \
     u.password_changed_at, u.esign_agreed_at, \
     exists (select 1 from signatures g where g.session_id = s.session_id) as signed \
     from sessions s join users u on u.user_id = s.user_id where s.token_hash = $1";

const USER_SELECT: &str = "select user_id, username, full_name, email, department_id, roles, \
     must_change_password, password_changed_at, locked_until, esign_agreed_at, version, created_at, \
     updated_at, retired_at, retired_reason from users";

pub(super) async fn user_by_id(conn: &mut Conn, id: i64) -> StoreResult<Option<User>> {
    let sql = format!("{USER_SELECT} where user_id = $1");
    let row: Option<UserRow> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    Ok(row.map(Into::into))
}

/// A record of a signable kind as JSON, with its version (the registry of signable
/// record types: each later module adds its kind here and to `shared::signature`).
pub(super) async fn record_json(
    conn: &mut Conn,
    record_type: &str,
    id: i64,
) -> StoreResult<Option<(i64, serde_json::Value)>> {
    let record = match record_type {
        "process" => process_by_id(conn, id).await?.map(|p| (p.meta.version, serde_json::to_value(&p))),
        "risk_matrix_revision" => {
            matrix_revision_by_id(conn, id).await?.map(|r| (r.meta.version, Ok(revision_json(&r))))
        }
        "risk" => risk_by_id(conn, id).await?.map(|r| (r.meta.version, serde_json::to_value(&r))),
        "fmea" => fmea_baseline_json(conn, id).await?.map(|(v, json)| (v, Ok(json))),
        "document_revision" => revision_content_json(conn, id).await?.map(|(v, json)| (v, Ok(json))),
        "capa" => capa_plan_json(conn, id).await?.map(|(v, json)| (v, Ok(json))),
        "document" => document_by_id(conn, id).await?.map(|d| (d.meta.version, serde_json::to_value(&d))),
        _ => None,
    };
    Ok(record.map(|(v, json)| (v, json.unwrap_or_default())))
}

/// A signable record's version (the one its signatures bind) and its own content as hash
/// scheme 2 hashes it ([`shared::signature::content`]); `None` when there is no such record.
pub(super) async fn signed_content(
    conn: &mut Conn,
    record_type: &str,
    id: i64,
) -> StoreResult<Option<(i64, serde_json::Value)>> {
    use shared::signature::content;
    Ok(match record_type {
        "process" => process_by_id(conn, id).await?.map(|p| (p.meta.version, content::process(&p))),
        "risk_matrix_revision" => {
            matrix_revision_by_id(conn, id).await?.map(|r| (r.meta.version, content::risk_matrix_revision(&r)))
        }
        "risk" => risk_by_id(conn, id).await?.map(|r| (r.meta.version, content::risk(&r))),
        "fmea" => fmea_baseline(conn, id).await?.map(|(f, rows)| (f.content_version, content::fmea(&f, &rows))),
        "document_revision" => {
            revision_and_document(conn, id).await?.map(|(r, d)| (r.content_version, content::document_revision(&r, &d)))
        }
        "capa" => capa_by_id(conn, id).await?.map(|c| (c.plan_version, content::capa_plan(&c))),
        "document" => document_by_id(conn, id).await?.map(|d| (d.meta.version, content::document(&d))),
        _ => None,
    })
}

/// Records that `signer` accepted the electronic-signature agreement (11.10(j), 11.100(c)), at
/// their first signature; nothing when they already had.
pub(super) async fn record_agreement(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    signer: UserId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let accepted: Option<(i64,)> = sqlx::query_as(
        "update users set esign_agreed_at = $2 where user_id = $1 and esign_agreed_at is null returning \
                version",
    )
    .bind(signer.0)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((user_version,)) = accepted {
        let changes =
            one_change("esign_agreed_at", serde_json::Value::Null, serde_json::to_value(now).unwrap_or_default());
        append_audit(
            tx,
            ctx,
            user_event(
                AuditAction::AcceptAgreement,
                signer.0,
                user_version,
                changes,
                Some(shared::signature::AGREEMENT),
            ),
        )
        .await?;
    }
    Ok(())
}

/// An audit draft about a user (sign-in events, agreement, password changes).
pub(super) fn user_event<'a>(
    action: AuditAction,
    user_id: i64,
    version: i64,
    changes: Changes,
    reason: Option<&'a str>,
) -> Draft<'a> {
    Draft { action, record_type: "user", record_id: user_id, record_version: version, changes, reason }
}

pub(super) fn one_change(field: &str, old: serde_json::Value, new: serde_json::Value) -> Changes {
    let mut c = Changes::new();
    c.insert(field.to_string(), shared::audit::FieldChange { old, new });
    c
}

/// A user's department, when given, must exist and be active.
pub(super) async fn check_user_department(conn: &mut Conn, department: Option<DepartmentId>) -> StoreResult<()> {
    let Some(d) = department else { return Ok(()) };
    active_reference(conn, DEPARTMENTS, "department_id", d.0).await.map(drop)
}

/// Ends every live session of a user, e.g. when deactivated or when the password is reset.
pub(super) async fn end_user_sessions(conn: &mut Conn, user: i64, reason: &str) -> StoreResult<()> {
    sqlx::query("update sessions set ended_at = $2, ended_reason = $3 where user_id = $1 and ended_at is null")
        .bind(user)
        .bind(Utc::now())
        .bind(reason)
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl TrustStore for SqlStore {
    async fn list_users(&self, include_retired: bool) -> StoreResult<Vec<User>> {
        let sql = format!("{USER_SELECT} where ($1 or retired_at is null) order by username");
        let rows: Vec<UserRow> = sqlx::query_as(&sql).bind(include_retired).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn user_directory(&self) -> StoreResult<Vec<UserSummary>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "select user_id, username, full_name, roles from users where retired_at is null \
             order by lower(full_name), user_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, username, full_name, roles)| UserSummary {
                id: UserId(id),
                username,
                full_name,
                roles: parse_roles(&roles),
            })
            .collect())
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let mut conn = self.pool.acquire().await?;
        user_by_id(&mut conn, id.0).await
    }

    async fn create_user(
        &self,
        ctx: &AuditContext,
        input: &UserInput,
        password_hash: &str,
        must_change_password: bool,
    ) -> StoreResult<User> {
        let mut tx = self.write_tx().await?;
        check_user_department(&mut tx, input.department_id).await?;
        let now = Utc::now();
        let (id,): (i64,) = sqlx::query_as(
            "insert into users (username, full_name, email, department_id, roles, password_hash, \
             must_change_password, password_changed_at, version, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, 1, $8, $8) returning user_id",
        )
        .bind(&input.username)
        .bind(&input.full_name)
        .bind(&input.email)
        .bind(input.department_id.map(|d| d.0))
        .bind(roles_text(&input.roles))
        .bind(password_hash)
        .bind(must_change_password)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| constraint_error(e, "department_id"))?;
        let user = user_by_id(&mut tx, id).await?.ok_or_else(|| StoreError::unreadable("user", id))?;
        let audited = Audited {
            action: AuditAction::Create,
            record_id: id,
            before: None,
            after: &user,
            version: 1,
            reason: None,
        };
        append_audit(&mut tx, ctx, audited).await?;
        // A new person is assigned their curricula's training in the same transaction.
        assign_person(&mut tx, ctx, id).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn update_user(
        &self,
        ctx: &AuditContext,
        id: UserId,
        version: i64,
        input: &UserInput,
    ) -> StoreResult<Change<User>> {
        let mut tx = self.write_tx().await?;
        if !input.roles.contains(&shared::auth::Role::Admin) {
            keep_an_administrator(&mut tx, id.0).await?;
        }
        check_user_department(&mut tx, input.department_id).await?;
        let before = user_by_id(&mut tx, id.0).await?;
        if let Some(b) = &before
            && b.username != input.username
        {
            let mut e = shared::FieldErrors::new();
            e.add("username", shared::auth::IMMUTABLE);
            return Err(StoreError::Invalid(e));
        }
        let done = sqlx::query(
            "update users set full_name = $3, email = $4, department_id = $5, roles = $6, \
             version = version + 1, updated_at = $7 \
             where user_id = $1 and version = $2 and retired_at is null",
        )
        .bind(id.0)
        .bind(version)
        .bind(&input.full_name)
        .bind(&input.email)
        .bind(input.department_id.map(|d| d.0))
        .bind(roles_text(&input.roles))
        .bind(Utc::now())
        .execute(&mut *tx)
        .await
        .map_err(|e| constraint_error(e, "department_id"))?
        .rows_affected()
            == 1;
        let after = user_by_id(&mut tx, id.0).await?;
        let change = finish(
            &mut tx,
            ctx,
            Written {
                action: AuditAction::Update,
                record_id: id.0,
                reason: None,
                expected_version: version,
                done,
                before,
                after,
            },
        )
        .await?;
        // A new role or department brings its curricula's training, in the same transaction.
        if done {
            assign_person(&mut tx, ctx, id.0).await?;
        }
        tx.commit().await?;
        Ok(change)
    }

    async fn deactivate_user(
        &self,
        ctx: &AuditContext,
        id: UserId,
        version: i64,
        reason: &str,
    ) -> StoreResult<Change<User>> {
        let mut tx = self.write_tx().await?;
        keep_an_administrator(&mut tx, id.0).await?;
        let before = user_by_id(&mut tx, id.0).await?;
        let done = retire(&mut tx, "users", "user_id", id.0, version, reason).await?;
        if done {
            end_user_sessions(&mut tx, id.0, "user deactivated").await?;
            cancel_person(&mut tx, ctx, id.0).await?;
        }
        let after = user_by_id(&mut tx, id.0).await?;
        let change = finish(
            &mut tx,
            ctx,
            Written {
                action: AuditAction::Retire,
                record_id: id.0,
                reason: Some(reason),
                expected_version: version,
                done,
                before,
                after,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(change)
    }

    async fn set_password(
        &self,
        ctx: &AuditContext,
        id: UserId,
        password_hash: &str,
        must_change_password: bool,
        action: AuditAction,
    ) -> StoreResult<Option<User>> {
        let mut tx = self.write_tx().await?;
        let Some(before) = user_by_id(&mut tx, id.0).await? else { return Ok(None) };
        sqlx::query(
            "update users set password_hash = $2, must_change_password = $3, password_changed_at = $4, \
             failed_sign_ins = 0, locked_until = null, version = version + 1, updated_at = $4 \
             where user_id = $1",
        )
        .bind(id.0)
        .bind(password_hash)
        .bind(must_change_password)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        if action == AuditAction::ResetPassword {
            // Whoever held the old password is signed out everywhere.
            end_user_sessions(&mut tx, id.0, "password reset").await?;
        } else if action == AuditAction::ChangePassword {
            // The person's other sessions end (one left signed in on another machine, or one
            // someone took over with the old password); the one they changed it in goes on.
            let kept = ctx.source.session_id.parse::<i64>().unwrap_or(0);
            sqlx::query(
                "update sessions set ended_at = $2, ended_reason = $3 \
                 where user_id = $1 and ended_at is null and session_id <> $4",
            )
            .bind(id.0)
            .bind(Utc::now())
            .bind("password changed in another session")
            .bind(kept)
            .execute(&mut *tx)
            .await?;
        }
        let after = user_by_id(&mut tx, id.0).await?.ok_or_else(|| StoreError::unreadable("user", id.0))?;
        // The hash itself never enters the trail; the flags and times that changed do.
        let audited = Audited {
            action,
            record_id: id.0,
            before: Some(&before),
            after: &after,
            version: after.meta.version,
            reason: None,
        };
        append_audit(&mut tx, ctx, audited).await?;
        tx.commit().await?;
        Ok(Some(after))
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        let row: Option<(i64, String, String, String, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>)> =
            sqlx::query_as(
                "select user_id, username, full_name, roles, password_hash, retired_at, locked_until \
                 from users where username = $1",
            )
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(id, username, full_name, roles, password_hash, retired_at, locked_until)| Credentials {
            user: UserSummary { id: UserId(id), username, full_name, roles: parse_roles(&roles) },
            password_hash,
            retired: retired_at.is_some(),
            locked_until,
        }))
    }

    async fn record_failed_sign_in(
        &self,
        ctx: &AuditContext,
        failure: &SignInFailure<'_>,
        max_failures: i64,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let SignInFailure { username, user, reason, audited } = *failure;
        let mut tx = self.write_tx().await?;
        let mut locked = false;
        let mut version = 0;
        if let Some(user) = user {
            let row: Option<(i64, i64, Option<DateTime<Utc>>)> = sqlx::query_as(
                "update users set failed_sign_ins = failed_sign_ins + 1 where user_id = $1 \
                 returning failed_sign_ins, version, locked_until",
            )
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((failures, v, previous_lock)) = row {
                version = v;
                let already_locked = previous_lock.is_some_and(|l| l > Utc::now());
                if failures >= max_failures && !already_locked {
                    sqlx::query("update users set locked_until = $2 where user_id = $1")
                        .bind(user.0)
                        .bind(lock_until)
                        .execute(&mut *tx)
                        .await?;
                    locked = true;
                }
            }
        }
        let record_id = user.map_or(0, |u| u.0);
        if audited {
            let attempt = AuditContext { actor_id: None, actor_name: username.to_string(), source: ctx.source.clone() };
            append_audit(
                &mut tx,
                &attempt,
                user_event(AuditAction::FailedSignIn, record_id, version, Changes::new(), Some(reason)),
            )
            .await?;
        }
        if locked {
            let changes = one_change(
                "locked_until",
                serde_json::Value::Null,
                serde_json::to_value(lock_until).unwrap_or_default(),
            );
            let system = AuditContext { actor_id: None, actor_name: "system".into(), source: ctx.source.clone() };
            let why = format!("{max_failures} failed sign-ins in a row");
            append_audit(&mut tx, &system, user_event(AuditAction::Lock, record_id, version, changes, Some(&why)))
                .await?;
        }
        tx.commit().await?;
        Ok(locked)
    }

    async fn record_failed_burst(
        &self,
        ctx: &AuditContext,
        user: Option<UserId>,
        changes: Changes,
        reason: &str,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let version: Option<(i64,)> = match user {
            Some(u) => {
                sqlx::query_as("select version from users where user_id = $1")
                    .bind(u.0)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            None => None,
        };
        let version = version.map_or(0, |v| v.0);
        let record_id = user.map_or(0, |u| u.0);
        append_audit(&mut tx, ctx, user_event(AuditAction::FailedSignIn, record_id, version, changes, Some(reason)))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_session(
        &self,
        ctx: &AuditContext,
        user: UserId,
        token_hash: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut tx = self.write_tx().await?;
        let now = Utc::now();
        let (version,): (i64,) = sqlx::query_as(
            "update users set failed_sign_ins = 0, locked_until = null where user_id = $1 returning version",
        )
        .bind(user.0)
        .fetch_one(&mut *tx)
        .await?;
        let (id,): (i64,) = sqlx::query_as(
            "insert into sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, \
             client_address, user_agent) values ($1, $2, $3, $4, $4, $5, $6, $7) returning session_id",
        )
        .bind(token_hash)
        .bind(user.0)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .bind(&ctx.source.client_address)
        .bind(&ctx.source.user_agent)
        .fetch_one(&mut *tx)
        .await?;
        let mut in_session = ctx.clone();
        in_session.source.session_id = id.to_string();
        append_audit(&mut tx, &in_session, user_event(AuditAction::SignIn, user.0, version, Changes::new(), None))
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn session_by_token(&self, token_hash: &str) -> StoreResult<Option<SessionAuth>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            session_id: i64,
            csrf_token: String,
            created_at: DateTime<Utc>,
            last_seen_at: DateTime<Utc>,
            expires_at: DateTime<Utc>,
            ended_at: Option<DateTime<Utc>>,
            user_id: i64,
            username: String,
            full_name: String,
            roles: String,
            retired_at: Option<DateTime<Utc>>,
            must_change_password: bool,
            password_changed_at: DateTime<Utc>,
            esign_agreed_at: Option<DateTime<Utc>>,
            signed: bool,
        }
        // SQLite: on the calling thread, when it can (see `session_on_this_thread`).
        if let Some(found) = self.session_on_this_thread(token_hash) {
            return Ok(found);
        }
        let query = sqlx::query_as(SESSION_BY_TOKEN).bind(token_hash);
        // Every request's first read: on the writer's connection when it is idle (see
        // `idle_writer`), else on a reader's.
        let row: Option<Row> = match self.idle_writer() {
            Some(mut writer) => query.fetch_optional(&mut *writer).await?,
            None => query.fetch_optional(&self.pool).await?,
        };
        Ok(row.map(|r| SessionAuth {
            session_id: r.session_id,
            user: UserSummary {
                id: UserId(r.user_id),
                username: r.username,
                full_name: r.full_name,
                roles: parse_roles(&r.roles),
            },
            csrf_token: r.csrf_token,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ended_at: r.ended_at,
            user_retired: r.retired_at.is_some(),
            must_change_password: r.must_change_password,
            password_changed_at: r.password_changed_at,
            esign_agreed_at: r.esign_agreed_at,
            signed_in_session: r.signed,
        }))
    }

    async fn touch_session(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        let mut writer = self.writer().await?;
        sqlx::query("update sessions set last_seen_at = $2 where session_id = $1 and last_seen_at < $2")
            .bind(id)
            .bind(now)
            .execute(&mut *writer)
            .await?;
        Ok(())
    }

    async fn end_session(&self, ctx: &AuditContext, id: i64, reason: &str, action: AuditAction) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let ended: Option<(i64,)> = sqlx::query_as(
            "update sessions set ended_at = $2, ended_reason = $3 where session_id = $1 and ended_at is null \
             returning user_id",
        )
        .bind(id)
        .bind(Utc::now())
        .bind(reason)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((user_id,)) = ended else { return Ok(false) };
        let (version,): (i64,) =
            sqlx::query_as("select version from users where user_id = $1").bind(user_id).fetch_one(&mut *tx).await?;
        let mut about = ctx.clone();
        if about.source.session_id.is_empty() {
            about.source.session_id = id.to_string();
        }
        let changes = one_change("session", serde_json::json!(id), serde_json::Value::Null);
        append_audit(&mut tx, &about, user_event(action, user_id, version, changes, Some(reason))).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_sessions(&self, now: DateTime<Utc>, idle_since: DateTime<Utc>) -> StoreResult<Vec<SessionRecord>> {
        let rows: Vec<(i64, i64, String, String, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>, String, String)> =
            sqlx::query_as(
                "select s.session_id, s.user_id, u.username, u.full_name, s.created_at, s.last_seen_at, \
                 s.expires_at, s.client_address, s.user_agent \
                 from sessions s join users u on u.user_id = s.user_id \
                 where s.ended_at is null and s.expires_at > $1 and s.last_seen_at >= $2 \
                 order by s.last_seen_at desc, s.session_id desc",
            )
            .bind(now)
            .bind(idle_since)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    user_id,
                    username,
                    full_name,
                    created_at,
                    last_seen_at,
                    expires_at,
                    client_address,
                    user_agent,
                )| {
                    SessionRecord {
                        id,
                        user_id: UserId(user_id),
                        username,
                        full_name,
                        created_at,
                        last_seen_at,
                        expires_at,
                        client_address,
                        user_agent,
                    }
                },
            )
            .collect())
    }

    async fn failed_sign_ins(&self, limit: i64) -> StoreResult<Vec<FailedSignIn>> {
        let rows: Vec<(i64, DateTime<Utc>, String, i64, Option<String>, String, String)> = sqlx::query_as(
            "select seq, occurred_at, actor_name, record_id, reason, source, changes from audit_entries \
             where action = 'failed_sign_in' order by seq desc limit $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, occurred_at, username, record_id, reason, source, changes)| {
                let source: shared::audit::AuditSource = serde_json::from_str(&source).unwrap_or_default();
                let changes: Changes = serde_json::from_str(&changes).unwrap_or_default();
                let attempts = changes.get("attempts").and_then(|c| c.new.as_u64()).unwrap_or(1);
                FailedSignIn {
                    seq,
                    occurred_at,
                    username,
                    user_id: (record_id > 0).then_some(UserId(record_id)),
                    reason: reason.unwrap_or_default(),
                    attempts,
                    client_address: source.client_address,
                    user_agent: source.user_agent,
                }
            })
            .collect())
    }

    async fn sign(
        &self,
        ctx: &AuditContext,
        signer: UserId,
        signer_name: &str,
        input: &SignInput,
        accept_agreement: bool,
    ) -> StoreResult<SignOutcome> {
        let mut tx = self.write_tx().await?;
        let on_revision = input.record_type == "document_revision";
        let acknowledging = input.meaning == Meaning::Acknowledged;
        // A signature that may move a revision (approve it, put it in force) holds its row
        // before reading it: a concurrent signature, cancellation or send-back waits for this
        // one or this one for it, and neither decides on a state that is gone (see
        // `lock_revision`). "Read and understood" changes nothing of the revision.
        if on_revision && !acknowledging {
            lock_revision(&mut tx, input.record_id).await?;
        }
        let Some((version, json)) = record_json(&mut tx, &input.record_type, input.record_id).await? else {
            return Ok(SignOutcome::NotFound);
        };
        if version != input.record_version {
            return Ok(SignOutcome::Stale(json));
        }
        let now = shared::audit::audit_time(Utc::now());
        // One lock order on PostgreSQL: the records, then the signer's user row, then the audit
        // chain (sign-in, password changes and role changes take a user's row before the chain
        // too), so a first signature and a sign-in of the same person cannot deadlock. So the
        // agreement, which updates the user's row, comes before any entry is appended.
        if accept_agreement {
            record_agreement(&mut tx, ctx, signer, now).await?;
        }
        // Signing a risk's approval accepts its residual risk: the rationale is saved
        // and the status becomes accepted first, so the signature binds both.
        // A document revision: the workflow decides who signs; the revision and its document,
        // read once here, then decide whether this signature approves it.
        // "Read and understood" on a revision completes the signer's training assignment for it.
        let revision = if on_revision && !acknowledging {
            Some(check_revision_signer(&mut tx, input.record_id, signer, input.meaning).await?)
        } else {
            None
        };
        let assignment = if on_revision && acknowledging {
            Some(check_acknowledgment(&mut tx, input.record_id, signer).await?)
        } else {
            None
        };
        // Approving a CAPA's plan moves it to implementation; the signature binds the plan.
        if input.record_type == "capa" && input.meaning == Meaning::Approved {
            approve_capa_plan(&mut tx, ctx, input.record_id, signer).await?;
        }
        if input.record_type == "risk" && input.meaning == Meaning::Approved {
            accept_risk(&mut tx, ctx, input.record_id, version, input.rationale.as_deref().unwrap_or_default()).await?;
        }
        // What is signed is the record's own content as it now stands (after the acceptance).
        let (version, content) = signed_content(&mut tx, &input.record_type, input.record_id)
            .await?
            .ok_or_else(|| StoreError::unreadable(&input.record_type, input.record_id))?;
        let signed = SignedVersion { record_type: &input.record_type, record_id: input.record_id, version, content };
        let (id, hash) = insert_signature(&mut tx, ctx, &signed, signer, signer_name, input.meaning, now, None).await?;
        if let Some((revision, document)) = &revision {
            settle_revision(&mut tx, ctx, revision, document).await?;
        }
        if let Some(assignments) = &assignment {
            settle_acknowledgment(&mut tx, ctx, assignments, input.record_id, id).await?;
        }
        tx.commit().await?;
        Ok(SignOutcome::Signed(Signature {
            id,
            record_type: input.record_type.clone(),
            record_id: input.record_id,
            record_version: version,
            record_hash: hash,
            signer_id: signer,
            signer_name: signer_name.to_string(),
            meaning: input.meaning,
            signed_at: now,
            superseded: false,
        }))
    }

    async fn verify_signatures(&self, id: Option<i64>) -> StoreResult<Vec<SignatureCheck>> {
        type SignatureRow = (i64, String, i64, i64, String, i64, String, String, DateTime<Utc>, i64, Option<String>);
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<SignatureRow> = sqlx::query_as(
            "select signature_id, record_type, record_id, record_version, record_hash, signer_id, signer_name, \
             meaning, signed_at, hash_scheme, signed_content from signatures \
             where ($1 is null or signature_id = $1) order by signature_id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        // The signing entries of the audit trail, as (record, version, signer, meaning, hash): a
        // signature whose entry is missing or names another hash was not made as it says.
        let only = rows.first().filter(|_| id.is_some()).map(|r| (r.1.clone(), r.2));
        let entries: Vec<(String, i64, i64, Option<i64>, String)> = sqlx::query_as(
            "select record_type, record_id, record_version, actor_id, changes from audit_entries \
             where action = 'sign' and ($1 is null or (record_type = $1 and record_id = $2))",
        )
        .bind(only.as_ref().map(|(t, _)| t.as_str()))
        .bind(only.as_ref().map(|(_, i)| *i))
        .fetch_all(&mut *conn)
        .await?;
        let audited: std::collections::HashSet<(String, i64, i64, i64, String, String)> = entries
            .into_iter()
            .filter_map(|(record_type, record_id, version, actor, changes)| {
                let changes: Changes = serde_json::from_str(&changes).ok()?;
                let text = |field: &str| changes.get(field).and_then(|c| c.new.as_str()).map(str::to_string);
                Some((record_type, record_id, version, actor?, text("signature_meaning")?, text("signed_record_hash")?))
            })
            .collect();
        // The records as they are now, by scheme: (version, hash of their content).
        let mut now: std::collections::HashMap<(String, i64, i64), Option<(i64, String)>> = Default::default();
        let mut checks = Vec::with_capacity(rows.len());
        for (
            sid,
            record_type,
            record_id,
            record_version,
            record_hash,
            signer_id,
            signer_name,
            meaning,
            signed_at,
            scheme,
            kept,
        ) in rows
        {
            let Some(meaning) = Meaning::parse(&meaning) else { continue };
            let key = (record_type.clone(), record_id, scheme);
            if !now.contains_key(&key) {
                let current = if scheme >= 2 {
                    signed_content(&mut conn, &record_type, record_id).await?
                } else {
                    record_json(&mut conn, &record_type, record_id).await?
                };
                now.insert(key.clone(), current.map(|(v, json)| (v, shared::signature::record_hash(&json))));
            }
            let current = now[&key].clone();
            let signature = Signature {
                id: sid,
                record_type: record_type.clone(),
                record_id,
                record_version,
                record_hash: record_hash.clone(),
                signer_id: UserId(signer_id),
                signer_name,
                meaning,
                signed_at,
                superseded: current.as_ref().is_some_and(|(v, _)| *v != record_version),
            };
            let was_audited = audited.contains(&(
                record_type,
                record_id,
                record_version,
                signer_id,
                meaning.as_str().to_string(),
                record_hash,
            ));
            let (status, problems) = judge(&signature, kept.as_deref(), current.clone(), was_audited);
            checks.push(SignatureCheck {
                signature,
                hash_scheme: scheme,
                status,
                current_version: current.map(|(v, _)| v),
                problems,
                signed_content: kept.and_then(|t| serde_json::from_str(&t).ok()),
            });
        }
        Ok(checks)
    }

    async fn list_signatures(&self, record_type: &str, record_id: Option<i64>) -> StoreResult<Vec<Signature>> {
        let Some((_, table, key, version)) = SIGNED_TABLES.iter().find(|(t, ..)| *t == record_type) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "select s.signature_id, s.record_id, s.record_version, s.record_hash, s.signer_id, s.signer_name, \
             s.meaning, s.signed_at, r.{version} from signatures s left join {table} r on r.{key} = s.record_id \
             where s.record_type = $1 and ($2 is null or s.record_id = $2) order by s.signature_id desc"
        );
        let rows: Vec<(i64, i64, i64, String, i64, String, String, DateTime<Utc>, Option<i64>)> =
            sqlx::query_as(&sql).bind(record_type).bind(record_id).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .filter_map(
                |(id, record_id, record_version, record_hash, signer_id, signer_name, meaning, signed_at, current)| {
                    Some(Signature {
                        id,
                        record_type: record_type.to_string(),
                        record_id,
                        record_version,
                        record_hash,
                        signer_id: UserId(signer_id),
                        signer_name,
                        meaning: Meaning::parse(&meaning)?,
                        signed_at,
                        superseded: current.is_some_and(|v| v != record_version),
                    })
                },
            )
            .collect())
    }
}

/// A record version about to be signed: its own content, as [`signed_content`] read it.
pub(super) struct SignedVersion<'a> {
    pub record_type: &'a str,
    pub record_id: i64,
    pub version: i64,
    pub content: serde_json::Value,
}

/// Stores a signature of `signed` (hash scheme [`HASH_SCHEME`], its canonical content kept with
/// it) and its audit entry, which repeats the hash; returns the signature's id and the hash.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_signature(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    signed: &SignedVersion<'_>,
    signer: UserId,
    signer_name: &str,
    meaning: Meaning,
    now: DateTime<Utc>,
    reason: Option<&str>,
) -> StoreResult<(i64, String)> {
    let text = canonical(&signed.content);
    let hash = text_hash(&text);
    let session: Option<i64> = ctx.source.session_id.parse().ok();
    let (id,): (i64,) = sqlx::query_as(
        "insert into signatures (record_type, record_id, record_version, record_hash, signer_id, \
         signer_name, meaning, signed_at, session_id, hash_scheme, signed_content) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning signature_id",
    )
    .bind(signed.record_type)
    .bind(signed.record_id)
    .bind(signed.version)
    .bind(&hash)
    .bind(signer.0)
    .bind(signer_name)
    .bind(meaning.as_str())
    .bind(now)
    .bind(session)
    .bind(HASH_SCHEME)
    .bind(&text)
    .fetch_one(&mut **tx)
    .await?;
    let mut changes = one_change("signature_meaning", serde_json::Value::Null, serde_json::json!(meaning.as_str()));
    changes.insert(
        "signed_record_hash".into(),
        shared::audit::FieldChange { old: serde_json::Value::Null, new: serde_json::json!(hash) },
    );
    let draft = Draft {
        action: AuditAction::Sign,
        record_type: signed.record_type,
        record_id: signed.record_id,
        record_version: signed.version,
        changes,
        reason,
    };
    append_audit(tx, ctx, draft).await?;
    Ok((id, hash))
}

/// Refuses (409) a change that takes the administrator role from `losing` or deactivates them
/// when they are the last active administrator (nobody could then manage users). Checked under
/// the chain's append lock, which every audited write takes: on PostgreSQL, where writers run
/// side by side, two administrators removing each other at once cannot both pass.
async fn keep_an_administrator(tx: &mut WriteTx, losing: i64) -> StoreResult<()> {
    lock_chain(tx).await?;
    let (losing_is_admin, others): (i64, i64) = sqlx::query_as(
        "select coalesce(sum(case when user_id = $1 then 1 else 0 end), 0), \
         coalesce(sum(case when user_id <> $1 then 1 else 0 end), 0) \
         from users where retired_at is null and (',' || roles || ',') like '%,admin,%'",
    )
    .bind(losing)
    .fetch_one(&mut **tx)
    .await?;
    if losing_is_admin > 0 && others == 0 {
        return Err(StoreError::InUse(
            "Caliper needs at least one active administrator: make someone else an administrator first.".into(),
        ));
    }
    Ok(())
}
