//! Authentication of members by `Authorization: Bearer <token>`.
//!
//! A token must verify (signature, HS256 only, `exp`, and `jti` unless it is a
//! Django token during coexistence) and must not be on the revocation list that
//! logout writes: a revoked token is refused by every service. Every refusal is the same 401 `{"detail": "unauthorized"}`.

use crate::db::Db;
use crate::error::ApiError;
use crate::http::Req;
use crate::store::login as store;
use crate::token::{self, VerifiedToken};

/// The member a request is authenticated as, or 401.
pub fn authenticate(req: &Req, db: &Db) -> Result<VerifiedToken, ApiError> {
    let key = crate::config::token_key()?;
    let bearer = token::bearer(req.header("authorization")).ok_or_else(ApiError::unauthorized)?;
    let verified = key.verify(bearer).map_err(|_| ApiError::unauthorized())?;
    if store::is_revoked(db, &verified.revocation_id)? {
        return Err(ApiError::unauthorized());
    }
    Ok(verified)
}
