//! Private `POST /api/login/int/auth/verify` `{token}`, reached only through
//! service chaining (`http://login-verify.spin.internal/`), never from outside.
//!
//! Answers as the contract says: 200 `{"valid": true, "member_id"}`; 400
//! `{"valid": false}` without a token; 401 `{"valid": false, "reason"}` with
//! `expired`, `invalid` or `revoked`.

use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::{ApiError, config, store};
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], verify).await
}

fn verify(req: &Req) -> Result<Response, ApiError> {
    let fields = req.fields()?;
    let token = match fields.optional_str("token") {
        Ok(Some(t)) if !t.is_empty() => t,
        _ => return Ok(json_response(400, &json!({ "valid": false }))),
    };
    let key = config::token_key()?;
    let verified = match key.verify(token) {
        Ok(v) => v,
        Err(e) => {
            return Ok(json_response(
                401,
                &json!({ "valid": false, "reason": e.reason() }),
            ));
        }
    };
    if store::login::is_revoked(&Db::connect()?, &verified)? {
        return Ok(json_response(
            401,
            &json!({ "valid": false, "reason": "revoked" }),
        ));
    }
    Ok(json_response(
        200,
        &json!({ "valid": true, "member_id": verified.member_id }),
    ))
}
