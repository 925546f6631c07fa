//! Loading the menu and the branches into the database, idempotently.

use postgres::{Client, Transaction};

use std::path::Path;

use crate::catalogue::{Catalogue, Pizza, PizzaType, load_catalogue};

/// Branches the front end historically offered (`bran_id`, `bran_nm`); the data set has none,
/// and orders need one to reference.
pub const BRANCHES: [(&str, &str); 4] = [
    ("1", "미국 오아이오점"),
    ("2", "일본 오사카점"),
    ("3", "한국 서울점"),
    ("4", "영국 런던점"),
];

/// Rows offered and rows actually written for one table, so a re-run can be seen to be a no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableCount {
    /// Rows in the source (data set or [`BRANCHES`]).
    pub rows: usize,
    /// Rows inserted or changed by this run; 0 when the table already matched.
    pub changed: u64,
}

/// What [`seed`] did, per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// `pizza_types`.
    pub pizza_types: TableCount,
    /// `pizza`.
    pub pizzas: TableCount,
    /// `branch`.
    pub branches: TableCount,
}

const UPSERT_PIZZA_TYPES: &str = "
INSERT INTO pizza_types (pizza_type_id, pizza_nm, pizza_categ, pizza_img_url, ingredients)
SELECT id, nm, categ, img, string_to_array(ingr, ', ')
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(id, nm, categ, img, ingr)
ON CONFLICT (pizza_type_id) DO UPDATE SET
    pizza_nm = excluded.pizza_nm,
    pizza_categ = excluded.pizza_categ,
    pizza_img_url = excluded.pizza_img_url,
    ingredients = excluded.ingredients
WHERE (pizza_types.pizza_nm, pizza_types.pizza_categ, pizza_types.pizza_img_url, pizza_types.ingredients)
    IS DISTINCT FROM (excluded.pizza_nm, excluded.pizza_categ, excluded.pizza_img_url, excluded.ingredients)";

// The price goes through numeric so the column's own cast (double precision or float4)
// turns the CSV's decimal text into the nearest value, exactly as a literal would.
const UPSERT_PIZZAS: &str = "
INSERT INTO pizza (pizza_id, pizza_type_id, size, price)
SELECT id, type_id, size, price::numeric
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(id, type_id, size, price)
ON CONFLICT (pizza_id) DO UPDATE SET
    pizza_type_id = excluded.pizza_type_id,
    size = excluded.size,
    price = excluded.price
WHERE (pizza.pizza_type_id, pizza.size, pizza.price)
    IS DISTINCT FROM (excluded.pizza_type_id, excluded.size, excluded.price)";

const UPSERT_BRANCHES: &str = "
INSERT INTO branch (bran_id, bran_nm)
SELECT id, nm FROM unnest($1::text[], $2::text[]) AS t(id, nm)
ON CONFLICT (bran_id) DO UPDATE SET bran_nm = excluded.bran_nm
WHERE branch.bran_nm IS DISTINCT FROM excluded.bran_nm";

/// Upserts the data set's pizza types and pizzas (read from `data_dir` with
/// [`load_catalogue`]) and the [`BRANCHES`] in one transaction, one statement per table, so
/// the services have a menu and branches to order from. Re-running changes nothing; rows not
/// in the data set are left alone, and the historical orders are not loaded
/// ([`crate::seed_history`] does that, on request).
pub fn seed(client: &mut Client, data_dir: &Path) -> anyhow::Result<SeedReport> {
    let catalogue = load_catalogue(data_dir)?;
    let mut tx = client.transaction()?;
    let report = SeedReport {
        pizza_types: upsert_pizza_types(&mut tx, &catalogue)?,
        pizzas: upsert_pizzas(&mut tx, &catalogue)?,
        branches: upsert_branches(&mut tx)?,
    };
    tx.commit()?;
    Ok(report)
}

fn upsert_pizza_types(tx: &mut Transaction, catalogue: &Catalogue) -> anyhow::Result<TableCount> {
    let types = &catalogue.pizza_types;
    let column = |f: fn(&PizzaType) -> &str| types.iter().map(f).collect::<Vec<_>>();
    // A text[] per column keeps one statement; the ingredient lists travel joined and are
    // split again by the server (no ingredient contains ", ", they were split on it).
    let ingredients: Vec<String> = types.iter().map(|t| t.ingredients.join(", ")).collect();
    let changed = tx.execute(
        UPSERT_PIZZA_TYPES,
        &[
            &column(|t| &t.id),
            &column(|t| &t.name),
            &column(|t| &t.category),
            &column(|t| &t.img_url),
            &ingredients,
        ],
    )?;
    Ok(TableCount {
        rows: types.len(),
        changed,
    })
}

fn upsert_pizzas(tx: &mut Transaction, catalogue: &Catalogue) -> anyhow::Result<TableCount> {
    let pizzas = &catalogue.pizzas;
    let column = |f: fn(&Pizza) -> &str| pizzas.iter().map(f).collect::<Vec<_>>();
    let changed = tx.execute(
        UPSERT_PIZZAS,
        &[
            &column(|p| &p.id),
            &column(|p| &p.type_id),
            &column(|p| &p.size),
            &column(|p| &p.price),
        ],
    )?;
    Ok(TableCount {
        rows: pizzas.len(),
        changed,
    })
}

fn upsert_branches(tx: &mut Transaction) -> anyhow::Result<TableCount> {
    let ids: Vec<&str> = BRANCHES.iter().map(|(id, _)| *id).collect();
    let names: Vec<&str> = BRANCHES.iter().map(|(_, name)| *name).collect();
    let changed = tx.execute(UPSERT_BRANCHES, &[&ids, &names])?;
    Ok(TableCount {
        rows: BRANCHES.len(),
        changed,
    })
}
