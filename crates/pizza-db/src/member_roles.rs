//! Granting and revoking the roles members hold beyond `member` (`staff` of a
//! branch, `admin`) from the command line. This is how the shop gets its
//! first admin: no HTTP call can make one, and no account or password is
//! created here. The member registers as anyone does; the grant takes effect
//! at their next login, when the token is issued with it.

use anyhow::{Context, bail};
use postgres::Client;

/// A role beyond `member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberRole {
    /// Runs the whole shop.
    Admin,
    /// Works in this branch's kitchen.
    Staff {
        /// The branch's id.
        branch: String,
    },
}

impl MemberRole {
    fn columns(&self) -> (&'static str, &str) {
        match self {
            MemberRole::Admin => ("admin", ""),
            MemberRole::Staff { branch } => ("staff", branch),
        }
    }
}

impl std::fmt::Display for MemberRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemberRole::Admin => f.write_str("admin"),
            MemberRole::Staff { branch } => write!(f, "staff of branch {branch:?}"),
        }
    }
}

/// What granting found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granted {
    /// The member holds the role now.
    New,
    /// They held it already; nothing changed.
    Already,
}

/// Gives `member` the role, recording the tool as granter. The member (and
/// for staff the branch) must exist.
pub fn grant_role(client: &mut Client, member: &str, role: &MemberRole) -> anyhow::Result<Granted> {
    let (name, branch) = role.columns();
    let row = client
        .query_one(
            "WITH target AS (
                 SELECT m.member_id FROM member m
                 WHERE m.member_id = $1
                   AND ($2 = 'admin' OR EXISTS (SELECT 1 FROM branch b WHERE b.bran_id = $3))
             ),
             granted AS (
                 INSERT INTO member_role (member_id, role, bran_id, granted_by)
                 SELECT t.member_id, $2, $3, 'pizza-db'
                 FROM target t
                 ON CONFLICT DO NOTHING
                 RETURNING 1
             )
             SELECT EXISTS (SELECT 1 FROM member WHERE member_id = $1) AS member_found,
                    EXISTS (SELECT 1 FROM target) AS target_found,
                    EXISTS (SELECT 1 FROM granted) AS granted",
            &[&member, &name, &branch],
        )
        .context("granting the role")?;
    if !row.get::<_, bool>("member_found") {
        bail!("no member {member:?}: they register first, then are granted the role");
    }
    if !row.get::<_, bool>("target_found") {
        bail!("no branch {branch:?}");
    }
    Ok(if row.get("granted") {
        Granted::New
    } else {
        Granted::Already
    })
}

/// Takes the role from `member`; whether they held it.
pub fn revoke_role(client: &mut Client, member: &str, role: &MemberRole) -> anyhow::Result<bool> {
    let (name, branch) = role.columns();
    let removed = client
        .execute(
            "DELETE FROM member_role WHERE member_id = $1 AND role = $2 AND bran_id = $3",
            &[&member, &name, &branch],
        )
        .context("revoking the role")?;
    Ok(removed > 0)
}
