//! The order service's rules and shapes, as plain Rust:
//! - [`new_order`]: what a valid `POST /api/order/` body is, and its fingerprint;
//! - [`placed`]: the answer to a placed order (also what a replay returns);
//! - [`branch`] and [`history`]: the rows of `GET /api/order/branch/` and
//!   `GET /api/order/myorder/`;
//! - [`lifecycle`]: the order's states and the table of legal transitions;
//! - [`view`]: one order as `GET /api/order/{id}/` shows it;
//! - [`queue`]: the kitchen's queue, its query and its pages;
//! - [`watch`]: how long a live-status request waits for a change.
//!
//! Everything that needs the database (whether the branch and each
//! name-and-size pair exist, prices, the shop-time `date`/`time` columns) is
//! settled in the single placement statement of [`crate::store::order`].

pub mod branch;
pub mod history;
pub mod lifecycle;
pub mod new_order;
pub mod placed;
pub mod queue;
pub mod view;
pub mod watch;

pub use branch::Branch;
pub use history::HistoryLine;
pub use new_order::{MAX_LINES, MAX_QUANTITY, NewOrder, OrderLine, check_member_may_order};
pub use placed::PlacedOrder;
