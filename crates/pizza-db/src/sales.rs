//! Reading the data set's year of sales (`orders.csv`, `order_details.csv`) into plain
//! structs, for `seed --history`.

use std::collections::HashSet;
use std::path::Path;

use anyhow::bail;
use serde::Deserialize;

use crate::catalogue::read_csv;

/// One order of the data set: when it was placed, and nothing else (no member, no branch).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SaleOrder {
    /// The data set's id (1 to 21,350); not the id the order gets in the database.
    #[serde(rename = "order_id")]
    pub id: u32,
    /// `YYYY-MM-DD`, as `orders.date` stores it.
    pub date: String,
    /// `HH:MM:SS`, as `orders.time` stores it.
    pub time: String,
}

/// One line of an order of the data set (its own id, `order_details_id`, is not kept).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SaleLine {
    /// The data set's id of the order the line belongs to.
    pub order_id: u32,
    /// The pizza, a `pizzas.csv` id.
    pub pizza_id: String,
    /// How many.
    pub quantity: i32,
}

/// The data set's orders and lines, in file order (order id, then line id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sales {
    /// The 21,350 orders.
    pub orders: Vec<SaleOrder>,
    /// Their 48,620 lines.
    pub lines: Vec<SaleLine>,
}

/// Parses `orders.csv` and `order_details.csv` from `data_dir`. Fails if an order id is
/// repeated or a line names an order the file does not have.
pub fn load_sales(data_dir: &Path) -> anyhow::Result<Sales> {
    let orders: Vec<SaleOrder> = read_csv(&data_dir.join("orders.csv"))?;
    let lines: Vec<SaleLine> = read_csv(&data_dir.join("order_details.csv"))?;
    let mut ids = HashSet::with_capacity(orders.len());
    if let Some(twice) = orders.iter().find(|o| !ids.insert(o.id)) {
        bail!("orders.csv has order {} twice", twice.id);
    }
    if let Some(orphan) = lines.iter().find(|l| !ids.contains(&l.order_id)) {
        bail!(
            "order_details.csv has a line of order {}, which orders.csv does not have",
            orphan.order_id
        );
    }
    Ok(Sales { orders, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_year_is_read() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/pizza-sales");
        let sales = load_sales(&dir).unwrap();
        assert_eq!((sales.orders.len(), sales.lines.len()), (21_350, 48_620));
        assert_eq!(
            sales.orders[0],
            SaleOrder {
                id: 1,
                date: "2015-01-01".into(),
                time: "11:38:36".into()
            }
        );
        assert_eq!(
            sales.lines[0],
            SaleLine {
                order_id: 1,
                pizza_id: "hawaiian_m".into(),
                quantity: 1
            }
        );
    }
}
