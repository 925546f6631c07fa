//! `pizza-db`: the admin command line over the `pizza_db` library (migrate, seed,
//! set-password, check-legacy).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{Parser, Subcommand};
use postgres::{Client, NoTls};

#[derive(Parser)]
#[command(version, about = "Pizza shop database administration")]
struct Cli {
    /// Admin (superuser or schema owner) connection URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations/*.sql files in order.
    Migrate {
        /// Folder holding the NNNN_name.sql files.
        #[arg(long, default_value = "migrations")]
        dir: PathBuf,
        /// Only print what each pending migration would change (run in a transaction that
        /// is rolled back); nothing is changed.
        #[arg(long)]
        plan: bool,
    },
    /// Upsert the menu (pizza types, pizzas) and the branches; idempotent.
    Seed {
        /// Folder holding pizza_types.csv and pizzas.csv
        /// [default: <workspace>/data/pizza-sales, else ./data/pizza-sales].
        #[arg(long, env = "PIZZA_DATA_DIR")]
        data: Option<PathBuf>,
    },
    /// Let a service role (pizza_login, pizza_menu, pizza_order) log in with a password.
    SetPassword {
        /// The role to change.
        role: String,
        /// The new password; prefer the environment variable, argv is visible to other users.
        #[arg(env = "PIZZA_ROLE_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Report, read-only, what an adopted Django database holds that the services treat
    /// specially (unverifiable passwords, orders without branch, unusable member ids...).
    CheckLegacy,
    /// Delete rows past their retention (what the housekeeping CronJob runs every 15 minutes).
    Purge,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "pizza-db: error: {}",
                describe(&error, backtrace_requested())
            );
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut client = Client::connect(&cli.url, NoTls).context("connecting to the database")?;
    match cli.command {
        Command::Migrate { dir, plan: false } => migrate(&mut client, &dir),
        Command::Migrate { dir, plan: true } => plan(&mut client, &dir),
        Command::Seed { data } => seed(&mut client, data),
        Command::SetPassword { role, password } => {
            pizza_db::set_role_password(&mut client, &role, &password)?;
            println!("set-password: {role} can log in");
            Ok(())
        }
        Command::Purge => {
            let report = pizza_db::purge(&mut client)?;
            println!(
                "purge: login_attempt {}, revoked_token {}, order_idempotency {}, outbox {}",
                report.login_attempt, report.revoked_token, report.order_idempotency, report.outbox
            );
            Ok(())
        }
        Command::CheckLegacy => {
            println!("{}", pizza_db::check_legacy(&mut client)?);
            Ok(())
        }
    }
}

fn migrate(client: &mut Client, dir: &Path) -> anyhow::Result<()> {
    let applied = pizza_db::migrate(client, dir)?;
    if applied.is_empty() {
        println!("migrations: up to date");
    }
    for version in applied {
        println!("migrations: applied {version}");
    }
    Ok(())
}

fn plan(client: &mut Client, dir: &Path) -> anyhow::Result<()> {
    let plans = pizza_db::plan_migrations(client, dir)?;
    for plan in &plans {
        println!("{plan}");
    }
    match plans.len() {
        0 => println!("plan: up to date"),
        1 => println!("plan: 1 pending migration; nothing was changed"),
        n => println!("plan: {n} pending migrations; nothing was changed"),
    }
    Ok(())
}

fn seed(client: &mut Client, data: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = match data {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let report = pizza_db::seed(client, &dir)?;
    for (table, count) in [
        ("pizza_types", report.pizza_types),
        ("pizza", report.pizzas),
        ("branch", report.branches),
    ] {
        println!(
            "seed: {table}: {} rows, {} changed",
            count.rows, count.changed
        );
    }
    Ok(())
}

/// The data set of the checkout this binary was built from, else the one under the current
/// directory (a binary copied elsewhere and run from a checkout's root).
fn default_data_dir() -> anyhow::Result<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    [
        workspace.join("data/pizza-sales"),
        PathBuf::from("data/pizza-sales"),
    ]
    .into_iter()
    .find(|dir| dir.is_dir())
    .ok_or_else(|| {
        anyhow!(
            "no data set in {}/data/pizza-sales or ./data/pizza-sales; pass --data or set PIZZA_DATA_DIR",
            workspace.display()
        )
    })
}

/// Whether the user asked for backtraces, as the standard library reads `RUST_BACKTRACE`:
/// set, non-empty and not `0`.
fn backtrace_requested() -> bool {
    std::env::var_os("RUST_BACKTRACE").is_some_and(|value| !value.is_empty() && value != "0")
}

/// The text after `pizza-db: error: `: anyhow's full report (causes, backtrace) when asked
/// for, else [`one_line`], so scripts and logs get one line per failure.
fn describe(error: &anyhow::Error, full: bool) -> String {
    if full {
        format!("{error:?}")
    } else {
        one_line(error)
    }
}

/// The cause chain joined with ": " like anyhow's `{:#}`, with two fixes so it stays one
/// readable line: a cause is left out when the message before already ends with it (the
/// postgres client repeats its cause in its own message), and line breaks (a server error's
/// DETAIL and HINT) become "; ".
fn one_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.last().is_some_and(|last| last.ends_with(&text)) {
            parts.push(text);
        }
    }
    parts
        .join(": ")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Repeating;

    impl std::fmt::Display for Repeating {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("db error: ERROR: boom\nDETAIL: why")
        }
    }

    impl std::error::Error for Repeating {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&Inner)
        }
    }

    #[derive(Debug)]
    struct Inner;

    impl std::fmt::Display for Inner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("ERROR: boom\nDETAIL: why")
        }
    }

    impl std::error::Error for Inner {}

    #[test]
    fn the_chain_is_one_line_without_repeats() {
        let error = anyhow::Error::new(Repeating).context("migration 0003 failed");
        assert_eq!(
            one_line(&error),
            "migration 0003 failed: db error: ERROR: boom; DETAIL: why"
        );
        assert_eq!(describe(&error, false), one_line(&error));
    }

    #[test]
    fn the_full_report_lists_the_causes() {
        let error = anyhow!("inner").context("outer");
        let full = describe(&error, true);
        assert!(full.starts_with("outer\n"), "{full}");
        assert!(full.contains("Caused by:"), "{full}");
    }
}
