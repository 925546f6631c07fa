//! `POST /api/login/` `{id, pw}` → 200 `{"token"}`.
//!
//! An unknown id and a wrong password get the same 401 after the same argon2
//! work, so neither the answer nor its timing tells which ids exist. Attempts
//! are counted before the password is checked (`pizza::throttle`): 429 with
//! `Retry-After` after five for one id from one address, or fifty failures
//! from one address; past twenty attempts for one id from anywhere, a wrong
//! password gets 429 but the right one still logs in. A hash in any other
//! format than the one the deployment writes (argon2id, or Django's scrypt
//! during coexistence) is rewritten on success. A staff member's or admin's
//! token carries their roles as of this login (`pizza::roles`).

use pizza::client_address::client_address;
use pizza::db::Db;
use pizza::http::{Req, ok, serve};
use pizza::password::{self, Verdict};
use pizza::store::login as store;
use pizza::throttle::Gate;
use pizza::{ApiError, config, member};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], |req| {
        let answer = login(req);
        match &answer {
            Ok(_) => req.note_event("login.succeeded"),
            Err(e) if e.status == 429 => req.note_event("login.throttled"),
            Err(e) if e.status == 401 => req.note_event("login.failed"),
            Err(_) => {}
        }
        answer
    })
    .await
}

fn login(req: &Req) -> Result<Response, ApiError> {
    let fields = req.fields()?;
    let id = fields.required_str("id")?;
    let pw = fields.required_str("pw")?;
    let key = config::token_key()?;
    let format = config::password_format()?;
    req.note_member(id);
    if !member::plausible_id(id) {
        password::waste_verification_time(pw);
        return Err(invalid_credentials());
    }
    let from = client_address(req, config::trusted_proxy_hops()?);
    let db = Db::connect()?;
    let reservation = store::reserve_login(&db, id, &from)?;
    let too_many = || {
        ApiError::too_many_requests(
            "too many login attempts, try again later",
            reservation.attempts.retry_after,
        )
    };
    let soft_locked = match reservation.attempts.gate() {
        Gate::Refuse => return Err(too_many()),
        Gate::Check { soft_locked } => soft_locked,
    };
    let verdict = match &reservation.password_hash {
        Some(stored) => password::verify(pw, stored, format),
        None => {
            password::waste_verification_time(pw);
            Verdict::NoMatch
        }
    };
    let (Verdict::Match { upgrade }, Some(stored)) = (verdict, &reservation.password_hash) else {
        return Err(if soft_locked {
            too_many()
        } else {
            invalid_credentials()
        });
    };
    let new_hash = if upgrade {
        Some(password::hash(pw, format).map_err(ApiError::internal)?)
    } else {
        None
    };
    store::login_succeeded(&db, id, &from, stored, new_hash.as_deref())?;
    let issued = key
        .issue(id, reservation.roles.clone(), config::now_secs())
        .map_err(ApiError::internal)?;
    ok(&serde_json::json!({ "token": issued.token }))
}

fn invalid_credentials() -> ApiError {
    ApiError::new(401, "invalid credentials")
}
