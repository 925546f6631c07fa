//! `GET /api/admin/roles/` with an admin's Bearer token → 200 `{roles:
//! [{member_id, role, branch_id}]}`: every grant (`branch_id` null for an
//! admin), for the web console's staff page; a member's own roles are set
//! with `PUT /api/admin/members/{member_id}/roles/`. 401 without a valid,
//! unrevoked token; 403 for anyone but an admin.

use pizza::ApiError;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::store::admin::console as store;
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], grants).await
}

fn grants(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    token.unless_revoked(&db, token.roles().require_admin())?;
    let roles = store::grants(&db, token.verified())?.granted()?;
    ok(&json!({ "roles": roles }))
}
