//! `/api/admin/branches/` with an admin's Bearer token:
//!
//! - `GET` → 200 `{branches: [{bran_id, bran_nm, is_open}]}`: every branch,
//!   open or closed (the public `GET /api/order/branch/` does not say which).
//! - `POST` with `{bran_id, bran_nm}` → 201 `{bran_id, bran_nm, is_open:
//!   true}`: a new branch, open. One statement creates it and writes the
//!   audit row and a `branch.updated` event. 409 when the id is taken.
//!
//! 401 without a valid, unrevoked token; 403 for anyone but an admin.

use pizza::ApiError;
use pizza::admin::{BranchState, NewBranch};
use pizza::auth::SignedToken;
use pizza::db::Db;
use pizza::http::{Req, json_response, ok, serve};
use pizza::store::admin::{self as store, console};
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get, Method::Post], |req| {
        match req.method {
            Method::Get => list(req),
            _ => create(req),
        }
    })
    .await
}

fn list(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    token.unless_revoked(&db, token.roles().require_admin())?;
    let branches = console::branches(&db, token.verified())?.granted()?;
    ok(&json!({ "branches": branches }))
}

fn create(req: &Req) -> Result<Response, ApiError> {
    let token = SignedToken::from_request(req)?;
    let db = Db::connect()?;
    let branch = token.unless_revoked(&db, parse(req, &token))?;
    if !store::create_branch(&db, token.verified(), &branch)?.granted()? {
        return Err(ApiError::conflict(format!(
            "branch {:?} exists",
            branch.bran_id
        )));
    }
    let created = BranchState {
        bran_id: branch.bran_id,
        bran_nm: branch.bran_nm,
        is_open: true,
    };
    Ok(json_response(201, &created))
}

fn parse(req: &Req, token: &SignedToken) -> Result<NewBranch, ApiError> {
    token.roles().require_admin()?;
    NewBranch::parse(&req.fields()?)
}
