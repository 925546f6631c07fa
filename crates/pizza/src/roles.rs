//! What a member may do beyond ordering: run the kitchen of some branches
//! (`staff`), or the whole shop (`admin`).
//!
//! Roles live in `member_role`. The login service reads them into the token
//! it issues (the `roles` claim, left out for plain members so their tokens
//! keep exactly the contract's claims), so a change takes effect at the next
//! login; every request is still checked against the revocation list.

use crate::error::ApiError;
use serde::{Deserialize, Serialize};

/// A token's roles; every account is a member, so that one is implicit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    /// Runs the whole shop: every branch's kitchen, the menu, the branches
    /// and who is staff.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
    /// The branches whose kitchen this member works in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staff: Vec<String>,
}

impl Roles {
    /// Whether these are a plain member's (no claim is written for them).
    pub fn is_member_only(&self) -> bool {
        !self.admin && self.staff.is_empty()
    }

    /// Whether they may run `branch`'s kitchen: its staff, or an admin.
    pub fn runs_branch(&self, branch: &str) -> bool {
        self.admin || self.staff.iter().any(|b| b == branch)
    }

    /// Ok if they may run some kitchen, else 403.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        if self.admin || !self.staff.is_empty() {
            Ok(())
        } else {
            Err(ApiError::forbidden("staff only"))
        }
    }

    /// Ok if they may run `branch`'s kitchen, else 403 naming it.
    pub fn require_branch(&self, branch: &str) -> Result<(), ApiError> {
        if self.runs_branch(branch) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "not staff of branch {branch:?}"
            )))
        }
    }

    /// Ok for an admin, else 403.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("admins only"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(branches: &[&str]) -> Roles {
        Roles {
            admin: false,
            staff: branches.iter().map(|b| b.to_string()).collect(),
        }
    }

    #[test]
    fn each_role_reaches_what_it_should() {
        let member = Roles::default();
        let cook = staff(&["b1"]);
        let admin = Roles {
            admin: true,
            staff: vec![],
        };
        assert_eq!(member.require_staff().unwrap_err().status, 403);
        assert_eq!(member.require_branch("b1").unwrap_err().status, 403);
        assert!(cook.require_staff().is_ok() && cook.require_branch("b1").is_ok());
        let other = cook.require_branch("b2").unwrap_err();
        assert_eq!(
            (other.status, other.detail.as_str()),
            (403, "not staff of branch \"b2\"")
        );
        assert_eq!(cook.require_admin().unwrap_err().status, 403);
        assert!(admin.require_staff().is_ok() && admin.require_branch("any").is_ok());
        assert!(admin.require_admin().is_ok());
    }

    #[test]
    fn a_members_roles_serialise_to_nothing() {
        assert_eq!(serde_json::to_string(&Roles::default()).unwrap(), "{}");
        assert_eq!(
            serde_json::to_string(&staff(&["b1"])).unwrap(),
            r#"{"staff":["b1"]}"#
        );
        let parsed: Roles = serde_json::from_str("{}").unwrap();
        assert!(parsed.is_member_only());
    }
}
