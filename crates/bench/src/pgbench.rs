//! The database's own ceiling: pgbench running the statement the order
//! endpoint sends, with the parameters it sent.
//!
//! The statement is not copied from the source: while the app places a few
//! orders, PostgreSQL logs every statement of the order role with its bound
//! parameters (`log_statement = 'all'` for that role only), and the one that
//! inserts into `orders` is taken from the log verbatim. So the ceiling always
//! runs exactly what `crates/pizza/src/store/order.rs` sends today, with real
//! member ids, branches and order lines.
//!
//! pgbench runs it in simple-protocol mode with each `$n` replaced by a
//! pgbench variable holding the captured value as an SQL literal: in extended
//! mode pgbench would also take the `:MI` of a `'HH24:MI:SS'` literal for a
//! variable, while simple mode only substitutes variables that exist.

use crate::load::histogram;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// pgbench refuses more scripts than this.
const MAX_SCRIPTS: usize = 64;

/// One execution of a statement, as PostgreSQL logged it.
#[derive(Debug, Clone)]
struct Execution {
    sql: String,
    /// `$1..$n` in order; `None` for SQL NULL.
    params: Vec<Option<String>>,
}

/// The order statement and the parameter sets it was executed with.
#[derive(Debug, Clone, Serialize)]
pub struct OrderStatement {
    /// The SQL, exactly as the order endpoint sent it.
    pub sql: String,
    /// Parameter sets captured from real order placements.
    #[serde(skip)]
    params: Vec<Vec<Option<String>>>,
    /// How many executions were captured.
    pub captured: usize,
}

/// Finds the statement that inserts into `orders` among the logged executions
/// in `log` (the most frequent one if there are several).
pub fn capture(log: &Path) -> anyhow::Result<OrderStatement> {
    let text = std::fs::read_to_string(log)?;
    let mut by_sql: HashMap<String, Vec<Vec<Option<String>>>> = HashMap::new();
    for e in executions(&text) {
        let normalized = e
            .sql
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if normalized.contains("insert into orders") {
            by_sql.entry(e.sql).or_default().push(e.params);
        }
    }
    let (sql, params) = by_sql
        .into_iter()
        .max_by_key(|(_, p)| p.len())
        .ok_or_else(|| {
            anyhow::anyhow!("no statement inserting into orders in {}", log.display())
        })?;
    Ok(OrderStatement {
        sql,
        captured: params.len(),
        params,
    })
}

/// The `(pid, kind, message)` of a log line that starts an entry
/// (`2024-01-01 00:00:00.000 UTC [123] LOG:  ...`).
fn entry(line: &str) -> Option<(&str, &str, &str)> {
    if !line.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let open = line.find(" [")?;
    let close = open + line[open..].find("] ")?;
    let pid = &line[open + 2..close];
    let rest = &line[close + 2..];
    let (kind, message) = rest.split_once(":  ")?;
    Some((pid, kind, message))
}

/// Every `execute` entry of the log with the parameters of its `DETAIL` line.
fn executions(log: &str) -> Vec<Execution> {
    // Entries: (pid, kind, message with continuation lines).
    let mut entries: Vec<(String, String, String)> = Vec::new();
    for line in log.lines() {
        match entry(line) {
            Some((pid, kind, message)) => {
                entries.push((pid.to_owned(), kind.to_owned(), message.to_owned()))
            }
            None => {
                if let Some(last) = entries.last_mut() {
                    last.2.push('\n');
                    last.2.push_str(line);
                }
            }
        }
    }
    let mut pending: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for (pid, kind, message) in entries {
        let execute = message
            .strip_prefix("execute ")
            .and_then(|m| m.split_once(": "));
        let params = message.strip_prefix("parameters: ");
        if kind == "LOG"
            && let Some((_, sql)) = execute
            && let Some(prev) = pending.insert(pid.clone(), sql.to_owned())
        {
            out.push(Execution {
                sql: prev,
                params: Vec::new(),
            });
        } else if kind == "DETAIL"
            && let Some(params) = params
            && let Some(sql) = pending.remove(&pid)
        {
            out.push(Execution {
                sql,
                params: parse_params(params),
            });
        }
    }
    out.extend(pending.into_values().map(|sql| Execution {
        sql,
        params: Vec::new(),
    }));
    out
}

/// Parses `$1 = 'a', $2 = NULL, $3 = 'it''s'`.
fn parse_params(s: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(eq) = rest.find(" = ") {
        rest = &rest[eq + 3..];
        if let Some(r) = rest.strip_prefix("NULL") {
            out.push(None);
            rest = r;
        } else if let Some(r) = rest.strip_prefix('\'') {
            let mut value = String::new();
            let mut chars = r.char_indices().peekable();
            let mut end = r.len();
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                        chars.next();
                        value.push('\'');
                    } else {
                        end = i + 1;
                        break;
                    }
                } else {
                    value.push(c);
                }
            }
            out.push(Some(value));
            rest = &r[end..];
        } else {
            break;
        }
        rest = rest.strip_prefix(", ").unwrap_or(rest);
    }
    out
}

/// `sql` with `$n` replaced by pgbench variable `:{prefix}_{n}`, or by `NULL`
/// where the captured value was NULL.
fn with_variables(sql: &str, prefix: &str, params: &[Option<String>]) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = String::new();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                n.push(d);
            }
            let index: usize = n.parse().unwrap_or(0);
            match params.get(index.wrapping_sub(1)) {
                Some(None) => out.push_str("NULL"),
                _ => out.push_str(&format!(":{prefix}_{n}")),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What pgbench measured at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct PgbenchRun {
    /// The level: the app's virtual users it stands against.
    pub concurrency: usize,
    /// pgbench's clients (`-c`): the level, at most the role's connection limit.
    pub clients: usize,
    /// Seconds (`-T`).
    pub duration_s: u64,
    /// Transactions that completed.
    pub transactions: u64,
    /// Transactions that failed.
    pub failed: u64,
    /// Transactions per second as pgbench reports it (without connection time).
    pub tps: f64,
    /// Latency of each transaction, from pgbench's per-transaction log.
    #[serde(skip)]
    pub hist: Histogram<u64>,
}

/// Writes one pgbench script per captured parameter set into `dir` and
/// returns the pgbench arguments that select them (`-f` and `-D`).
pub fn scripts(statement: &OrderStatement, dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut args = Vec::new();
    for (k, params) in statement.params.iter().take(MAX_SCRIPTS).enumerate() {
        let prefix = format!("o{k}");
        let mut sql = with_variables(statement.sql.trim(), &prefix, params);
        if !sql.ends_with(';') {
            sql.push(';');
        }
        let path = dir.join(format!("order-{k}.sql"));
        std::fs::write(&path, sql + "\n")?;
        args.push("-f".to_owned());
        args.push(format!("{}@1", path.display()));
        for (i, value) in params.iter().enumerate() {
            if let Some(v) = value {
                args.push("-D".to_owned());
                args.push(format!("{prefix}_{}='{}'", i + 1, v.replace('\'', "''")));
            }
        }
    }
    anyhow::ensure!(!args.is_empty(), "no captured order statements to replay");
    Ok(args)
}

/// Runs `pgbench -n -M simple -c <clients> -j <min(2,c)> -T <secs>` with
/// `script_args` against `(host, port, db, user, password)` for level
/// `concurrency`, logging every transaction under `dir`.
pub fn run(
    script_args: &[String],
    login: &(String, u16, &str, &str, &str),
    (concurrency, clients): (usize, usize),
    duration: Duration,
    dir: &Path,
) -> anyhow::Result<PgbenchRun> {
    let (host, port, db, user, password) = login;
    let log_dir = dir.join(format!("c{concurrency}"));
    let _ = std::fs::remove_dir_all(&log_dir);
    std::fs::create_dir_all(&log_dir)?;
    let secs = duration.as_secs().max(1);
    let out = Command::new("pgbench")
        .args(["-n", "-M", "simple", "-l", "--log-prefix"])
        .arg(log_dir.join("tx"))
        .arg("-c")
        .arg(clients.to_string())
        .arg("-j")
        .arg(clients.min(2).to_string())
        .arg("-T")
        .arg(secs.to_string())
        .args(["-h", host, "-p", &port.to_string(), "-U", user])
        .args(script_args)
        .arg(db)
        .env("PGPASSWORD", password)
        .output()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run pgbench (install postgresql-contrib / postgresql-client): {e}"
            )
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "pgbench failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let (hist, failed_in_log) = transaction_log(&log_dir)?;
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    Ok(PgbenchRun {
        concurrency,
        clients,
        duration_s: secs,
        transactions: hist.len(),
        failed: field("number of failed transactions:").map_or(failed_in_log, |f| f as u64),
        tps: field("tps =").unwrap_or(0.0),
        hist,
    })
}

/// Latencies (µs) and failures from pgbench's per-transaction logs
/// (`client tx latency_us script epoch epoch_us`).
fn transaction_log(dir: &Path) -> anyhow::Result<(Histogram<u64>, u64)> {
    let mut hist = histogram();
    let mut failed = 0;
    let files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .collect();
    for file in files {
        for line in std::fs::read_to_string(&file)?.lines() {
            match line.split_whitespace().nth(2).map(str::parse::<u64>) {
                Some(Ok(us)) => hist.saturating_record(us.max(1)),
                Some(Err(_)) => failed += 1,
                None => {}
            }
        }
    }
    Ok((hist, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_logged_executions_with_parameters() {
        let log = "2024-05-01 10:00:00.000 UTC [42] LOG:  execute <unnamed>: WITH o AS (INSERT INTO orders (member_id)\n\
                   \tVALUES ($1) RETURNING order_id)\n\
                   SELECT * FROM o WHERE $2::text IS NULL OR $3 = 'a:b'\n\
                   2024-05-01 10:00:00.000 UTC [43] LOG:  execute s1: SELECT 1\n\
                   2024-05-01 10:00:00.001 UTC [42] DETAIL:  parameters: $1 = 'it''s, $2 = x', $2 = NULL, $3 = '{\"a\": 1}'\n";
        let e = executions(log);
        let order = e.iter().find(|e| e.sql.contains("orders")).unwrap();
        assert!(order.sql.ends_with("= 'a:b'"), "{}", order.sql);
        assert_eq!(
            order.params,
            vec![Some("it's, $2 = x".into()), None, Some("{\"a\": 1}".into())]
        );
        let sql = with_variables(&order.sql, "o0", &order.params);
        assert!(
            sql.contains("VALUES (:o0_1)")
                && sql.contains("NULL::text")
                && sql.contains(":o0_3 = 'a:b'")
        );
    }
}
