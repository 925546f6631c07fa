//! The shared crate of the pizza components.
//!
//! Every endpoint of the shop is its own small wasm component; this crate holds
//! what they all need so that each component's `lib.rs` stays a short handler:
//!
//! - [`error`]: errors as values (status, message, a cause for the log);
//! - [`http`]: method checks, the request body limit, JSON responses, and
//!   turning errors into responses (logging each 5xx once);
//! - [`body`]: parsing request bodies into fields with clear messages;
//! - [`token`], [`password`], [`member`], [`throttle`]: the login rules, plain
//!   Rust and unit-tested natively; [`client_address`]: who is asking;
//! - [`menu`], [`order`]: the menu's listing rules and the order rules
//!   (with the order's states and legal transitions), likewise; [`menu_document`]: the menu's lists as PostgreSQL stores them;
//! - [`admin`]: what a valid change of the shop owner's is (prices, sold-out
//!   pizzas, branches, roles), plain Rust;
//! - [`idempotency`]: `Idempotency-Key` replays, for every write that takes one;
//! - [`cart`]: what a valid cart is; [`payments`]: the payment saga, the
//!   provider's adapter and webhook signatures, plain Rust; [`outbound`]:
//!   outbound HTTP (the relay, the provider component, the test provider);
//! - [`order_move`]: serving a request that moves an order through its states
//!   (`If-Match`, 409/412, the one transition statement);
//! - [`auth`]: turning a `Bearer` header into a verified token, whose
//!   revocation the request's own statement checks; [`roles`]: what the
//!   token allows beyond ordering (staff of branches, admin);
//! - [`config`]: Spin variables; [`hex`]: hex text of bytes;
//!   [`constant_time`]: comparing secrets; [`paging`]: `?cursor=&limit=` pages;
//! - [`db`] and [`store`]: the PostgreSQL connection (with its own error type)
//!   and the SQL, one module per table owner.
//!
//! Dependencies point one way: `store` speaks [`db::DbError`], handlers turn
//! it into an [`ApiError`] with `?`, and only [`http`] makes responses.

pub mod admin;
pub mod auth;
pub mod body;
pub mod cart;
pub mod client_address;
pub mod config;
pub mod constant_time;
pub mod db;
pub mod error;
pub mod hex;
pub mod http;
pub mod idempotency;
pub mod member;
pub mod menu;
pub mod menu_document;
pub mod order;
pub mod order_move;
pub mod outbound;
pub mod paging;
pub mod password;
pub mod payments;
pub mod placement;
pub mod request_log;
pub mod roles;
pub mod sales;
pub mod store;
pub mod throttle;
pub mod token;

pub use error::ApiError;
