//! Password hashing and verification.
//!
//! New hashes are argon2id with the OWASP parameters (19 MiB, 2 passes, 1 lane).
//! Stored hashes from earlier systems are verified too, and reported as needing
//! an upgrade so that a successful login rehashes them:
//! - `pbkdf2_sha256$<iterations>$<salt>$<base64>`: the Django login service;
//! - `$2a$`/`$2b$`/`$2y$` bcrypt: plaintext rows that the migration hashed
//!   with pgcrypto.
//!
//! Anything else (including a plaintext value) never matches.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
fn argon2id() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password is right; `upgrade` says the stored hash should be replaced by [`hash`]'s.
    Match {
        /// The stored hash is not argon2id with the current parameters.
        upgrade: bool,
    },
    /// Wrong password, or a stored value that is not a hash this service knows.
    NoMatch,
}

/// Hashes a new password as an argon2id PHC string (about 97 characters, so it
/// fits the legacy `varchar(100)` column).
pub fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let phc = argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(phc.to_string())
}

/// Checks `password` against a stored hash of any supported format.
pub fn verify(password: &str, stored: &str) -> Verdict {
    let matched = if stored.starts_with("$argon2") {
        return verify_argon2(password, stored);
    } else if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        verify_django_pbkdf2(password, rest)
    } else if ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| stored.starts_with(p))
    {
        bcrypt::verify(password, stored).unwrap_or(false)
    } else {
        false
    };
    if matched {
        Verdict::Match { upgrade: true }
    } else {
        Verdict::NoMatch
    }
}

/// Spends the time of one argon2id verification without checking anything,
/// so that an unknown member costs as long to refuse as a wrong password.
pub fn waste_verification_time(password: &str) {
    let mut out = [0u8; 32];
    let _ = argon2id().hash_password_into(password.as_bytes(), b"equal-time-salt!", &mut out);
}

fn verify_argon2(password: &str, stored: &str) -> Verdict {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verdict::NoMatch;
    };
    if argon2id()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verdict::NoMatch;
    }
    let current = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(&parsed)
            .is_ok_and(|p| p.m_cost() == 19 * 1024 && p.t_cost() == 2 && p.p_cost() == 1);
    Verdict::Match { upgrade: !current }
}

/// Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 digest>` (after the prefix).
fn verify_django_pbkdf2(password: &str, rest: &str) -> bool {
    let mut parts = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(expected)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    // Django has never used more than a few million; refuse absurd counts.
    if iterations == 0 || iterations > 10_000_000 {
        return false;
    }
    let Ok(expected) = B64.decode(expected) else {
        return false;
    };
    if expected.len() != 32 {
        return false;
    }
    let mut actual = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        password.as_bytes(),
        salt.as_bytes(),
        iterations,
        &mut actual,
    );
    actual
        .iter()
        .zip(&expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `make_password("correct horse", salt="saltsaltsalt", hasher=PBKDF2PasswordHasher)`
    /// with 1000 iterations, computed independently with Python's hashlib.
    const DJANGO_HASH: &str =
        "pbkdf2_sha256$1000$saltsaltsalt$F7o7+5VTVzFAO998X6s3AHrDsJVdMiIlgndIMe19NvY=";

    #[test]
    fn argon2id_round_trip_with_owasp_parameters() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(h.len() <= 100, "must fit varchar(100): {}", h.len());
        assert_eq!(
            verify("correct horse", &h),
            Verdict::Match { upgrade: false }
        );
        assert_eq!(verify("wrong", &h), Verdict::NoMatch);
    }

    #[test]
    fn weaker_argon2_matches_but_asks_for_upgrade() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let h = weak
            .hash_password(b"pw-pw-pw-pw", &salt)
            .unwrap()
            .to_string();
        assert_eq!(verify("pw-pw-pw-pw", &h), Verdict::Match { upgrade: true });
    }

    #[test]
    fn django_pbkdf2_matches_and_asks_for_upgrade() {
        assert_eq!(
            verify("correct horse", DJANGO_HASH),
            Verdict::Match { upgrade: true }
        );
        assert_eq!(verify("correct horsE", DJANGO_HASH), Verdict::NoMatch);
        assert_eq!(verify("x", "pbkdf2_sha256$0$s$AAAA"), Verdict::NoMatch);
        assert_eq!(verify("x", "pbkdf2_sha256$abc"), Verdict::NoMatch);
    }

    #[test]
    fn bcrypt_from_pgcrypto_matches_and_asks_for_upgrade() {
        let h = bcrypt::hash_with_salt("test_password123", 4, *b"0123456789abcdef")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert_eq!(
            verify("test_password123", &h),
            Verdict::Match { upgrade: true }
        );
        assert_eq!(verify("test_password124", &h), Verdict::NoMatch);
    }

    #[test]
    fn plaintext_and_unusable_values_never_match() {
        assert_eq!(
            verify("hashed_password_123", "hashed_password_123"),
            Verdict::NoMatch
        );
        assert_eq!(verify("", ""), Verdict::NoMatch);
        assert_eq!(verify("!abc", "!abc"), Verdict::NoMatch);
    }
}
