//! `POST /api/login/register/` `{id, pw, name}` → 201 `{"member_id"}`.
//! 400 for invalid input, 409 when the id is taken, 429 past twenty
//! registrations from one address in an hour. The password is hashed in
//! the format the deployment writes (Django's scrypt during coexistence).

use pizza::client_address::client_address;
use pizza::db::Db;
use pizza::http::{Req, json_response, serve};
use pizza::{ApiError, config, member, password, store, throttle};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Post], register).await
}

fn register(req: &Req) -> Result<Response, ApiError> {
    let fields = req.fields()?;
    let new = member::validate(
        fields.required_str("id")?,
        fields.required_str("pw")?,
        fields.required_str("name")?,
    )?;
    let db = Db::connect()?;
    let from = client_address(req, config::trusted_proxy_hops()?);
    let (attempts, retry_after) = store::login::reserve_registration(&db, &from)?;
    if throttle::registration_refused(attempts) {
        return Err(ApiError::too_many_requests(
            "too many registrations from this address, try again later",
            retry_after,
        ));
    }
    let hash =
        password::hash(new.password, config::password_format()?).map_err(ApiError::internal)?;
    if !store::login::insert_member(&db, &new, &hash)? {
        return Err(ApiError::conflict("member id already taken"));
    }
    req.note_member(new.id);
    req.note_event("member.registered");
    Ok(json_response(
        201,
        &serde_json::json!({ "member_id": new.id }),
    ))
}
