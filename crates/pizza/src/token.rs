//! Access tokens: HS256 JWTs that the old order service (PyJWT) also accepts.
//!
//! Claims are exactly `member_id`, `iat`, `exp` (one hour) and `jti`: no `aud`
//! or `iss`, which PyJWT would reject during the migration, and no `nbf`.
//! Verification requires `iat`, `exp` and `jti`, refuses a lifetime (`exp` −
//! `iat`) over one hour, accepts only HS256 (so `none` and every other
//! algorithm fail), and tolerates one minute of clock skew.
//!
//! In Django coexistence mode ([`TokenKey::accepting_django_tokens`]) a token
//! the Django login issued (`member_id`, `iat`, `exp`, no `jti`) is accepted
//! too, for at most [`DJANGO_TOKEN_MAX_TTL_SECS`] after its `iat`. Such a token
//! is identified for revocation by its member and issue time (two Django
//! tokens with both equal are the same token, byte for byte).

use crate::roles::Roles;
use jwt_simple::JWTError;
use jwt_simple::prelude::*;

/// How long a token lives.
pub const TOKEN_TTL_SECS: u64 = 3600;

/// The shortest secret the service agrees to sign with.
pub const MIN_SECRET_BYTES: usize = 32;

/// Clock skew tolerated between the pods that issue and verify tokens.
const CLOCK_SKEW_SECS: u64 = 60;

/// Kept on top of `exp` and the clock skew before a revocation may be purged,
/// so that no revoked token outlives its revocation on any pod.
const REVOCATION_MARGIN_SECS: u64 = 60;

/// The longest a Django-issued token is honoured after its `iat`, whatever its
/// `exp` says (the Django login's `JWT_ACCESS_TTL_SECONDS` defaults to one hour).
pub const DJANGO_TOKEN_MAX_TTL_SECS: u64 = 24 * 3600;

/// The application claim carried next to the registered ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MemberClaim {
    member_id: String,
    #[serde(default, skip_serializing_if = "Roles::is_member_only")]
    roles: Roles,
}

/// The HS256 key built from the `jwt_secret` variable, and whether tokens
/// without `jti` from the Django login are accepted.
pub struct TokenKey {
    key: HS256Key,
    accept_django_tokens: bool,
}

/// Why a token was refused. The verify endpoint reports `expired` apart from
/// every other failure, as the contract says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Signature and format were fine, but `exp` has passed.
    Expired,
    /// Anything else: bad signature, wrong algorithm, malformed, missing claims.
    Invalid,
}

impl TokenError {
    /// The reason string the verify endpoint answers with.
    pub fn reason(self) -> &'static str {
        match self {
            TokenError::Expired => "expired",
            TokenError::Invalid => "invalid",
        }
    }
}

/// A token that verified: who it is for and what identifies it for revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The member the token was issued to.
    pub member_id: String,
    /// What they may do beyond ordering, as of their login.
    pub roles: Roles,
    /// When it was issued (`iat`, Unix seconds): tokens issued before their
    /// member's cutoff (an admin's revoke-tokens) are refused.
    pub issued_at: u64,
    /// The key of the revocation list: the token's `jti`, or for a Django
    /// token (no `jti`) `dj:` and a digest of its member and `iat`.
    pub revocation_id: String,
    /// Unix seconds until which a revocation of this token must be kept: its
    /// `exp`, plus the clock skew it is accepted within, plus a margin.
    pub revoke_until: u64,
}

/// A freshly issued token. Its `Debug` hides the token itself.
#[derive(Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its `jti`.
    pub jti: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[REDACTED]")
            .field("jti", &self.jti)
            .finish()
    }
}

impl TokenKey {
    /// Builds the key, refusing secrets shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &str) -> Result<TokenKey, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "jwt_secret is {} bytes; at least {MIN_SECRET_BYTES} are required",
                secret.len()
            ));
        }
        Ok(TokenKey {
            key: HS256Key::from_bytes(secret.as_bytes()),
            accept_django_tokens: false,
        })
    }

    /// The same key, also accepting the Django login's tokens (no `jti`) when
    /// `accept` is true: Django coexistence mode.
    pub fn accepting_django_tokens(self, accept: bool) -> TokenKey {
        TokenKey {
            accept_django_tokens: accept,
            ..self
        }
    }

    /// Issues a token for `member_id` with `roles`, valid from `now_secs`
    /// (Unix seconds) for one hour.
    pub fn issue(
        &self,
        member_id: &str,
        roles: Roles,
        now_secs: u64,
    ) -> anyhow::Result<IssuedToken> {
        let jti = random_id()?;
        let mut claims = Claims::with_custom_claims(
            MemberClaim {
                member_id: member_id.to_owned(),
                roles,
            },
            Duration::from_secs(TOKEN_TTL_SECS),
        )
        .with_jwt_id(&jti);
        claims.issued_at = Some(Duration::from_secs(now_secs));
        claims.expires_at = Some(Duration::from_secs(now_secs + TOKEN_TTL_SECS));
        claims.invalid_before = None;
        let token = self
            .key
            .authenticate(claims)
            .map_err(|e| anyhow::anyhow!("signing a token: {e}"))?;
        Ok(IssuedToken { token, jti })
    }

    /// Verifies signature, algorithm and expiry, and that every required claim is there.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let options = VerificationOptions {
            time_tolerance: Some(Duration::from_secs(CLOCK_SKEW_SECS)),
            max_token_length: Some(4096),
            ..Default::default()
        };
        let claims = self
            .key
            .verify_token::<MemberClaim>(token, Some(options))
            .map_err(|e| match e.downcast_ref::<JWTError>() {
                Some(JWTError::TokenHasExpired) => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let expires_at = claims.expires_at.ok_or(TokenError::Invalid)?.as_secs();
        let issued_at = claims.issued_at.ok_or(TokenError::Invalid)?.as_secs();
        let MemberClaim { member_id, roles } = claims.custom;
        if member_id.is_empty() {
            return Err(TokenError::Invalid);
        }
        let (revocation_id, max_lifetime) = match claims.jwt_id.filter(|j| !j.is_empty()) {
            Some(jti) => (jti, TOKEN_TTL_SECS),
            None if self.accept_django_tokens => (
                django_revocation_id(&member_id, issued_at),
                DJANGO_TOKEN_MAX_TTL_SECS,
            ),
            None => return Err(TokenError::Invalid),
        };
        if expires_at.saturating_sub(issued_at) > max_lifetime {
            return Err(TokenError::Invalid);
        }
        Ok(VerifiedToken {
            member_id,
            roles,
            issued_at,
            revocation_id,
            revoke_until: expires_at + CLOCK_SKEW_SECS + REVOCATION_MARGIN_SECS,
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The revocation key of a Django token: its member and issue time, digested
/// to fit `revoked_token.jti` (varchar(64)) whatever the member id's length.
fn django_revocation_id(member_id: &str, issued_at: u64) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(member_id.as_bytes())
        .chain_update([0])
        .chain_update(issued_at.to_be_bytes())
        .finalize();
    format!("dj:{}", &crate::hex::encode(&digest)[..48])
}

/// 128 random bits as hex: unguessable token ids.
fn random_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(crate::hex::encode(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn claims_of(token: &str) -> serde_json::Value {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
    }

    /// Signs arbitrary header and payload JSON with HS256, as a forger with the key would.
    fn sign_raw(header: &str, payload: &str, secret: &str) -> String {
        let signing_input = format!("{}.{}", B64.encode(header), B64.encode(payload));
        let mac = HS256Key::from_bytes(secret.as_bytes());
        let tag = mac.authentication_tag(signing_input.as_bytes());
        format!("{signing_input}.{}", B64.encode(tag))
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKey::new("short").is_err());
        assert!(TokenKey::new(SECRET).is_ok());
    }

    #[test]
    fn issued_token_has_exactly_the_contract_claims() {
        let key = TokenKey::new(SECRET).unwrap();
        let t = key.issue("alice", Roles::default(), now()).unwrap();
        let claims = claims_of(&t.token);
        let mut names: Vec<&str> = claims
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        names.sort();
        assert_eq!(names, ["exp", "iat", "jti", "member_id"]);
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            3600
        );
        assert_eq!(claims["jti"], t.jti.as_str());
        let v = key.verify(&t.token).unwrap();
        assert_eq!(
            (v.member_id.as_str(), v.revocation_id.as_str()),
            ("alice", t.jti.as_str())
        );
    }

    #[test]
    fn staff_and_admin_tokens_carry_their_roles() {
        let key = TokenKey::new(SECRET).unwrap();
        let roles = Roles {
            admin: true,
            staff: vec!["b1".into()],
        };
        let t = key.issue("alice", roles.clone(), now()).unwrap();
        assert_eq!(
            claims_of(&t.token)["roles"],
            serde_json::json!({"admin": true, "staff": ["b1"]})
        );
        assert_eq!(key.verify(&t.token).unwrap().roles, roles);
    }

    #[test]
    fn debug_hides_the_token() {
        let t = TokenKey::new(SECRET)
            .unwrap()
            .issue("alice", Roles::default(), now())
            .unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains(&t.token), "{shown}");
        assert!(
            !shown.contains(t.token.split('.').nth(2).unwrap()),
            "{shown}"
        );
    }

    #[test]
    fn expired_tokens_say_expired() {
        let key = TokenKey::new(SECRET).unwrap();
        let t = key
            .issue("alice", Roles::default(), now() - 2 * TOKEN_TTL_SECS)
            .unwrap();
        assert_eq!(key.verify(&t.token), Err(TokenError::Expired));
    }

    #[test]
    fn wrong_key_and_garbage_are_invalid() {
        let key = TokenKey::new(SECRET).unwrap();
        let other = TokenKey::new("another-secret-of-at-least-32-bytes!").unwrap();
        let t = other.issue("alice", Roles::default(), now()).unwrap();
        assert_eq!(key.verify(&t.token), Err(TokenError::Invalid));
        assert_eq!(key.verify("not.a.token"), Err(TokenError::Invalid));
    }

    #[test]
    fn alg_none_and_hs512_are_invalid() {
        let key = TokenKey::new(SECRET).unwrap();
        let payload = format!(r#"{{"member_id":"alice","exp":{},"jti":"x"}}"#, now() + 600);
        let none = format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            B64.encode(&payload)
        );
        assert_eq!(key.verify(&none), Err(TokenError::Invalid));
        let hs512 = sign_raw(r#"{"alg":"HS512","typ":"JWT"}"#, &payload, SECRET);
        assert_eq!(key.verify(&hs512), Err(TokenError::Invalid));
    }

    #[test]
    fn iat_exp_and_jti_are_required_and_the_lifetime_bounded() {
        let key = TokenKey::new(SECRET).unwrap();
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let no_exp = sign_raw(header, r#"{"member_id":"alice","jti":"x"}"#, SECRET);
        assert_eq!(key.verify(&no_exp), Err(TokenError::Invalid));
        let no_jti = sign_raw(
            header,
            &format!(r#"{{"member_id":"alice","exp":{}}}"#, now() + 600),
            SECRET,
        );
        assert_eq!(key.verify(&no_jti), Err(TokenError::Invalid));
        let no_iat = sign_raw(
            header,
            &format!(
                r#"{{"member_id":"alice","exp":{},"jti":"j1"}}"#,
                now() + 600
            ),
            SECRET,
        );
        assert_eq!(key.verify(&no_iat), Err(TokenError::Invalid));
        let too_long = sign_raw(
            header,
            &format!(
                r#"{{"member_id":"alice","iat":{},"exp":{},"jti":"j1"}}"#,
                now(),
                now() + 3601
            ),
            SECRET,
        );
        assert_eq!(key.verify(&too_long), Err(TokenError::Invalid));
        let good = sign_raw(
            header,
            &format!(
                r#"{{"member_id":"alice","iat":{},"exp":{},"jti":"j1"}}"#,
                now(),
                now() + 600
            ),
            SECRET,
        );
        let v = key.verify(&good).unwrap();
        assert_eq!(v.member_id, "alice");
        assert_eq!(v.revoke_until, now() + 600 + 120);
    }

    /// What the Django login's `_issue_token` signs (PyJWT, HS256).
    fn django_token(member: &str, iat: u64, ttl: u64) -> String {
        sign_raw(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &format!(
                r#"{{"member_id":"{member}","iat":{iat},"exp":{}}}"#,
                iat + ttl
            ),
            SECRET,
        )
    }

    #[test]
    fn django_tokens_only_in_coexistence() {
        let t = django_token("alice", now(), 3600);
        let strict = TokenKey::new(SECRET).unwrap();
        assert_eq!(strict.verify(&t), Err(TokenError::Invalid));
        let coexisting = TokenKey::new(SECRET).unwrap().accepting_django_tokens(true);
        let v = coexisting.verify(&t).unwrap();
        assert_eq!(v.member_id, "alice");
        assert!(v.revocation_id.starts_with("dj:"));
        assert!(v.revocation_id.len() <= 64);
        // Same member and iat: the same token, the same key; otherwise another.
        let again = coexisting.verify(&t).unwrap().revocation_id;
        assert_eq!(v.revocation_id, again);
        let other = coexisting
            .verify(&django_token("alice", now() - 1, 3600))
            .unwrap();
        assert_ne!(v.revocation_id, other.revocation_id);
    }

    #[test]
    fn django_tokens_need_iat_and_a_bounded_lifetime() {
        let key = TokenKey::new(SECRET).unwrap().accepting_django_tokens(true);
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let no_iat = sign_raw(
            header,
            &format!(r#"{{"member_id":"alice","exp":{}}}"#, now() + 600),
            SECRET,
        );
        assert_eq!(key.verify(&no_iat), Err(TokenError::Invalid));
        let forever = django_token("alice", now(), 10 * 365 * 86400);
        assert_eq!(key.verify(&forever), Err(TokenError::Invalid));
        let expired = django_token("alice", now() - 7200, 3600);
        assert_eq!(key.verify(&expired), Err(TokenError::Expired));
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }
}
