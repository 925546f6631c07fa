//! `check-legacy`: a read-only report of what an adopted Django database holds that the new
//! services treat specially, so an operator knows before switching over who cannot log in,
//! who cannot order and which rows point nowhere.

use std::fmt;

use postgres::{Client, Transaction};

use crate::migrate::applied_versions;

/// The migration that hashes leftover plaintext passwords (with bcrypt, through pgcrypto).
const PASSWORD_MIGRATION: &str = "0003_login_state";

/// How many example keys a finding shows.
const EXAMPLES: i64 = 5;

/// What `check-legacy` looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// `member_pwd` is in none of the formats the login service verifies (plaintext, or a
    /// hasher it does not support): the member cannot log in.
    UnknownPasswordFormat,
    /// `member_pwd` is Django's unusable password (`!` and 40 letters and digits, or
    /// a lone `!`), which never matches. Other values that begin with `!` are plaintext.
    UnusablePassword,
    /// An order whose `bran_id` is NULL or names no `branch` row.
    OrderWithoutBranch,
    /// An `order_detail` row whose `pizza_id` names no `pizza` row.
    LineWithoutPizza,
    /// A member id longer than 50 characters: `orders.member_id` is varchar(50), so the
    /// member can never order.
    MemberIdTooLong,
    /// A member id with characters outside `[A-Za-z0-9._@-]`: registration refuses such ids
    /// now, existing members still log in.
    MemberIdCharacters,
    /// An order with lines whose `unit_price` is NULL: placed before prices were recorded.
    LegacyOrder,
}

impl FindingKind {
    /// Whether the finding only informs: the services handle these rows as they are, by
    /// design (an unusable password is meant never to log in; a legacy order is shown
    /// without prices), so it is not counted among the findings.
    pub fn is_informational(self) -> bool {
        matches!(
            self,
            FindingKind::UnusablePassword | FindingKind::LegacyOrder
        )
    }

    fn title(self) -> &'static str {
        match self {
            FindingKind::UnknownPasswordFormat => "member passwords in no recognised hash format",
            FindingKind::UnusablePassword => "member passwords unusable (Django \"!\")",
            FindingKind::OrderWithoutBranch => "orders whose bran_id is NULL or names no branch",
            FindingKind::LineWithoutPizza => "order lines whose pizza_id names no pizza",
            FindingKind::MemberIdTooLong => "member ids longer than 50 characters (cannot order)",
            FindingKind::MemberIdCharacters => {
                "member ids with characters outside [A-Za-z0-9._@-] (registration refuses them, they still log in)"
            }
            FindingKind::LegacyOrder => "orders with lines without unit_price (legacy orders)",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was looked for.
    pub kind: FindingKind,
    /// How many rows match.
    pub count: u64,
    /// Up to five of their keys (member id, order id or order line id), smallest first.
    pub examples: Vec<String>,
}

/// A check that could not run because the database lacks a table or column it reads
/// (typically a database not migrated yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The check.
    pub kind: FindingKind,
    /// What is missing, e.g. `column order_detail.unit_price` or `table branch`.
    pub missing: String,
}

/// Everything `check-legacy` found, in check order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyReport {
    /// The checks that ran.
    pub findings: Vec<Finding>,
    /// The checks that could not run.
    pub skipped: Vec<Skipped>,
    /// Whether the migration that hashes plaintext passwords has been applied here, which
    /// decides what to tell about passwords in an unknown format.
    pub passwords_migrated: bool,
}

impl LegacyReport {
    /// The number of non-informational kinds with at least one row: what the report's last
    /// line counts.
    pub fn finding_count(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| !f.kind.is_informational() && f.count > 0)
            .count()
    }

    /// The result of one check, `None` when it was skipped.
    pub fn finding(&self, kind: FindingKind) -> Option<&Finding> {
        self.findings.iter().find(|f| f.kind == kind)
    }
}

impl fmt::Display for LegacyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            write_finding(f, finding)?;
            if finding.kind == FindingKind::UnknownPasswordFormat && finding.count > 0 {
                writeln!(f, "  {}", self.password_advice())?;
            }
        }
        for skipped in &self.skipped {
            writeln!(
                f,
                "check-legacy: skipped {}: no {}",
                skipped.kind.title(),
                skipped.missing
            )?;
        }
        let n = self.finding_count();
        write!(
            f,
            "check-legacy: {n} finding{}",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl LegacyReport {
    fn password_advice(&self) -> String {
        if self.passwords_migrated {
            format!(
                "they never match at login; {PASSWORD_MIGRATION} is already applied, so reset them"
            )
        } else {
            format!(
                "they never match at login; {PASSWORD_MIGRATION} is pending here and hashes the \
                 plaintext ones with bcrypt: run `pizza-db migrate`"
            )
        }
    }
}

fn write_finding(f: &mut fmt::Formatter<'_>, finding: &Finding) -> fmt::Result {
    let info = if finding.kind.is_informational() {
        " [informational]"
    } else {
        ""
    };
    write!(
        f,
        "check-legacy: {}{info}: {}",
        finding.kind.title(),
        finding.count
    )?;
    if !finding.examples.is_empty() {
        let examples: Vec<String> = finding.examples.iter().map(|e| format!("{e:?}")).collect();
        write!(f, " (e.g. {})", examples.join(", "))?;
    }
    writeln!(f)
}

/// One check: the columns it reads (`table`, `column`) and a query returning the key `k` of
/// every matching row. Every value is cast to text so legacy column types (integer or
/// varchar ids) compare alike.
struct Check {
    kind: FindingKind,
    needs: &'static [(&'static str, &'static str)],
    sql: &'static str,
}

const CHECKS: &[Check] = &[
    Check {
        kind: FindingKind::UnknownPasswordFormat,
        needs: &[("member", "member_id"), ("member", "member_pwd")],
        sql: "SELECT member_id AS k FROM member
              WHERE member_pwd IS NULL
                 OR (member_pwd::text !~ '^(pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|bcrypt|scrypt|md5)[$]'
                     AND member_pwd::text !~ '^[$](argon2id|argon2i|2a|2b|2y)[$]'
                     AND member_pwd::text !~ '^!([A-Za-z0-9]{40})?$')",
    },
    Check {
        kind: FindingKind::UnusablePassword,
        needs: &[("member", "member_id"), ("member", "member_pwd")],
        sql: "SELECT member_id AS k FROM member WHERE member_pwd::text ~ '^!([A-Za-z0-9]{40})?$'",
    },
    Check {
        kind: FindingKind::OrderWithoutBranch,
        needs: &[
            ("orders", "order_id"),
            ("orders", "bran_id"),
            ("branch", "bran_id"),
        ],
        sql: "SELECT o.order_id AS k FROM orders o
              WHERE o.bran_id IS NULL
                 OR NOT EXISTS (SELECT 1 FROM branch b WHERE b.bran_id::text = o.bran_id::text)",
    },
    Check {
        kind: FindingKind::LineWithoutPizza,
        needs: &[
            ("order_detail", "order_detail_id"),
            ("order_detail", "pizza_id"),
            ("pizza", "pizza_id"),
        ],
        sql: "SELECT d.order_detail_id AS k FROM order_detail d
              WHERE d.pizza_id IS NULL
                 OR NOT EXISTS (SELECT 1 FROM pizza p WHERE p.pizza_id::text = d.pizza_id::text)",
    },
    Check {
        kind: FindingKind::MemberIdTooLong,
        needs: &[("member", "member_id")],
        sql: "SELECT member_id AS k FROM member WHERE char_length(member_id::text) > 50",
    },
    Check {
        kind: FindingKind::MemberIdCharacters,
        needs: &[("member", "member_id")],
        sql: "SELECT member_id AS k FROM member WHERE member_id::text !~ '^[A-Za-z0-9._@-]*$'",
    },
    Check {
        kind: FindingKind::LegacyOrder,
        needs: &[
            ("orders", "order_id"),
            ("order_detail", "order_id"),
            ("order_detail", "unit_price"),
        ],
        sql: "SELECT o.order_id AS k FROM orders o
              WHERE EXISTS (SELECT 1 FROM order_detail d
                            WHERE d.order_id::text = o.order_id::text AND d.unit_price IS NULL)",
    },
];

/// Runs every check in one read-only transaction (with a 5 s lock timeout, so it never
/// waits long behind a migration). A check whose table or column is missing is skipped and
/// listed as such; nothing is written.
pub fn check_legacy(client: &mut Client) -> anyhow::Result<LegacyReport> {
    let mut tx = client.build_transaction().read_only(true).start()?;
    tx.batch_execute("SET LOCAL lock_timeout = '5s'")?;
    let mut report = LegacyReport {
        findings: Vec::new(),
        skipped: Vec::new(),
        passwords_migrated: applied_versions(&mut tx)?.contains(PASSWORD_MIGRATION),
    };
    for check in CHECKS {
        match missing(&mut tx, check.needs)? {
            Some(missing) => report.skipped.push(Skipped {
                kind: check.kind,
                missing,
            }),
            None => report.findings.push(run_check(&mut tx, check)?),
        }
    }
    tx.rollback()?;
    Ok(report)
}

/// The first table or column of `needs` the database lacks, as `table t` or `column t.c`.
fn missing(tx: &mut Transaction, needs: &[(&str, &str)]) -> anyhow::Result<Option<String>> {
    for (table, column) in needs {
        let row = tx.query_one(
            "SELECT to_regclass($1) IS NOT NULL,
                    EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1)
                            AND attname = $2 AND attnum > 0 AND NOT attisdropped)",
            &[table, column],
        )?;
        if !row.get::<_, bool>(0) {
            return Ok(Some(format!("table {table}")));
        }
        if !row.get::<_, bool>(1) {
            return Ok(Some(format!("column {table}.{column}")));
        }
    }
    Ok(None)
}

fn run_check(tx: &mut Transaction, check: &Check) -> anyhow::Result<Finding> {
    let sql = format!(
        "SELECT f.k::text, count(*) OVER () FROM ({}) f ORDER BY f.k LIMIT $1",
        check.sql
    );
    let rows = tx.query(&sql, &[&EXAMPLES])?;
    let count = match rows.first() {
        Some(row) => u64::try_from(row.get::<_, i64>(1))?,
        None => 0,
    };
    Ok(Finding {
        kind: check.kind,
        count,
        examples: rows.iter().map(|row| row.get(0)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: FindingKind, count: u64) -> Finding {
        Finding {
            kind,
            count,
            examples: Vec::new(),
        }
    }

    #[test]
    fn informational_kinds_are_not_counted() {
        let report = LegacyReport {
            findings: vec![
                finding(FindingKind::UnusablePassword, 3),
                finding(FindingKind::LegacyOrder, 7),
                finding(FindingKind::LineWithoutPizza, 0),
                finding(FindingKind::MemberIdTooLong, 1),
            ],
            skipped: Vec::new(),
            passwords_migrated: true,
        };
        assert_eq!(report.finding_count(), 1);
        assert!(report.to_string().ends_with("check-legacy: 1 finding"));
    }

    #[test]
    fn examples_and_skips_are_printed() {
        let report = LegacyReport {
            findings: vec![Finding {
                kind: FindingKind::UnknownPasswordFormat,
                count: 6,
                examples: vec!["a".into(), "b c".into()],
            }],
            skipped: vec![Skipped {
                kind: FindingKind::LegacyOrder,
                missing: "column order_detail.unit_price".into(),
            }],
            passwords_migrated: false,
        };
        let text = report.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "check-legacy: member passwords in no recognised hash format: 6 (e.g. \"a\", \"b c\")"
        );
        assert!(
            lines[1].contains("0003_login_state is pending"),
            "{}",
            lines[1]
        );
        assert_eq!(
            lines[2],
            "check-legacy: skipped orders with lines without unit_price (legacy orders): no column order_detail.unit_price"
        );
        assert_eq!(lines[3], "check-legacy: 1 finding");
    }
}
