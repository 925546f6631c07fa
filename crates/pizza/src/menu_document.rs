//! The menu's lists, answered from the documents PostgreSQL keeps up to date
//! (migration 0013): one small read per request, and for a client that has
//! the current version (`If-None-Match`) only the tag is read.

use crate::db::Db;
use crate::error::ApiError;
use crate::http::{Req, if_none_match_tags, tagged_json};
use crate::menu::CACHE_MAX_AGE_SECS;
use crate::store::menu::{self as store, MenuDocument};
use spin_sdk::http::Response;

/// 200 with the stored document and its `ETag`, or 304 when the request's
/// `If-None-Match` names it; cacheable for [`CACHE_MAX_AGE_SECS`].
pub fn respond(req: &Req, document: MenuDocument) -> Result<Response, ApiError> {
    let known = if_none_match_tags(req.header("if-none-match"));
    let stored = store::document(&Db::connect()?, document, &known)?;
    let body = stored.body.map(String::into_bytes);
    Ok(tagged_json(stored.etag, body, CACHE_MAX_AGE_SECS))
}
