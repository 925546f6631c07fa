//! `POST /api/login/` `{id, pw}` → 200 `{"token"}`.
//!
//! An unknown id and a wrong password get the same 401 after the same argon2
//! work, so neither the answer nor its timing tells which ids exist. After
//! five failures for one id within 15 minutes the id gets 429 with
//! `Retry-After` until the window passes. A hash in any other format than the
//! one the deployment writes (argon2id, or Django's scrypt during coexistence)
//! is rewritten on success.

use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::password::{self, Verdict};
use pizza::store::login as store;
use pizza::{ApiError, config, member};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], login).await
}

fn login(req: &Req) -> Result<Response, ApiError> {
    let fields = req.fields()?;
    let id = fields.required_str("id")?;
    let pw = fields.required_str("pw")?;
    let key = config::token_key()?;
    let format = config::password_format()?;
    if !member::plausible_id(id) {
        password::waste_verification_time(pw);
        return Err(invalid_credentials());
    }
    let db = Db::connect()?;
    let state = store::login_state(&db, id)?;
    if let Some(retry_after) = state.retry_after {
        return Err(ApiError::too_many_requests(
            "too many failed logins, try again later",
            retry_after,
        ));
    }
    let verdict = match &state.password_hash {
        Some(stored) => password::verify(pw, stored, format),
        None => {
            password::waste_verification_time(pw);
            Verdict::NoMatch
        }
    };
    let (Verdict::Match { upgrade }, Some(stored)) = (verdict, &state.password_hash) else {
        store::record_failure(&db, id)?;
        return Err(invalid_credentials());
    };
    let new_hash = if upgrade {
        Some(password::hash(pw, format).map_err(ApiError::internal)?)
    } else {
        None
    };
    store::record_success(&db, id, stored, new_hash.as_deref())?;
    let issued = key
        .issue(id, config::now_secs())
        .map_err(ApiError::internal)?;
    ok(&serde_json::json!({ "token": issued.token }))
}

fn invalid_credentials() -> ApiError {
    ApiError::new(401, "invalid credentials")
}
