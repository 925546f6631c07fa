//! How long and how hard each mode runs.

use std::time::Duration;

/// Which run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `make bench`: under 10 minutes on 2 cores.
    Full,
    /// `make bench QUICK=1`: under 2 minutes.
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

/// Levels and durations of one mode.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Closed-loop concurrencies of menu browse and order rush (and pgbench).
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
                members: 128,
                captured_orders: 64,
                cold_without_cache: true,
            },
            Mode::Quick => Plan {
                levels: vec![1, 8, 32],
                level_time: Duration::from_secs(3),
                login_levels: vec![1, 8],
                login_time: Duration::from_secs(3),
                open_time: Duration::from_secs(3),
                members: 32,
                captured_orders: 32,
                cold_without_cache: true,
            },
            Mode::Smoke => Plan {
                levels: vec![2],
                level_time: Duration::from_millis(500),
                login_levels: vec![2],
                login_time: Duration::from_millis(500),
                open_time: Duration::from_millis(500),
                members: 4,
                captured_orders: 4,
                cold_without_cache: false,
            },
        }
    }
}
