//! The SQL of the shop, one module per table owner (contract section 1.1).
//! Every statement is parameterised; nothing else in the project writes SQL
//! for these tables.

pub mod login;
pub mod menu;
pub mod order;
