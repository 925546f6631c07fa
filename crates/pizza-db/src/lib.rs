//! Database administration for the pizza shop: the native side of the project.
//!
//! The wasm components only read and write rows; everything that needs admin rights
//! (schema migrations, loading the catalogue from the Kaggle data set, giving the
//! per-service roles their passwords) lives here so it can run from a laptop, CI or a
//! Kubernetes Job without the Spin runtime.

mod catalogue;
mod images;
mod migrate;
mod roles;
mod seed;

pub use catalogue::{Catalogue, Pizza, PizzaType, load_catalogue};
pub use migrate::{MIGRATION_LOCK_KEY, migrate};
pub use roles::{SERVICE_ROLES, set_role_password};
pub use seed::{BRANCHES, SeedReport, TableCount, seed};
