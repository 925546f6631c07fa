//! Giving the per-service database roles a password (and the right to log in).

use anyhow::bail;
use postgres::Client;

/// The least-privilege roles the migrations create, one per service. Only these may be
/// changed, so the tool cannot be used to take over an arbitrary role.
pub const SERVICE_ROLES: [&str; 3] = ["pizza_login", "pizza_menu", "pizza_order"];

/// Runs `ALTER ROLE <role> LOGIN PASSWORD '...'` so a service can connect as `role`.
///
/// `ALTER ROLE` takes no bind parameters, so the role is checked against [`SERVICE_ROLES`]
/// and the value is quoted as a string literal. The value sent is a SCRAM-SHA-256 verifier
/// computed here (as psql's `\password` does), so the plain password never reaches the
/// server's statement log; the server stores it as is and authenticates with SCRAM
/// (also under an `md5` pg_hba line).
pub fn set_role_password(client: &mut Client, role: &str, password: &str) -> anyhow::Result<()> {
    if !SERVICE_ROLES.contains(&role) {
        bail!("refusing to change role {role:?}: expected one of {SERVICE_ROLES:?}");
    }
    if password.is_empty() {
        bail!("refusing to set an empty password for {role}");
    }
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    client.batch_execute(&format!(
        "ALTER ROLE \"{role}\" LOGIN PASSWORD {}",
        quote_literal(&verifier)
    ))?;
    Ok(())
}

/// An escape-string literal (`E'...'`) for `value`: read the same way whatever
/// `standard_conforming_strings` is, with quotes and backslashes doubled.
fn quote_literal(value: &str) -> String {
    format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_are_doubled() {
        assert_eq!(quote_literal(r"a'b\c"), r"E'a''b\\c'");
        assert_eq!(quote_literal("plain"), "E'plain'");
    }
}
