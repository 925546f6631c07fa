//! Password hashing and verification.
//!
//! Hashes are written in one of two formats, chosen by [`WriteFormat`]:
//! - argon2id with the OWASP parameters (19 MiB, 2 passes, 1 lane), our own;
//! - Django's `scrypt$…`, while the Django services still share the database
//!   (coexistence mode), so that a member who logged in here still logs in there.
//!
//! Every stored format Django can write is verified (see [`django`]), and so is
//! bcrypt from the plaintext migration (`$2a$`/`$2b$`/`$2y$`). A match in any
//! format other than the one being written reports `upgrade`, so the login
//! rewrites it. Anything else (a plaintext value, Django's unusable `!…`) never
//! matches. Every path costs at least one argon2id computation, so timing does
//! not tell a legacy or unusable hash from a current one or from no member.

pub mod django;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
fn argon2id() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The format new and upgraded hashes are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFormat {
    /// Our own: argon2id PHC strings. Django cannot verify them.
    Argon2id,
    /// Django's `ScryptPasswordHasher` encoding, which an unmodified Django 4+
    /// project verifies with no extra package: coexistence mode.
    DjangoScrypt,
}

impl WriteFormat {
    /// The format for a deployment with Django coexistence on or off.
    pub fn for_coexistence(django_coexistence: bool) -> WriteFormat {
        if django_coexistence {
            WriteFormat::DjangoScrypt
        } else {
            WriteFormat::Argon2id
        }
    }

    /// Whether `stored` is already this format with its current parameters.
    fn is_current(self, stored: &str) -> bool {
        match self {
            WriteFormat::Argon2id => is_current_argon2id(stored),
            WriteFormat::DjangoScrypt => django::is_current_scrypt(stored),
        }
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password is right; `upgrade` says the stored hash should be replaced by [`hash`]'s.
    Match {
        /// The stored hash is not the format being written, with its current parameters.
        upgrade: bool,
    },
    /// Wrong password, or a stored value that is not a hash this service knows.
    NoMatch,
}

/// Hashes a new password in `format`. Both fit `member.member_pwd`
/// (argon2id about 97 characters, Django scrypt 128).
pub fn hash(password: &str, format: WriteFormat) -> anyhow::Result<String> {
    match format {
        WriteFormat::Argon2id => {
            let salt = SaltString::encode_b64(&random_bytes::<16>()?)
                .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
            let phc = argon2id()
                .hash_password(password.as_bytes(), &salt)
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
            Ok(phc.to_string())
        }
        WriteFormat::DjangoScrypt => django::encode_scrypt(password, &django_salt()?),
    }
}

/// Checks `password` against a stored hash of any supported format; a match
/// asks for an upgrade unless the hash is already `format`, current.
pub fn verify(password: &str, stored: &str, format: WriteFormat) -> Verdict {
    let matched = if stored.starts_with("$argon2") {
        verify_argon2_phc(password, stored)
    } else {
        let matched = if django::is_django_format(stored) {
            django::verify(password, stored)
        } else if ["$2a$", "$2b$", "$2y$"]
            .iter()
            .any(|p| stored.starts_with(p))
        {
            bcrypt::verify(password, stored).unwrap_or(false)
        } else {
            false
        };
        waste_verification_time(password);
        matched
    };
    if matched {
        Verdict::Match {
            upgrade: !format.is_current(stored),
        }
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

/// Most argon2 memory (KiB) a stored hash may ask for (Django's default is
/// 102,400): it comes from the database, but a login must not exhaust an
/// instance. The login SpinApp's `invocationLimits` leave room for it.
const ARGON2_MAX_KIB: u32 = 128 * 1024;

/// A PHC argon2 string, ours or inside Django's `argon2$` (any variant, with
/// the parameters it names, within bounds).
fn verify_argon2_phc(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let within_bounds = Params::try_from(&parsed)
        .is_ok_and(|p| p.m_cost() <= ARGON2_MAX_KIB && p.t_cost() <= 16 && p.p_cost() <= 16);
    within_bounds
        && argon2id()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
}

/// argon2id with exactly the OWASP parameters [`hash`] writes.
fn is_current_argon2id(stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        parsed.algorithm.as_str() == "argon2id"
            && Params::try_from(&parsed)
                .is_ok_and(|p| p.m_cost() == 19 * 1024 && p.t_cost() == 2 && p.p_cost() == 1)
    })
}

fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes)
}

/// A salt as Django's `get_random_string(22)` makes one: 22 of `[A-Za-z0-9]`
/// (about 131 bits), drawn without modulo bias.
fn django_salt() -> anyhow::Result<String> {
    const ALPHABET: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut salt = String::with_capacity(22);
    while salt.len() < 22 {
        for byte in random_bytes::<32>()? {
            if byte < 248 && salt.len() < 22 {
                salt.push(ALPHABET[usize::from(byte % 62)] as char);
            }
        }
    }
    Ok(salt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use WriteFormat::{Argon2id, DjangoScrypt};

    /// Django 5.2.5's `make_password("correct horse", "saltsaltsalt", "pbkdf2_sha256")`
    /// with 1000 iterations.
    const DJANGO_HASH: &str =
        "pbkdf2_sha256$1000$saltsaltsalt$F7o7+5VTVzFAO998X6s3AHrDsJVdMiIlgndIMe19NvY=";

    #[test]
    fn argon2id_round_trip_with_owasp_parameters() {
        let h = hash("correct horse", Argon2id).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(h.len() <= 100, "must fit varchar(100): {}", h.len());
        assert_eq!(
            verify("correct horse", &h, Argon2id),
            Verdict::Match { upgrade: false }
        );
        assert_eq!(verify("wrong", &h, Argon2id), Verdict::NoMatch);
        // In coexistence, our own format is rewritten into one Django reads.
        assert_eq!(
            verify("correct horse", &h, DjangoScrypt),
            Verdict::Match { upgrade: true }
        );
    }

    #[test]
    fn django_scrypt_round_trip_for_coexistence() {
        let h = hash("correct horse", DjangoScrypt).unwrap();
        assert!(h.starts_with("scrypt$16384$"), "{h}");
        assert_eq!(h.len(), 128, "fits member_pwd varchar(128)");
        assert_eq!(
            verify("correct horse", &h, DjangoScrypt),
            Verdict::Match { upgrade: false }
        );
        assert_eq!(
            verify("correct horse", &h, Argon2id),
            Verdict::Match { upgrade: true }
        );
        assert_eq!(verify("wrong", &h, DjangoScrypt), Verdict::NoMatch);
        let salt = &h["scrypt$16384$".len()..][..22];
        assert!(salt.bytes().all(|b| b.is_ascii_alphanumeric()), "{salt}");
        assert_ne!(h, hash("correct horse", DjangoScrypt).unwrap());
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
        assert_eq!(
            verify("pw-pw-pw-pw", &h, Argon2id),
            Verdict::Match { upgrade: true }
        );
    }

    #[test]
    fn django_pbkdf2_matches_and_asks_for_upgrade_in_both_modes() {
        for format in [Argon2id, DjangoScrypt] {
            assert_eq!(
                verify("correct horse", DJANGO_HASH, format),
                Verdict::Match { upgrade: true }
            );
            assert_eq!(
                verify("correct horsE", DJANGO_HASH, format),
                Verdict::NoMatch
            );
        }
    }

    #[test]
    fn bcrypt_from_pgcrypto_matches_and_asks_for_upgrade() {
        let h = bcrypt::hash_with_salt("test_password123", 4, *b"0123456789abcdef")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert_eq!(
            verify("test_password123", &h, Argon2id),
            Verdict::Match { upgrade: true }
        );
        assert_eq!(verify("test_password124", &h, Argon2id), Verdict::NoMatch);
    }

    #[test]
    fn plaintext_and_unusable_values_never_match() {
        for format in [Argon2id, DjangoScrypt] {
            assert_eq!(
                verify("hashed_password_123", "hashed_password_123", format),
                Verdict::NoMatch
            );
            assert_eq!(verify("", "", format), Verdict::NoMatch);
            assert_eq!(verify("!abc", "!abc", format), Verdict::NoMatch);
            assert_eq!(verify("x", "unknown$x$y", format), Verdict::NoMatch);
        }
    }
}
