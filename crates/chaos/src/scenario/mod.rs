//! The four faults, each a module with a `run` that injects it under load,
//! checks its criteria and settles the orders placed meanwhile.

pub mod crash;
pub mod lock;
pub mod pool;
pub mod sigterm;
