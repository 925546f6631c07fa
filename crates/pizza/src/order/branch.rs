//! One element of `GET /api/order/branch/`.

use serde::Serialize;

/// A branch the front end offers in its order form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Branch {
    /// `branch.bran_id`, the value orders send as `branchId`.
    pub bran_id: String,
    /// The display name.
    pub bran_nm: String,
}
