//! Storage of API tokens (a script authenticates as a user with `Authorization: Bearer`): the
//! trait and what the guard reads; the queries are in `queries/api_token.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared::auth::{ApiToken, ApiTokenInput, UserId, UserSummary};

use super::{AuditContext, StoreResult};

/// A token as the guard finds it by the SHA-256 of its secret.
#[derive(Debug, Clone)]
pub struct TokenAuth {
    /// The token.
    pub token: ApiToken,
    /// Its user.
    pub user: UserSummary,
    /// The user is deactivated (the token stops working).
    pub user_retired: bool,
}

/// API tokens. Part of [`super::Store`].
#[async_trait]
pub trait ApiTokenStore: Send + Sync + 'static {
    /// A user's tokens, newest first (revoked ones too).
    async fn list_api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>>;
    /// Issues a token for `user` (validated input), keeping only `token_hash`; audited. 404 for
    /// no such user, 409 for a deactivated one.
    async fn create_api_token(
        &self,
        ctx: &AuditContext,
        user: UserId,
        input: &ApiTokenInput,
        token_hash: &str,
    ) -> StoreResult<ApiToken>;
    /// Revokes a token (audited; revoking a revoked token changes nothing); `None` when there
    /// is no such token.
    async fn revoke_api_token(&self, ctx: &AuditContext, id: i64) -> StoreResult<Option<ApiToken>>;
    /// The token whose secret hashes to `token_hash`, with its user.
    async fn api_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenAuth>>;
    /// Notes that a token was used at `now` (the guard calls it at most once a minute).
    async fn touch_api_token(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()>;
}
