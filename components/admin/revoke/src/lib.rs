//! `POST /api/admin/members/{member_id}/revoke-tokens/` with an admin's
//! Bearer token → 200 `{member_id, revoked: true}`: every token the member
//! holds now is refused everywhere from this moment (a cutoff on their
//! tokens' `iat`), so a demoted cook's staff token stops working at once.
//! They log in again for a new one (a login within the same second as the
//! cutoff is refused too; the next second's works).
//!
//! One statement sets the cutoff and writes the audit row and a
//! `member.updated` event. 404 for an unknown member; 401 without a valid,
//! unrevoked token; 403 for anyone but an admin.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::store::admin as store;
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], revoke).await
}

fn revoke(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    token.unless_revoked(&db, token.roles().require_admin())?;
    let member_id = req.path_param("member_id").unwrap_or_default();
    if !store::revoke_member_tokens(&db, token.verified(), member_id)?.granted()? {
        return Err(ApiError::not_found(format!("no member {member_id:?}")));
    }
    ok(&json!({"member_id": member_id, "revoked": true}))
}
