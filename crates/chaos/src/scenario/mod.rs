//! The four faults, each a module with a `run` that injects it under load,
//! checks its criteria and settles the orders placed meanwhile.

pub mod crash;
pub mod lock;
pub mod pool;
pub mod sigterm;

use crate::client::Shot;
use crate::report::flag;

/// Records a failure for every order answer that is neither 201 nor a 503:
/// under any of these faults, a client must hear "placed" or "try again".
fn flag_other_than_201_or_503(failures: &mut Vec<String>, shots: &[Shot]) {
    flag(
        failures,
        "answers neither 201 nor 503",
        shots
            .iter()
            .filter(|s| matches!(s.status(), Some(c) if c != 201 && c != 503)),
    );
}
