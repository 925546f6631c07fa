//! The rules for a new member, as plain functions.
//!
//! `orders.member_id` is `varchar(50)`, so ids longer than 50 characters could
//! never place an order; ids are limited to a safe character set so they can
//! appear in logs and URLs without escaping.

use crate::error::ApiError;

/// Longest member id (`orders.member_id` is varchar(50)).
pub const ID_MAX: usize = 50;
/// Longest display name (`member.member_nm` is varchar(100)).
pub const NAME_MAX: usize = 100;
/// Password length bounds, in characters.
pub const PASSWORD_MIN: usize = 8;
/// Longest password: argon2 cost must not be attacker-controlled.
pub const PASSWORD_MAX: usize = 128;

/// A registration that passed validation. Its `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct NewMember<'a> {
    /// The login id, stored as `member.member_id`.
    pub id: &'a str,
    /// The plaintext password, to be hashed.
    pub password: &'a str,
    /// The display name, stored as `member.member_nm`.
    pub name: &'a str,
}

impl std::fmt::Debug for NewMember<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMember")
            .field("id", &self.id)
            .field("password", &"[REDACTED]")
            .field("name", &self.name)
            .finish()
    }
}

/// Checks a registration; each failure is a 400 that names the field.
pub fn validate<'a>(
    id: &'a str,
    password: &'a str,
    name: &'a str,
) -> Result<NewMember<'a>, ApiError> {
    let id_len = id.chars().count();
    if id_len == 0 || id_len > ID_MAX {
        return Err(ApiError::bad_request(format!(
            "`id` must be 1 to {ID_MAX} characters"
        )));
    }
    if !id.chars().all(is_id_char) {
        return Err(ApiError::bad_request(
            "`id` may contain only letters, digits and . _ @ -",
        ));
    }
    let name_len = name.chars().count();
    if name.trim().is_empty() || name_len > NAME_MAX {
        return Err(ApiError::bad_request(format!(
            "`name` must be 1 to {NAME_MAX} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "`name` must not contain control characters",
        ));
    }
    let pw_len = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&pw_len) {
        return Err(ApiError::bad_request(format!(
            "`pw` must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        )));
    }
    Ok(NewMember { id, password, name })
}

/// Whether a login id could exist at all (cheap pre-check before the database).
pub fn plausible_id(id: &str) -> bool {
    let len = id.chars().count();
    (1..=100).contains(&len)
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_normal_member() {
        assert!(validate("alice_01", "correct horse", "Alice").is_ok());
        assert!(validate(&"a".repeat(50), &"p".repeat(128), &"홍".repeat(100)).is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!(
            "{:?}",
            validate("alice", "hunter2-hunter2", "Alice").unwrap()
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("alice") && shown.contains("[REDACTED]"),
            "{shown}"
        );
    }

    #[test]
    fn id_rules() {
        assert_eq!(validate("", "password1", "A").unwrap_err().status, 400);
        assert!(validate(&"a".repeat(51), "password1", "A").is_err());
        assert!(validate("a b", "password1", "A").is_err());
        assert!(validate("x'; DROP TABLE member;--", "password1", "A").is_err());
    }

    #[test]
    fn name_and_password_rules() {
        assert!(validate("bob", "password1", "").is_err());
        assert!(validate("bob", "password1", &"n".repeat(101)).is_err());
        assert!(validate("bob", "password1", "a\u{0}b").is_err());
        assert!(validate("bob", "short", "Bob").is_err());
        assert!(validate("bob", &"p".repeat(129), "Bob").is_err());
    }
}
