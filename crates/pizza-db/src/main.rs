//! `pizza-db`: the admin command line over the `pizza_db` library (migrate, deploy, seed and
//! seed --history, check-legacy, purge, grant and revoke member roles).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use clap::{Parser, Subcommand};
use postgres::Client;

#[derive(Parser)]
#[command(version, about = "Pizza shop database administration")]
struct Cli {
    /// Admin (superuser or schema owner) connection URL. Prefer the environment variable:
    /// other users can read a command line. TLS as libpq: sslmode (disable, prefer,
    /// require, verify-ca, verify-full) and sslrootcert (a CA file, or `system`).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    url: String,
    /// Keep retrying a database that cannot be reached yet (refused, unresolvable,
    /// starting up) for this many seconds before giving up.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 0)]
    wait: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations/*.sql files in order.
    Migrate {
        /// Folder holding the NNNN_name.sql files.
        #[arg(long, env = "PIZZA_MIGRATIONS_DIR", default_value = "migrations")]
        dir: PathBuf,
        /// Only print what each pending migration would change (run in a transaction that
        /// is rolled back); nothing is changed.
        #[arg(long)]
        plan: bool,
    },
    /// What a deployment runs (the Kubernetes migration Job, `make up`): under one
    /// advisory lock, apply pending migrations, then give pizza_login, pizza_menu,
    /// pizza_order and pizza_admin_api LOGIN, their password and their CONNECTION LIMIT.
    ///
    /// Read from the environment only, all required and checked before connecting:
    /// LOGIN_DB_PASSWORD, MENU_DB_PASSWORD, ORDER_DB_PASSWORD, ADMIN_DB_PASSWORD (non-empty) and
    /// LOGIN_DB_CONNECTION_LIMIT, MENU_DB_CONNECTION_LIMIT, ORDER_DB_CONNECTION_LIMIT,
    /// ADMIN_DB_CONNECTION_LIMIT (positive integers).
    Deploy {
        /// Folder holding the NNNN_name.sql files (the image sets PIZZA_MIGRATIONS_DIR).
        #[arg(long, env = "PIZZA_MIGRATIONS_DIR", default_value = "migrations")]
        dir: PathBuf,
    },
    /// Upsert the menu (pizza types, pizzas) and the branches; idempotent.
    Seed {
        /// Folder holding pizza_types.csv and pizzas.csv (and, for --history, orders.csv
        /// and order_details.csv)
        /// [default: <workspace>/data/pizza-sales, else ./data/pizza-sales].
        #[arg(long, env = "PIZZA_DATA_DIR")]
        data: Option<PathBuf>,
        /// Then load the data set's year of orders (21,350 orders, 48,620 lines) as
        /// completed orders of 1,000 generated members who cannot log in, spread over the
        /// branches; once: a second run loads nothing.
        #[arg(long)]
        history: bool,
    },
    /// Report, read-only, what an adopted Django database holds that the services treat
    /// specially (unverifiable passwords, orders without branch, unusable member ids...).
    CheckLegacy,
    /// Delete rows past their retention (what the housekeeping CronJob runs every 15 minutes).
    Purge,
    /// Give a registered member a role: `admin` (how the first admin is made; no HTTP
    /// call can), or `staff --branch <id>`. It takes effect at their next login.
    Grant {
        #[command(flatten)]
        role: RoleArg,
        /// The member's id.
        member: String,
    },
    /// Take a role from a member. Their tokens issued before keep it until they expire
    /// (at most an hour) or are revoked.
    Revoke {
        #[command(flatten)]
        role: RoleArg,
        /// The member's id.
        member: String,
    },
}

/// A role as `grant` and `revoke` take it.
#[derive(clap::Args)]
struct RoleArg {
    /// `admin` or `staff`.
    #[arg(value_parser = ["admin", "staff"])]
    role: String,
    /// The branch, for `staff`.
    #[arg(long, required_if_eq("role", "staff"))]
    branch: Option<String>,
}

impl RoleArg {
    fn role(self) -> anyhow::Result<pizza_db::MemberRole> {
        match (self.role.as_str(), self.branch) {
            ("admin", None) => Ok(pizza_db::MemberRole::Admin),
            ("staff", Some(branch)) => Ok(pizza_db::MemberRole::Staff { branch }),
            _ => Err(anyhow!("--branch goes with staff only")),
        }
    }
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
    let wait = Duration::from_secs(cli.wait);
    let connect = || {
        pizza_db::connect(&cli.url, wait, || {
            println!(
                "connect: the database is not reachable yet; retrying for up to {} s",
                cli.wait
            );
        })
    };
    match cli.command {
        Command::Deploy { dir } => {
            // Settings and files first: a bad one changes nothing, not even a connection.
            let deployment = pizza_db::Deployment::from_env(&dir)?;
            let report = deployment.run(&mut connect()?, || {
                println!("deploy: waiting for the migration lock: another migrator is running");
            })?;
            print!("{}", report.lines());
            Ok(())
        }
        Command::Migrate { dir, plan: false } => migrate(&mut connect()?, &dir),
        Command::Migrate { dir, plan: true } => plan(&mut connect()?, &dir),
        Command::Seed { data, history } => seed(&mut connect()?, data, history),
        Command::Purge => {
            let report = pizza_db::purge(&mut connect()?)?;
            println!(
                "purge: login_attempt {}, revoked_token {}, order_idempotency {}, outbox {}",
                report.login_attempt, report.revoked_token, report.order_idempotency, report.outbox
            );
            Ok(())
        }
        Command::Grant { member, role } => {
            let role = role.role()?;
            match pizza_db::grant_role(&mut connect()?, &member, &role)? {
                pizza_db::Granted::New => println!("grant: {member} is now {role}"),
                pizza_db::Granted::Already => println!("grant: {member} was {role} already"),
            }
            Ok(())
        }
        Command::Revoke { member, role } => {
            let role = role.role()?;
            if pizza_db::revoke_role(&mut connect()?, &member, &role)? {
                println!("revoke: {member} is no longer {role}");
            } else {
                println!("revoke: {member} was not {role}");
            }
            Ok(())
        }
        Command::CheckLegacy => {
            println!("{}", pizza_db::check_legacy(&mut connect()?)?);
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

fn seed(client: &mut Client, data: Option<PathBuf>, history: bool) -> anyhow::Result<()> {
    let dir = match data {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let report = pizza_db::seed(client, &dir)?;
    print_counts(
        "seed",
        [
            ("pizza_types", report.pizza_types),
            ("pizza", report.pizzas),
            ("branch", report.branches),
        ],
    );
    if history {
        let started = Instant::now();
        let report = pizza_db::seed_history(client, &dir)?;
        print_counts(
            "seed --history",
            [
                ("member", report.members),
                ("orders", report.orders),
                ("order_detail", report.lines),
            ],
        );
        let seconds = started.elapsed().as_secs_f64();
        if report.already_loaded() {
            println!("seed --history: already loaded, nothing changed ({seconds:.1} s)");
        } else {
            println!("seed --history: loaded in {seconds:.1} s");
        }
    }
    Ok(())
}

/// One `<prefix>: <table>: <n> rows, <n> changed` line per table.
fn print_counts<const N: usize>(prefix: &str, counts: [(&str, pizza_db::TableCount); N]) {
    for (table, count) in counts {
        println!(
            "{prefix}: {table}: {} rows, {} changed",
            count.rows, count.changed
        );
    }
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
