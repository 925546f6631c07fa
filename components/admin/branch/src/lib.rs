//! `PATCH /api/admin/branches/{bran_id}/` with an admin's Bearer token and
//! `{bran_nm?, is_open?}` → 200 `{bran_id, bran_nm, is_open}`.
//!
//! A closed branch refuses new orders with 400; orders already placed there
//! go on through the kitchen. One statement changes it and writes the audit
//! row and a `branch.updated` event. 401 without a valid, unrevoked token;
//! 403 for anyone but an admin; 404 for an unknown branch.

use pizza::ApiError;
use pizza::admin::BranchChange;
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::store::admin as store;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Patch], change).await
}

fn change(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let change = token.unless_revoked(&db, parse(req, &token))?;
    let bran_id = req.path_param("bran_id").unwrap_or_default();
    let branch = store::change_branch(&db, token.verified(), bran_id, &change)?.granted()?;
    ok(&branch.ok_or_else(|| ApiError::not_found(format!("no branch {bran_id:?}")))?)
}

fn parse(req: &Req, token: &SignedToken) -> Result<BranchChange, ApiError> {
    token.roles().require_admin()?;
    BranchChange::parse(&req.fields()?)
}
