//! How long and how hard each mode runs.

use crate::seed::Population;
use std::time::Duration;

/// Which run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `make bench`: under 10 minutes on 2 cores (per runtime).
    Full,
    /// `make bench QUICK=1`: about 3 minutes.
    Quick,
    /// `make bench-smoke` (from `make test`): a few requests per scenario.
    Smoke,
}

impl Mode {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Quick => "quick",
            Mode::Smoke => "smoke",
        }
    }
}

/// The mean think time of the seed-scale users. Negative-exponential think
/// times are TPC-W's (mean 7 s there, a human reading a page); 2.5 s is a
/// brisk customer who knows the menu, and what makes 1,000 users offer
/// 1,000 / (3 × 2.5 s) = 133 orders/s, a third over the 100 orders/s goal.
pub const THINK_MEAN: Duration = Duration::from_millis(2500);

/// Levels and durations of one mode.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Closed-loop concurrencies of menu 200, menu 304 and order rush (and pgbench).
    pub levels: Vec<usize>,
    /// Time per level.
    pub level_time: Duration,
    /// Closed-loop concurrencies of the login storm (argon2: kept small).
    pub login_levels: Vec<usize>,
    /// Time per login-storm level.
    pub login_time: Duration,
    /// Time of each open-loop run.
    pub open_time: Duration,
    /// Members registered and logged in up front.
    pub members: usize,
    /// Orders placed while PostgreSQL logs the order statement (pgbench's parameter sets).
    pub captured_orders: usize,
    /// Whether the first start runs with an empty compile cache.
    pub cold_without_cache: bool,
    /// The seed-scale population.
    pub population: Population,
}

impl Plan {
    /// The plan of `mode`.
    pub fn new(mode: Mode) -> Plan {
        match mode {
            Mode::Full => Plan {
                levels: vec![1, 8, 32, 128],
                level_time: Duration::from_secs(12),
                login_levels: vec![1, 8, 32],
                login_time: Duration::from_secs(6),
                open_time: Duration::from_secs(15),
                members: 1000,
                captured_orders: 64,
                cold_without_cache: true,
                population: Population {
                    users: 1000,
                    think_mean: THINK_MEAN,
                    duration: Duration::from_secs(30),
                },
            },
            Mode::Quick => Plan {
                levels: vec![1, 8, 32, 128],
                level_time: Duration::from_secs(3),
                login_levels: vec![1, 8],
                login_time: Duration::from_secs(3),
                open_time: Duration::from_secs(3),
                members: 1000,
                captured_orders: 32,
                cold_without_cache: true,
                population: Population {
                    users: 1000,
                    think_mean: THINK_MEAN,
                    duration: Duration::from_secs(12),
                },
            },
            Mode::Smoke => Plan {
                levels: vec![2],
                level_time: Duration::from_millis(500),
                login_levels: vec![2],
                login_time: Duration::from_millis(500),
                open_time: Duration::from_millis(500),
                members: 20,
                captured_orders: 4,
                cold_without_cache: false,
                population: Population {
                    users: 20,
                    think_mean: Duration::from_millis(300),
                    duration: Duration::from_secs(2),
                },
            },
        }
    }
}
