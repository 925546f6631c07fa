//! The shared crate of the pizza components.
//!
//! Every endpoint of the shop is its own small wasm component; this crate holds
//! what they all need so that each component's `lib.rs` stays a short handler:
//!
//! - [`error`]: errors as JSON (`{"detail", "error"}`) with the right status;
//! - [`http`]: method checks, the request body limit, JSON responses;
//! - [`body`]: parsing request bodies into fields with clear messages;
//! - [`token`], [`password`], [`member`]: the login rules, plain Rust and
//!   unit-tested natively;
//! - [`menu`], [`order`]: the menu's listing rules and the order rules
//!   (validation, idempotency fingerprints, shop time), likewise;
//! - [`auth`]: turning a `Bearer` header into an authenticated member;
//! - [`config`]: Spin variables;
//! - [`db`] and [`store`]: the PostgreSQL connection and the SQL, one module
//!   per table owner.

pub mod auth;
pub mod body;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod member;
pub mod menu;
pub mod order;
pub mod password;
pub mod store;
pub mod token;

pub use error::ApiError;
