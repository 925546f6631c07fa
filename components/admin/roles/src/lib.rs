//! `/api/admin/members/{member_id}/roles/` with an admin's Bearer token:
//!
//! - `GET` → 200 `{member_id, admin, staff: [branch ids]}`;
//! - `PUT` `{admin, staff}` → 200, the same shape: replaces the member's
//!   roles (granting and revoking staff and admin). One statement writes them,
//!   the audit row (before, after) and a `member.updated` event. The member's
//!   tokens carry the new roles from their next login; to end the live ones
//!   at once, revoke them (`…/revoke-tokens/`).
//!
//! 400 for a staff branch that does not exist; 404 for an unknown member;
//! 401 without a valid, unrevoked token; 403 for anyone but an admin.

use pizza::ApiError;
use pizza::admin::RoleSet;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::roles::Roles;
use pizza::store::admin::{self as store, RolesSet};
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get, Method::Put], roles).await
}

fn roles(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let wanted = token.unless_revoked(&db, parse(req, &token))?;
    let member_id = req.path_param("member_id").unwrap_or_default();
    let no_member = || ApiError::not_found(format!("no member {member_id:?}"));
    let roles = match wanted {
        None => store::member_roles(&db, token.verified(), member_id)?
            .granted()?
            .ok_or_else(no_member)?,
        Some(wanted) => {
            match store::set_member_roles(&db, token.verified(), member_id, &wanted)?.granted()? {
                RolesSet::Set(roles) => roles,
                RolesSet::NoMember => return Err(no_member()),
                RolesSet::UnknownBranch(branch) => {
                    return Err(ApiError::bad_request(format!(
                        "`staff`: no branch {branch:?}"
                    )));
                }
            }
        }
    };
    answer(member_id, &roles)
}

/// The roles a `PUT` sets, or `None` for a `GET`; only for admins.
fn parse(req: &Req, token: &SignedToken) -> Result<Option<RoleSet>, ApiError> {
    token.roles().require_admin()?;
    match req.method {
        Method::Put => Ok(Some(RoleSet::parse(&req.fields()?)?)),
        _ => Ok(None),
    }
}

fn answer(member_id: &str, roles: &Roles) -> Result<Response, ApiError> {
    ok(&json!({"member_id": member_id, "admin": roles.admin, "staff": roles.staff}))
}
