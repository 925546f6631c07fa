//! `pizza-db`: the admin command line over the `pizza_db` library (migrate, seed, set-password).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
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
    },
    /// Upsert the menu (pizza types, pizzas) and the branches; idempotent.
    Seed {
        /// Folder holding pizza_types.csv and pizzas.csv
        /// [default: <workspace>/../shared/data/pizza-sales, else <workspace>/data/pizza-sales].
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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut client = Client::connect(&cli.url, NoTls).context("connecting to the database")?;
    match cli.command {
        Command::Migrate { dir } => {
            let applied = pizza_db::migrate(&mut client, &dir)?;
            if applied.is_empty() {
                println!("migrations: up to date");
            }
            for version in applied {
                println!("migrations: applied {version}");
            }
        }
        Command::Seed { data } => {
            let dir = match data {
                Some(dir) => dir,
                None => default_data_dir()?,
            };
            let report = pizza_db::seed(&mut client, &dir)?;
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
        }
        Command::SetPassword { role, password } => {
            pizza_db::set_role_password(&mut client, &role, &password)?;
            println!("set-password: {role} can log in");
        }
    }
    Ok(())
}

/// The data set next to the workspace this binary was built from.
fn default_data_dir() -> anyhow::Result<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates = [
        workspace.join("../shared/data/pizza-sales"),
        workspace.join("data/pizza-sales"),
    ];
    match candidates.iter().find(|dir| dir.is_dir()) {
        Some(dir) => Ok(dir.clone()),
        None => bail!("no data set found in {candidates:?}; pass --data or set PIZZA_DATA_DIR"),
    }
}
