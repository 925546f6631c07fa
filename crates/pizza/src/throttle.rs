//! How often a client may try to log in or register, as plain rules.
//!
//! Attempts are counted before the password is checked (see
//! [`crate::store::login::reserve_login`]), so parallel guesses cannot slip
//! past a limit. Within [`WINDOW`]:
//! - one member id from one client address gets [`PAIR_LIMIT`] password
//!   checks, then 429: the brute-force limit;
//! - one client address gets [`ADDRESS_LIMIT`] failed logins, whatever the
//!   ids, then 429: against spraying many ids;
//! - one member id gets [`ID_SOFT_LIMIT`] attempts from all addresses before
//!   wrong passwords get 429 instead of 401; the right password still logs
//!   in, so strangers cannot lock a member out.
//!
//! And one client address may register [`REGISTER_LIMIT`] members per
//! [`REGISTER_WINDOW`].

/// The login window, as PostgreSQL interval text.
pub const WINDOW: &str = "15 minutes";
/// Password checks per member id and client address within [`WINDOW`].
pub const PAIR_LIMIT: i64 = 5;
/// Failed logins per client address within [`WINDOW`].
pub const ADDRESS_LIMIT: i64 = 50;
/// Attempts per member id, from anywhere, before the soft lock within [`WINDOW`].
pub const ID_SOFT_LIMIT: i64 = 20;
/// The registration window, as PostgreSQL interval text.
pub const REGISTER_WINDOW: &str = "1 hour";
/// Registrations per client address within [`REGISTER_WINDOW`].
pub const REGISTER_LIMIT: i64 = 20;

/// The counts of a login attempt, this one included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempts {
    /// Attempts for this member id from this client address.
    pub pair: i64,
    /// Attempts for this member id from anywhere.
    pub id: i64,
    /// Failed (or still running) logins from this client address.
    pub address: i64,
    /// Seconds until the oldest of these windows ends.
    pub retry_after: u64,
}

/// What a login attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Check the password. Under the soft lock a wrong one gets 429, not 401.
    Check {
        /// The member id is over [`ID_SOFT_LIMIT`].
        soft_locked: bool,
    },
    /// 429 without checking anything.
    Refuse,
}

impl LoginAttempts {
    /// The rule for these counts.
    pub fn gate(&self) -> Gate {
        if self.pair > PAIR_LIMIT || self.address > ADDRESS_LIMIT {
            Gate::Refuse
        } else {
            Gate::Check {
                soft_locked: self.id > ID_SOFT_LIMIT,
            }
        }
    }
}

/// Whether a registration, the `attempts`-th from its address in the window, is refused.
pub fn registration_refused(attempts: i64) -> bool {
    attempts > REGISTER_LIMIT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempts(pair: i64, id: i64, address: i64) -> LoginAttempts {
        LoginAttempts {
            pair,
            id,
            address,
            retry_after: 1,
        }
    }

    #[test]
    fn the_pair_and_the_address_are_hard_limits() {
        assert_eq!(attempts(5, 5, 5).gate(), Gate::Check { soft_locked: false });
        assert_eq!(attempts(6, 6, 6).gate(), Gate::Refuse);
        assert_eq!(attempts(1, 1, 51).gate(), Gate::Refuse);
    }

    #[test]
    fn the_id_alone_is_a_soft_lock() {
        assert_eq!(attempts(1, 21, 1).gate(), Gate::Check { soft_locked: true });
        assert_eq!(
            attempts(1, 20, 1).gate(),
            Gate::Check { soft_locked: false }
        );
    }

    #[test]
    fn twenty_registrations_per_address() {
        assert!(!registration_refused(20));
        assert!(registration_refused(21));
    }
}
