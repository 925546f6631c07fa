//! Database administration for the pizza shop: the native side of the project.
//!
//! The wasm components only read and write rows; everything that needs admin rights
//! (schema migrations, loading the catalogue and optionally the year of orders from the
//! Kaggle data set, giving the per-service roles their passwords, making the first admin)
//! lives here so it can run from a laptop, CI or a Kubernetes Job without the Spin runtime.
//! [`Deployment`] is what the migration Job and `make up` run: migrations and role settings
//! under one lock. So do the read-only looks an operator takes before migrating an adopted
//! database: what the pending migrations would change ([`plan_migrations`]) and which legacy
//! rows the services treat specially ([`check_legacy`]).

mod catalogue;
mod connect;
mod deploy;
mod history;
mod images;
mod legacy;
mod member_roles;
mod migrate;
mod plan;
mod purge;
mod roles;
mod sales;
mod seed;
mod spread;

pub use catalogue::{Catalogue, Pizza, PizzaType, load_catalogue};
pub use connect::connect;
pub use deploy::{DeployReport, Deployment, RoleSettings};
pub use history::{HistoryReport, seed_history};
pub use legacy::{Finding, FindingKind, LegacyReport, Skipped, check_legacy};
pub use member_roles::{Granted, MemberRole, grant_role, revoke_role};
pub use migrate::{MIGRATION_LOCK_KEY, migrate};
pub use plan::{Change, Kind, MigrationPlan, ObjectKey, RowCounts, plan_migrations};
pub use purge::{PurgeReport, purge};
pub use roles::{Password, SERVICE_ROLES};
pub use seed::{BRANCHES, SeedReport, TableCount, seed};
