//! The real pizza place: the data set's orders as `POST /api/order/` bodies.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Deserialize)]
struct DetailRow {
    order_id: u32,
    pizza_id: String,
    quantity: u32,
}

/// The shape of the replayed orders, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct OrderMix {
    /// Orders in the data set.
    pub orders: usize,
    /// Average order lines per order.
    pub lines_per_order: f64,
    /// Average pizzas (sum of quantities) per order.
    pub pizzas_per_order: f64,
    /// The most lines in one order.
    pub max_lines: usize,
}

/// Every order of `order_details.csv`, in order-id order, as the front would
/// send it (type name, size, quantity per line), from branch
/// `branches[order_id % branches.len()]`.
pub fn order_bodies(
    data_dir: &Path,
    branches: &[String],
) -> anyhow::Result<(Vec<Bytes>, OrderMix)> {
    anyhow::ensure!(!branches.is_empty(), "the database has no branches");
    let catalogue = pizza_db::load_catalogue(data_dir)?;
    let type_names: HashMap<&str, &str> = catalogue
        .pizza_types
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_str()))
        .collect();
    let pizzas: HashMap<&str, (&str, &str)> = catalogue
        .pizzas
        .iter()
        .map(|p| {
            (
                p.id.as_str(),
                (type_names[p.type_id.as_str()], p.size.as_str()),
            )
        })
        .collect();
    let mut orders: BTreeMap<u32, Vec<serde_json::Value>> = BTreeMap::new();
    let mut pizza_count = 0u64;
    for row in csv::Reader::from_path(data_dir.join("order_details.csv"))?.deserialize() {
        let row: DetailRow = row?;
        let (name, size) = pizzas
            .get(row.pizza_id.as_str())
            .ok_or_else(|| anyhow::anyhow!("unknown pizza {}", row.pizza_id))?;
        pizza_count += u64::from(row.quantity);
        orders
            .entry(row.order_id)
            .or_default()
            .push(serde_json::json!({
                "name": name, "size": size, "quantity": row.quantity,
            }));
    }
    let line_count: usize = orders.values().map(Vec::len).sum();
    let mix = OrderMix {
        orders: orders.len(),
        lines_per_order: line_count as f64 / orders.len() as f64,
        pizzas_per_order: pizza_count as f64 / orders.len() as f64,
        max_lines: orders.values().map(Vec::len).max().unwrap_or(0),
    };
    let bodies = orders
        .into_iter()
        .map(|(id, lines)| {
            let branch = &branches[id as usize % branches.len()];
            Bytes::from(serde_json::json!({"branchId": branch, "lines": lines}).to_string())
        })
        .collect();
    Ok((bodies, mix))
}
