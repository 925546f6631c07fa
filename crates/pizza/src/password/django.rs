//! Django's password hash formats, as `django.contrib.auth.hashers` writes them.
//!
//! The shop's Django services share the `member` table with us while the
//! migration runs, so our login must check every format Django can have
//! written there, and, in coexistence mode, write one that Django checks too.
//! Each format is `<algorithm>$<fields…>`:
//!
//! | algorithm | fields | Django hasher |
//! | --- | --- | --- |
//! | `pbkdf2_sha256` | iterations, salt, base64 of 32 bytes | `PBKDF2PasswordHasher` (the default) |
//! | `pbkdf2_sha1` | iterations, salt, base64 of 20 bytes | `PBKDF2SHA1PasswordHasher` |
//! | `argon2` | the rest is an argon2 PHC string (`argon2id$v=19$m=…`) | `Argon2PasswordHasher` |
//! | `bcrypt_sha256` | a bcrypt hash of the hex SHA-256 of the password | `BCryptSHA256PasswordHasher` |
//! | `bcrypt` | a bcrypt hash of the password | `BCryptPasswordHasher` |
//! | `scrypt` | n, salt, r, p, base64 of 64 bytes | `ScryptPasswordHasher` |
//! | `md5` | salt, hex MD5 of salt + password | `MD5PasswordHasher` (very old rows) |
//!
//! A Django project without `argon2-cffi` or `bcrypt` installed (the shop's
//! services have neither) verifies only the PBKDF2 and scrypt formats, so
//! [`encode_scrypt`] is what coexistence writes.

use crate::constant_time;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::Digest;

/// Django's scrypt work factor (`ScryptPasswordHasher.work_factor`, 2^14).
pub const SCRYPT_N: u32 = 1 << 14;
/// Django's scrypt block size (`block_size`).
pub const SCRYPT_R: u32 = 8;
/// Django's scrypt parallelism (`parallelism`; 5 since Django 4.2, with n = 2^14 and r = 8
/// the OWASP minimum for scrypt).
pub const SCRYPT_P: u32 = 5;
/// Django's scrypt key length (`dklen`).
const SCRYPT_LEN: usize = 64;
/// Most scrypt memory (128 · r · n bytes) a stored hash may ask for: it comes
/// from the database, but a login must never be able to exhaust an instance.
const SCRYPT_MAX_MEMORY: u64 = 64 << 20;
/// Most PBKDF2 iterations accepted; Django's default is 1,000,000.
const PBKDF2_MAX_ITERATIONS: u32 = 10_000_000;

/// Whether `stored` is written in one of Django's formats (a known algorithm prefix).
pub fn is_django_format(stored: &str) -> bool {
    stored
        .split_once('$')
        .is_some_and(|(algorithm, _)| ALGORITHMS.contains(&algorithm))
}

const ALGORITHMS: [&str; 7] = [
    "pbkdf2_sha256",
    "pbkdf2_sha1",
    "argon2",
    "bcrypt_sha256",
    "bcrypt",
    "scrypt",
    "md5",
];

/// Checks `password` against a Django-format `stored` hash; `false` for a
/// wrong password and for malformed or out-of-bounds parameters alike.
pub fn verify(password: &str, stored: &str) -> bool {
    let Some((algorithm, rest)) = stored.split_once('$') else {
        return false;
    };
    match algorithm {
        "pbkdf2_sha256" => verify_pbkdf2(password, rest, PBKDF2_SHA256),
        "pbkdf2_sha1" => verify_pbkdf2(password, rest, PBKDF2_SHA1),
        "argon2" => super::verify_argon2_phc(password, &format!("${rest}")),
        "bcrypt_sha256" => {
            let digest = crate::hex::encode(&sha2::Sha256::digest(password.as_bytes()));
            bcrypt::verify(digest, rest).unwrap_or(false)
        }
        "bcrypt" => bcrypt::verify(password, rest).unwrap_or(false),
        "scrypt" => verify_scrypt(password, rest),
        "md5" => verify_md5(password, rest),
        _ => false,
    }
}

/// Django's `ScryptPasswordHasher` encoding of `password` with Django's own
/// parameters and a 22-character alphanumeric salt, as `make_password` would
/// write it (128 characters).
pub fn encode_scrypt(password: &str, salt: &str) -> anyhow::Result<String> {
    let hash = scrypt_hash(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        .ok_or_else(|| anyhow::anyhow!("scrypt parameters refused"))?;
    Ok(format!(
        "scrypt${SCRYPT_N}${salt}${SCRYPT_R}${SCRYPT_P}${}",
        B64.encode(hash)
    ))
}

/// Whether a Django scrypt hash uses exactly Django's current parameters
/// (anything else is rewritten at the next successful login).
pub fn is_current_scrypt(stored: &str) -> bool {
    let Some(rest) = stored.strip_prefix("scrypt$") else {
        return false;
    };
    let fields: Vec<&str> = rest.split('$').collect();
    matches!(
        fields.as_slice(),
        [n, _salt, r, p, _hash]
            if *n == SCRYPT_N.to_string() && *r == SCRYPT_R.to_string() && *p == SCRYPT_P.to_string()
    )
}

/// A PBKDF2-HMAC function of one hash, and that hash's output length.
type Pbkdf2 = (fn(&[u8], &[u8], u32, &mut [u8]), usize);
const PBKDF2_SHA256: Pbkdf2 = (pbkdf2::pbkdf2_hmac::<sha2::Sha256>, 32);
const PBKDF2_SHA1: Pbkdf2 = (pbkdf2::pbkdf2_hmac::<sha1::Sha1>, 20);

/// `<iterations>$<salt>$<base64 digest>`; the digest is as long as the hash's output.
fn verify_pbkdf2(password: &str, rest: &str, (derive, len): Pbkdf2) -> bool {
    let Some([iterations, salt, expected]) = split_fields::<3>(rest) else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    let Ok(expected) = B64.decode(expected) else {
        return false;
    };
    if iterations == 0 || iterations > PBKDF2_MAX_ITERATIONS || expected.len() != len {
        return false;
    }
    let mut actual = vec![0u8; len];
    derive(
        password.as_bytes(),
        salt.as_bytes(),
        iterations,
        &mut actual,
    );
    constant_time::eq(&actual, &expected)
}

/// `<n>$<salt>$<r>$<p>$<base64 of 64 bytes>`.
fn verify_scrypt(password: &str, rest: &str) -> bool {
    let Some([n, salt, r, p, expected]) = split_fields::<5>(rest) else {
        return false;
    };
    let (Ok(n), Ok(r), Ok(p)) = (n.parse::<u32>(), r.parse::<u32>(), p.parse::<u32>()) else {
        return false;
    };
    let Ok(expected) = B64.decode(expected) else {
        return false;
    };
    if expected.len() != SCRYPT_LEN {
        return false;
    }
    scrypt_hash(password, salt, n, r, p).is_some_and(|actual| constant_time::eq(&actual, &expected))
}

/// Django's `hashlib.scrypt(..., dklen=64)`, or `None` for parameters out of bounds.
fn scrypt_hash(password: &str, salt: &str, n: u32, r: u32, p: u32) -> Option<[u8; SCRYPT_LEN]> {
    if !n.is_power_of_two() || n < 2 || r == 0 || p == 0 || p > 16 {
        return None;
    }
    if 128 * u64::from(r) * u64::from(n) > SCRYPT_MAX_MEMORY {
        return None;
    }
    let params = scrypt::Params::new(n.ilog2() as u8, r, p, SCRYPT_LEN).ok()?;
    let mut out = [0u8; SCRYPT_LEN];
    scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut out).ok()?;
    Some(out)
}

/// `<salt>$<hex MD5 of salt + password>`.
fn verify_md5(password: &str, rest: &str) -> bool {
    let Some([salt, expected]) = split_fields::<2>(rest) else {
        return false;
    };
    let mut md5 = md5::Md5::new();
    md5.update(salt.as_bytes());
    md5.update(password.as_bytes());
    constant_time::eq(
        crate::hex::encode(&md5.finalize()).as_bytes(),
        expected.as_bytes(),
    )
}

/// Exactly `N` `$`-separated fields.
fn split_fields<const N: usize>(rest: &str) -> Option<[&str; N]> {
    let fields: Vec<&str> = rest.split('$').collect();
    fields.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every constant below was written by Django 5.2.5 itself (`make_password("correct horse",
    // salt, hasher)`, or the hasher's `encode` for non-default parameters).

    #[test]
    fn pbkdf2_sha256_as_django_writes_it() {
        let h = "pbkdf2_sha256$1000$saltsaltsalt$F7o7+5VTVzFAO998X6s3AHrDsJVdMiIlgndIMe19NvY=";
        assert!(verify("correct horse", h));
        assert!(!verify("correct horsE", h));
        assert!(!verify("x", "pbkdf2_sha256$0$s$AAAA"));
        assert!(!verify("x", "pbkdf2_sha256$abc"));
    }

    #[test]
    fn pbkdf2_sha1_as_django_writes_it() {
        let h = DJANGO_PBKDF2_SHA1;
        assert!(verify("correct horse", h), "{h}");
        assert!(!verify("correct horsE", h));
    }

    #[test]
    fn scrypt_round_trip_in_django_form() {
        let h = encode_scrypt("correct horse", "abcdefghijklmnopqrstuv").unwrap();
        assert!(
            h.starts_with("scrypt$16384$abcdefghijklmnopqrstuv$8$5$"),
            "{h}"
        );
        assert_eq!(h.len(), 128);
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsE", &h));
        assert!(is_current_scrypt(&h));
        assert_eq!(h, SCRYPT);
    }

    #[test]
    fn scrypt_parameters_are_bounded() {
        let absurd = SCRYPT.replacen("16384", "1048576", 1);
        assert!(!verify("correct horse", &absurd));
        assert!(!is_current_scrypt(&absurd));
        let not_power_of_two = SCRYPT.replacen("16384", "16383", 1);
        assert!(!verify("correct horse", &not_power_of_two));
    }

    #[test]
    fn md5_as_django_writes_it() {
        assert!(verify("correct horse", MD5));
        assert!(!verify("correct horsE", MD5));
    }

    #[test]
    fn bcrypt_variants_as_django_writes_them() {
        let plain = bcrypt::hash_with_salt("correct horse", 4, *b"0123456789abcdef")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        assert!(verify("correct horse", &format!("bcrypt${plain}")));
        let digest = crate::hex::encode(&sha2::Sha256::digest(b"correct horse"));
        let sha = bcrypt::hash_with_salt(digest, 4, *b"0123456789abcdef")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        let stored = format!("bcrypt_sha256${sha}");
        assert!(verify("correct horse", &stored));
        assert!(!verify("correct horsE", &stored));
        // The raw password against the sha256 variant must not match.
        assert!(!verify("correct horse", &format!("bcrypt_sha256${plain}")));
        assert!(verify("correct horse", BCRYPT_SHA256));
        assert!(!verify("correct horsE", BCRYPT_SHA256));
    }

    #[test]
    fn argon2_as_django_writes_it() {
        assert!(verify("correct horse", ARGON2));
        assert!(!verify("correct horsE", ARGON2));
        assert!(is_django_format(ARGON2));
        assert!(!is_django_format("$argon2id$v=19$m=19456,t=2,p=1$x$y"));
        assert!(!is_django_format("plaintext"));
    }

    /// `PBKDF2SHA1PasswordHasher` with 1000 iterations and salt `saltsaltsalt`.
    const DJANGO_PBKDF2_SHA1: &str = "pbkdf2_sha1$1000$saltsaltsalt$JfNU29qvQkW1UgahO6OQ0oP6O0I=";
    /// `ScryptPasswordHasher` with salt `abcdefghijklmnopqrstuv`.
    const SCRYPT: &str = "scrypt$16384$abcdefghijklmnopqrstuv$8$5$2CyFzwiSp10903TARkWJsyfC9Q3aeX0RvkHqKxHNeBplPnTz1lYfWZu5pEy7/A6r1KH53voY5f8NgFIZC1gWWA==";
    /// `MD5PasswordHasher` with salt `saltsalt`.
    const MD5: &str = "md5$saltsalt$7e3b0a3cecf4048076a11fab6ee901ba";
    /// `BCryptSHA256PasswordHasher` with its default 12 rounds.
    const BCRYPT_SHA256: &str =
        "bcrypt_sha256$$2b$12$ziYTf7wZwuC8oD9TRMuTDuYLP7BruaN2VxQOv.5B8x1UbblhYeA3S";
    /// `Argon2PasswordHasher` (argon2-cffi) with m = 1024, t = 1, p = 2.
    const ARGON2: &str = "argon2$argon2id$v=19$m=1024,t=1,p=2$c2FsdHNhbHRzYWx0c2FsdA$ogPFaq73C3RJT9VKwSNSJ1t7EFBkJpYDRBg1x72XG+A";
}
