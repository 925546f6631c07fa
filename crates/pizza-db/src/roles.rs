//! Letting the per-service database roles log in: their password and connection limit.

use std::fmt;

use anyhow::{anyhow, bail};
use postgres::error::SqlState;
use postgres::{Client, GenericClient};

/// The least-privilege roles the migrations create, one per service. Only these may be
/// changed, so the tool cannot be used to take over an arbitrary role.
pub const SERVICE_ROLES: [&str; 4] = [
    "pizza_login",
    "pizza_menu",
    "pizza_order",
    "pizza_admin_api",
];

/// A service role's password. It is never printed: `Debug` shows `Password(<redacted>)` and
/// there is no `Display`, so no log line, error or `{:?}` of a struct holding one can leak it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// A password; refuses the empty one (PostgreSQL would take it as "no password").
    pub fn new(password: impl Into<String>) -> anyhow::Result<Password> {
        let password = password.into();
        if password.is_empty() {
            bail!("refusing an empty password");
        }
        Ok(Password(password))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The SCRAM-SHA-256 verifier of a [`Password`], computed here as psql's `\password` does:
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` with a fresh random salt.
/// As secret as the password (with the verifier and one observed login an attacker can
/// log in), so it is never printed either.
struct Verifier(String);

impl Verifier {
    fn of(password: &Password) -> Verifier {
        Verifier(postgres_protocol::password::scram_sha_256(
            password.0.as_bytes(),
        ))
    }

    /// Whether `text` holds the verifier or one of its parts (salt, StoredKey, ServerKey).
    fn appears_in(&self, text: &str) -> bool {
        text.contains("SCRAM-SHA-256")
            || self
                .0
                .split(['$', ':'])
                .filter(|part| part.len() >= 8)
                .any(|part| text.contains(part))
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Verifier(<redacted>)")
    }
}

/// Gives `role` (one of [`SERVICE_ROLES`]) LOGIN, `password` and, when given, a CONNECTION
/// LIMIT, in one `ALTER ROLE`.
///
/// Why the verifier is in the statement's text: `ALTER ROLE` is a utility statement, and
/// PostgreSQL accepts bind parameters (`$1`) only in SELECT, INSERT, UPDATE, DELETE, MERGE
/// and VALUES; a utility statement cannot be prepared with one ("there is no parameter $1").
/// So the value has to be a literal. What travels is not the password but its SCRAM-SHA-256
/// verifier, computed here, which the server stores as it is (and also accepts under an
/// `md5` pg_hba line): the password itself never reaches the server, its statement log or
/// `pg_stat_statements`. Passing the verifier as a bind parameter to a helper function that
/// runs the `ALTER ROLE` would gain nothing: `log_statement = all` logs parameters too. The
/// caller keeps the verifier out of the server's log where it may ([`configure_roles`]),
/// and errors from this statement are rewritten so they never quote it.
///
/// The role is checked against [`SERVICE_ROLES`] and the limit is an integer, so neither
/// needs quoting beyond the identifier's double quotes.
pub(crate) fn alter_service_role(
    client: &mut impl GenericClient,
    role: &str,
    password: &Password,
    connection_limit: Option<i32>,
) -> anyhow::Result<()> {
    if !SERVICE_ROLES.contains(&role) {
        bail!("refusing to change role {role:?}: expected one of {SERVICE_ROLES:?}");
    }
    let verifier = Verifier::of(password);
    let mut statement = format!("ALTER ROLE \"{role}\" WITH LOGIN");
    if let Some(limit) = connection_limit {
        statement.push_str(&format!(" CONNECTION LIMIT {limit}"));
    }
    statement.push_str(" PASSWORD ");
    statement.push_str(&quote_literal(&verifier.0));
    client
        .batch_execute(&statement)
        .map_err(|error| redacted(&error, role, &verifier))
}

/// Applies every `(role, password, limit)` in one transaction, all or nothing. As superuser
/// (`make up`, the dev cluster) the transaction first turns off statement logging for
/// itself, so not even the verifier lands in the server's log; a non-superuser owner (the
/// CloudNativePG `pizza_admin`) may not change those settings, and its `ALTER ROLE` is
/// logged only when the server logs DDL.
pub(crate) fn configure_roles<'a>(
    client: &mut Client,
    roles: impl IntoIterator<Item = (&'a str, &'a Password, i32)>,
) -> anyhow::Result<()> {
    let mut tx = client.transaction()?;
    let superuser: bool = tx
        .query_one("SELECT current_setting('is_superuser') = 'on'", &[])?
        .get(0);
    if superuser {
        tx.batch_execute(
            "SET LOCAL log_statement = 'none';
             SET LOCAL log_min_duration_statement = -1;
             SET LOCAL log_min_error_statement = 'panic'",
        )?;
    }
    for (role, password, limit) in roles {
        alter_service_role(&mut tx, role, password, Some(limit))?;
    }
    tx.commit()?;
    Ok(())
}

/// The error of a failed `ALTER ROLE`, without any text that could quote the statement: the
/// server's message, detail and hint only when none holds a piece of the verifier, and never
/// for a syntax error (whose message quotes the statement near the error).
fn redacted(error: &postgres::Error, role: &str, verifier: &Verifier) -> anyhow::Error {
    let Some(db) = error.as_db_error() else {
        // Connection-level failures (closed, I/O) carry no statement text.
        return anyhow!("changing role {role}: {error}");
    };
    let code = db.code().code();
    let parts = [Some(db.message()), db.detail(), db.hint()];
    let leaks = parts.iter().flatten().any(|text| verifier.appears_in(text));
    if leaks || db.code() == &SqlState::SYNTAX_ERROR {
        return anyhow!(
            "changing role {role}: the server refused the statement (SQLSTATE {code}); its \
             message is withheld because it may quote the password verifier"
        );
    }
    let text: Vec<&str> = parts.into_iter().flatten().collect();
    anyhow!(
        "changing role {role}: {} (SQLSTATE {code})",
        text.join("; ")
    )
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

    #[test]
    fn passwords_and_verifiers_never_print() {
        let password = Password::new("hunter2-but-longer").unwrap();
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        let verifier = Verifier::of(&password);
        assert_eq!(format!("{verifier:?}"), "Verifier(<redacted>)");
        assert!(verifier.0.starts_with("SCRAM-SHA-256$4096:"));
    }

    #[test]
    fn any_piece_of_the_verifier_counts_as_a_leak() {
        let verifier = Verifier::of(&Password::new("pw").unwrap());
        let (_, keys) = verifier.0.rsplit_once('$').unwrap();
        let (stored, _server) = keys.split_once(':').unwrap();
        assert!(verifier.appears_in(&format!("near \"{stored}\"")));
        assert!(verifier.appears_in("SCRAM-SHA-256$4096"));
        assert!(!verifier.appears_in("role \"pizza_login\" does not exist"));
    }

    #[test]
    fn the_empty_password_is_refused() {
        assert!(Password::new("").is_err());
    }
}
