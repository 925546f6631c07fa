//! Authentication of members by `Authorization: Bearer <token>`.
//!
//! A token must verify (signature, HS256 only, `exp`, and `jti` unless it is a
//! Django token during coexistence) and must not be revoked: on the list that
//! logout writes, or issued before its member's cutoff (an admin's
//! revoke-tokens). A revoked token is refused by every service. Every refusal
//! is the same 401 `{"detail": "unauthorized"}`.
//!
//! The revocation check costs no round trip of its own: the request's one
//! statement asks it too and reports [`Authorized::Revoked`]. Only a request
//! refused before its statement runs (a bad body, say) asks separately, so
//! that a revoked token still gets 401 rather than the other error.

use crate::db::Db;
use crate::error::ApiError;
use crate::http::Req;
use crate::roles::Roles;
use crate::store::login as store;
use crate::token::{self, VerifiedToken};

/// A bearer token whose signature and claims verified, not yet checked
/// against the revocation list: pass its [`SignedToken::verified`] claims to
/// the statement that serves the request.
#[derive(Debug)]
pub struct SignedToken(VerifiedToken);

impl SignedToken {
    /// The request's verified bearer token, or 401.
    pub fn from_request(req: &Req) -> Result<SignedToken, ApiError> {
        let key = crate::config::token_key()?;
        let bearer =
            token::bearer(req.header("authorization")).ok_or_else(ApiError::unauthorized)?;
        let verified = key.verify(bearer).map_err(|_| ApiError::unauthorized())?;
        req.note_member(&verified.member_id);
        Ok(SignedToken(verified))
    }

    /// The member the token was issued to.
    pub fn member_id(&self) -> &str {
        &self.0.member_id
    }

    /// What the member may do beyond ordering, as of their login.
    pub fn roles(&self) -> &Roles {
        &self.0.roles
    }

    /// The verified claims, which the request's statement checks against the
    /// revocation list and the member's token cutoff.
    pub fn verified(&self) -> &VerifiedToken {
        &self.0
    }

    /// `checked`, the outcome of the request's own checks before any
    /// statement ran; when it is an error, 401 instead if the token is revoked.
    pub fn unless_revoked<T>(&self, db: &Db, checked: Result<T, ApiError>) -> Result<T, ApiError> {
        match checked {
            Err(_) if store::is_revoked(db, &self.0)? => Err(ApiError::unauthorized()),
            checked => checked,
        }
    }
}

/// What a statement that also checks the token's revocation found.
#[derive(Debug, PartialEq, Eq)]
pub enum Authorized<T> {
    /// The token is not revoked; the statement's result.
    Granted(T),
    /// The token is revoked; the statement changed nothing.
    Revoked,
}

impl<T> Authorized<T> {
    /// The statement's result, or 401 for a revoked token.
    pub fn granted(self) -> Result<T, ApiError> {
        match self {
            Authorized::Granted(result) => Ok(result),
            Authorized::Revoked => Err(ApiError::unauthorized()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_token_is_401_and_a_granted_result_passes() {
        assert_eq!(Authorized::Granted(3).granted().unwrap(), 3);
        assert_eq!(
            Authorized::<i32>::Revoked.granted().unwrap_err().status,
            401
        );
    }
}
