//! SQL of the menu service: `pizza_types` and `pizza`, read only.
//!
//! Prices are read as `round(price::numeric, 2)::text`: exact whether the
//! column is the Django `double precision` or the data set's `float4` (whose
//! binary value of 17.95 is 17.950000762939453), and as text because the
//! client decodes `numeric` only as a string anyway. Columns the data set's
//! DDL left nullable are coalesced so legacy rows still list.

use super::price;
use crate::db::{Db, DbError, column, text};
use crate::menu::{MenuPizza, PizzaType};

/// Every pizza with its type, in no particular order (see [`crate::menu::sort_menu`]).
pub fn list_pizzas(db: &Db) -> Result<Vec<MenuPizza>, DbError> {
    let rows = db.query(
        "SELECT p.pizza_id,
                coalesce(t.pizza_nm, '') AS pizza_nm,
                coalesce(p.size, '') AS size,
                round(p.price::numeric, 2)::text AS price,
                p.pizza_type_id,
                coalesce(t.pizza_categ, '') AS pizza_categ
         FROM pizza p
         JOIN pizza_types t ON t.pizza_type_id = p.pizza_type_id
         WHERE p.price IS NOT NULL",
        &[],
    )?;
    rows.rows()
        .map(|row| {
            Ok(MenuPizza {
                pizza_id: column(&row, "pizza_id")?,
                pizza_nm: column(&row, "pizza_nm")?,
                size: column(&row, "size")?,
                price: price(&column::<String>(&row, "price")?)?,
                pizza_type_id: column(&row, "pizza_type_id")?,
                pizza_categ: column(&row, "pizza_categ")?,
            })
        })
        .collect()
}

/// Every pizza type, by category, name and id.
pub fn list_types(db: &Db) -> Result<Vec<PizzaType>, DbError> {
    let rows = db.query(
        "SELECT pizza_type_id,
                coalesce(pizza_nm, '') AS pizza_nm,
                coalesce(pizza_categ, '') AS pizza_categ,
                coalesce(pizza_img_url, '') AS pizza_img_url,
                ingredients
         FROM pizza_types
         ORDER BY pizza_categ COLLATE \"C\", pizza_nm COLLATE \"C\", pizza_type_id COLLATE \"C\"",
        &[],
    )?;
    rows.rows()
        .map(|row| {
            let ingredients: Vec<Option<String>> = column(&row, "ingredients")?;
            Ok(PizzaType {
                pizza_type_id: column(&row, "pizza_type_id")?,
                pizza_nm: column(&row, "pizza_nm")?,
                pizza_categ: column(&row, "pizza_categ")?,
                pizza_img_url: column(&row, "pizza_img_url")?,
                ingredients: ingredients.into_iter().flatten().collect(),
            })
        })
        .collect()
}

/// The id of the pizza of type name `pizza_nm` (exact, case-sensitive) in
/// `size`, if there is one. Should two types share a name (the schema does not
/// forbid it) the lowest pizza id wins, deterministically.
pub fn pizza_id(db: &Db, pizza_nm: &str, size: &str) -> Result<Option<String>, DbError> {
    let rows = db.query(
        "SELECT p.pizza_id
         FROM pizza p
         JOIN pizza_types t ON t.pizza_type_id = p.pizza_type_id
         WHERE t.pizza_nm = $1 AND p.size = $2
         ORDER BY p.pizza_id COLLATE \"C\"
         LIMIT 1",
        &[text(pizza_nm), text(size)],
    )?;
    rows.rows()
        .next()
        .map(|row| column(&row, "pizza_id"))
        .transpose()
}
