//! API tokens: the queries of [`crate::storage::api_token`], compiled once per backend (see
//! [`crate::storage`]).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use shared::audit::{AuditAction, diff};
use shared::auth::{ApiToken, ApiTokenInput, UserId, UserSummary};

use super::SqlStore;
use super::base::append_audit;
use crate::storage::api_token::{ApiTokenStore, TokenAuth};
use crate::storage::common::Draft;
use crate::storage::trust::parse_roles;
use crate::storage::{AuditContext, StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_id: i64,
    user_id: i64,
    name: String,
    created_at: DateTime<Utc>,
    expires_on: Option<NaiveDate>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> Self {
        ApiToken {
            id: r.token_id,
            user_id: UserId(r.user_id),
            name: r.name,
            created_at: r.created_at,
            expires_on: r.expires_on,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

const TOKEN_SELECT: &str =
    "select token_id, user_id, name, created_at, expires_on, last_used_at, revoked_at from api_tokens";

/// What the audit trail keeps of a token (never its secret or hash).
fn token_json(t: &ApiToken) -> serde_json::Value {
    serde_json::json!({
        "user_id": t.user_id.0,
        "name": t.name,
        "expires_on": t.expires_on.map(|d| d.to_string()),
        "revoked": t.revoked_at.is_some(),
    })
}

#[async_trait]
impl ApiTokenStore for SqlStore {
    async fn list_api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        let sql = format!("{TOKEN_SELECT} where user_id = $1 order by token_id desc");
        let rows: Vec<TokenRow> = sqlx::query_as(&sql).bind(user.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(ApiToken::from).collect())
    }

    async fn create_api_token(
        &self,
        ctx: &AuditContext,
        user: UserId,
        input: &ApiTokenInput,
        token_hash: &str,
    ) -> StoreResult<ApiToken> {
        let mut tx = self.write_tx().await?;
        let holder: Option<(Option<DateTime<Utc>>,)> =
            sqlx::query_as("select retired_at from users where user_id = $1")
                .bind(user.0)
                .fetch_optional(&mut *tx)
                .await?;
        match holder {
            None => return Err(StoreError::NotFound("No such user.".into())),
            Some((Some(_),)) => {
                return Err(StoreError::Retired("This user is deactivated: a token for them would not work.".into()));
            }
            Some((None,)) => {}
        }
        let sql = "insert into api_tokens (user_id, name, token_hash, created_at, expires_on) \
                   values ($1, $2, $3, $4, $5) returning token_id, user_id, name, created_at, expires_on, \
                   last_used_at, revoked_at";
        let row: TokenRow = sqlx::query_as(sql)
            .bind(user.0)
            .bind(input.name.trim())
            .bind(token_hash)
            .bind(Utc::now())
            .bind(input.expires_on)
            .fetch_one(&mut *tx)
            .await?;
        let token = ApiToken::from(row);
        let draft = Draft {
            action: AuditAction::Create,
            record_type: "api_token",
            record_id: token.id,
            record_version: 1,
            changes: diff(&serde_json::Value::Null, &token_json(&token)),
            reason: None,
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn revoke_api_token(&self, ctx: &AuditContext, id: i64) -> StoreResult<Option<ApiToken>> {
        let mut tx = self.write_tx().await?;
        let sql = format!("{TOKEN_SELECT} where token_id = $1");
        let before: Option<TokenRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *tx).await?;
        let Some(before) = before.map(ApiToken::from) else { return Ok(None) };
        if before.revoked_at.is_some() {
            return Ok(Some(before));
        }
        let (version,): (i64,) = sqlx::query_as(
            "update api_tokens set revoked_at = $2, version = version + 1 where token_id = $1 returning version",
        )
        .bind(id)
        .bind(Utc::now())
        .fetch_one(&mut *tx)
        .await?;
        let after: TokenRow = sqlx::query_as(&sql).bind(id).fetch_one(&mut *tx).await?;
        let after = ApiToken::from(after);
        let draft = Draft {
            action: AuditAction::Retire,
            record_type: "api_token",
            record_id: id,
            record_version: version,
            changes: diff(&token_json(&before), &token_json(&after)),
            reason: Some("revoked"),
        };
        append_audit(&mut tx, ctx, draft).await?;
        tx.commit().await?;
        Ok(Some(after))
    }

    async fn api_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenAuth>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            token: TokenRow,
            username: String,
            full_name: String,
            roles: String,
            retired_at: Option<DateTime<Utc>>,
        }
        let row: Option<Row> = sqlx::query_as(
            "select t.token_id, t.user_id, t.name, t.created_at, t.expires_on, t.last_used_at, t.revoked_at, \
             u.username, u.full_name, u.roles, u.retired_at \
             from api_tokens t join users u on u.user_id = t.user_id where t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| TokenAuth {
            user: UserSummary {
                id: UserId(r.token.user_id),
                username: r.username,
                full_name: r.full_name,
                roles: parse_roles(&r.roles),
            },
            user_retired: r.retired_at.is_some(),
            token: ApiToken::from(r.token),
        }))
    }

    async fn touch_api_token(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        let mut writer = self.writer().await?;
        sqlx::query(
            "update api_tokens set last_used_at = $2 where token_id = $1 and (last_used_at is null or \
             last_used_at < $2)",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *writer)
        .await?;
        Ok(())
    }
}
