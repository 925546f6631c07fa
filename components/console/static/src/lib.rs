//! `GET /console/...` → the web console's files (`console/`, built by `make
//! console` and compiled in by `build.rs`): `/console/` is `index.html`,
//! `/console/assets/<name>-<hash>.<ext>` the bundles.
//!
//! - Each file has its `Content-Type` and a strong `ETag`; `If-None-Match`
//!   naming it gets 304.
//! - Hashed assets are cached for a year (`immutable`); `index.html` is
//!   revalidated each time (`no-cache`), so a new build shows at once.
//! - Anything else under `/console/` is a JSON 404. Only the compiled-in
//!   table is served: there is no file system to walk out of.
//! - `/console` without its slash is redirected to `/console/`.

use pizza::ApiError;
use pizza::http::{Req, if_none_match_tags, is_known, serve};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

/// One compiled-in file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    etag: &'static str,
    hashed: bool,
    body: &'static [u8],
}

/// Every file of `console/dist`, by path.
const ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The page's policy: scripts, styles and images from the console itself,
/// API calls to the same origin, no framing.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

#[http_component]
async fn handle(request: IncomingRequest) -> Response {
    serve(request, &[Method::Get], file).await
}

fn file(req: &Req) -> Result<Response, ApiError> {
    let path = req.path_info();
    if path.is_empty() {
        return Ok(Response::builder()
            .status(308)
            .header("location", "/console/")
            .build());
    }
    let wanted = match path.trim_start_matches('/') {
        "" => "index.html",
        p => p,
    };
    let asset = ASSETS
        .iter()
        .find(|a| a.path == wanted)
        .ok_or_else(|| ApiError::not_found("no such file in the console"))?;
    let fresh = is_known(&if_none_match_tags(req.header("if-none-match")), asset.etag);
    let cache = if asset.hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok(Response::builder()
        .status(if fresh { 304 } else { 200 })
        .header("content-type", asset.content_type)
        .header("etag", asset.etag)
        .header("cache-control", cache)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .header("content-security-policy", CSP)
        .body(if fresh {
            Vec::new()
        } else {
            asset.body.to_vec()
        })
        .build())
}
