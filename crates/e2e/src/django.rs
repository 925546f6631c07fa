//! The Django side of the migration, as the tests need it: the database the
//! Django services leave behind, their password check and their tokens.
//!
//! Written from Django 5.2's documented hash formats and PyJWT's rules, not
//! from this project's code, so that a test can show that what our services
//! write is what Django reads, and the other way round.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use jwt_simple::prelude::*;

pub use testkit::DJANGO_DATABASE as SCHEMA;

/// Django's `check_password(password, encoded)` as the shop's Django login runs
/// it: Django 5.2's default `PASSWORD_HASHERS` with neither `argon2-cffi` nor
/// `bcrypt` installed, so only the PBKDF2 and scrypt formats can match.
pub fn check_password(password: &str, encoded: &str) -> bool {
    let fields: Vec<&str> = encoded.split('$').collect();
    match fields.as_slice() {
        ["pbkdf2_sha256", iterations, salt, hash] => pbkdf2_matches(
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>,
            32,
            password,
            iterations,
            salt,
            hash,
        ),
        ["pbkdf2_sha1", iterations, salt, hash] => pbkdf2_matches(
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>,
            20,
            password,
            iterations,
            salt,
            hash,
        ),
        ["scrypt", n, salt, r, p, hash] => {
            let (Ok(n), Ok(r), Ok(p)) = (n.parse::<u32>(), r.parse(), p.parse()) else {
                return false;
            };
            let Some(log_n) = n.checked_ilog2().filter(|_| n.is_power_of_two()) else {
                return false;
            };
            let Ok(params) = scrypt::Params::new(log_n as u8, r, p, 64) else {
                return false;
            };
            let mut out = [0u8; 64];
            scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut out)
                .is_ok_and(|()| B64.encode(out) == *hash)
        }
        _ => false,
    }
}

/// Django's PBKDF2 check: the base64 of the derived key, `len` bytes long.
fn pbkdf2_matches(
    derive: fn(&[u8], &[u8], u32, &mut [u8]),
    len: usize,
    password: &str,
    iterations: &str,
    salt: &str,
    hash: &str,
) -> bool {
    let mut out = vec![0u8; len];
    derive(
        password.as_bytes(),
        salt.as_bytes(),
        iterations.parse().unwrap_or(0),
        &mut out,
    );
    B64.encode(out) == hash
}

/// A token as the Django login's `_issue_token` signs it with PyJWT:
/// `{"member_id", "iat", "exp"}`, HS256, no `jti`.
pub fn issue_token(member_id: &str, secret: &str, issued_at: u64) -> String {
    crate::tokens::hs256(
        &serde_json::json!({
            "member_id": member_id,
            "iat": issued_at,
            "exp": issued_at + 3600,
        })
        .to_string(),
        secret,
    )
}

/// The member a token authenticates at the Django order service, which runs
/// `jwt.decode(token, JWT_SECRET, algorithms=["HS256"])` (PyJWT 2.10) and
/// reads `member_id`; `None` where it answers 401.
pub fn order_service_member(token: &str, secret: &str) -> Option<String> {
    let [header, payload, signature] = token.split('.').collect::<Vec<_>>().try_into().ok()?;
    let header: serde_json::Value = serde_json::from_slice(&B64URL.decode(header).ok()?).ok()?;
    if header["alg"] != "HS256" {
        return None;
    }
    let expected = HS256Key::from_bytes(secret.as_bytes())
        .authentication_tag(format!("{}.{}", token.split('.').next()?, payload).as_bytes());
    if B64URL.decode(signature).ok()? != expected {
        return None;
    }
    let claims: serde_json::Value = serde_json::from_slice(&B64URL.decode(payload).ok()?).ok()?;
    let now = crate::tokens::now();
    // PyJWT: `exp` must be a number in the future, `iat` a number not in the
    // future, and an `aud` claim is refused when no audience is expected.
    let exp_ok = claims
        .get("exp")
        .is_none_or(|e| e.as_u64().is_some_and(|e| e > now));
    let iat_ok = claims
        .get("iat")
        .is_none_or(|i| i.as_u64().is_some_and(|i| i <= now));
    if !exp_ok || !iat_ok || claims.get("aud").is_some() {
        return None;
    }
    claims["member_id"]
        .as_str()
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
}
