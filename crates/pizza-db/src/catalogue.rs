//! Reading the menu from the data set's CSV files into plain structs.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::images::image_for;

/// One row of `pizza_types`, as the services store it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PizzaType {
    /// Primary key, e.g. `bbq_ckn`.
    pub id: String,
    /// Display name (`pizza_nm`); unique in the data set, and name lookups rely on that.
    pub name: String,
    /// One of Classic, Chicken, Supreme, Veggie (`pizza_categ`).
    pub category: String,
    /// Ingredients in the data set's order (`pizza_types.ingredients text[]`).
    pub ingredients: Vec<String>,
    /// Path of the picture the front shows, `""` for none (`pizza_img_url`).
    pub img_url: String,
}

/// One row of `pizza`: a pizza type in one size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pizza {
    /// Primary key, `<type_id>_<lower-case size>`.
    pub id: String,
    /// The `pizza_types` row this belongs to.
    pub type_id: String,
    /// Size code: S, M, L, XL or XXL.
    pub size: String,
    /// Price exactly as written in the CSV (e.g. `20.5`), so the database, not a float
    /// round trip here, decides the stored value.
    pub price: String,
}

/// The whole menu of the data set: what `seed` loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    /// The 32 pizza types, in file order.
    pub pizza_types: Vec<PizzaType>,
    /// The 96 pizzas, in file order.
    pub pizzas: Vec<Pizza>,
}

#[derive(Deserialize)]
struct PizzaTypeRow {
    pizza_type_id: String,
    name: String,
    category: String,
    ingredients: String,
}

#[derive(Deserialize)]
struct PizzaRow {
    pizza_id: String,
    pizza_type_id: String,
    size: String,
    price: String,
}

/// Parses `pizza_types.csv` (Windows-1252) and `pizzas.csv` from `data_dir`, so the seed and
/// the tests work from the same typed view of the data set. Fails if a pizza names an
/// unknown type, which the database's foreign key would reject anyway.
pub fn load_catalogue(data_dir: &Path) -> anyhow::Result<Catalogue> {
    let pizza_types: Vec<PizzaType> = read_csv::<PizzaTypeRow>(&data_dir.join("pizza_types.csv"))?
        .into_iter()
        .map(|row| PizzaType {
            img_url: image_for(&row.pizza_type_id).to_owned(),
            ingredients: row.ingredients.split(", ").map(str::to_owned).collect(),
            id: row.pizza_type_id,
            name: row.name,
            category: row.category,
        })
        .collect();
    let pizzas: Vec<Pizza> = read_csv::<PizzaRow>(&data_dir.join("pizzas.csv"))?
        .into_iter()
        .map(|row| Pizza {
            id: row.pizza_id,
            type_id: row.pizza_type_id,
            size: row.size,
            price: row.price,
        })
        .collect();
    let type_ids: HashSet<&str> = pizza_types.iter().map(|t| t.id.as_str()).collect();
    if let Some(orphan) = pizzas
        .iter()
        .find(|p| !type_ids.contains(p.type_id.as_str()))
    {
        bail!(
            "pizza {} refers to unknown pizza type {}",
            orphan.id,
            orphan.type_id
        );
    }
    Ok(Catalogue {
        pizza_types,
        pizzas,
    })
}

/// Reads a headed CSV file. The data set's files are ASCII except `pizza_types.csv`, which is
/// Windows-1252; decoding every file as Windows-1252 is correct for both.
pub(crate) fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&bytes);
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The data set the repository carries.
    fn data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/pizza-sales")
    }

    fn catalogue() -> Catalogue {
        load_catalogue(&data_dir()).unwrap()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Every file `SHA256SUMS` lists (in `sha256sum` format: hash, two spaces or a space and
    /// `*`, file name) has exactly those bytes, and all four CSV files are listed.
    #[test]
    fn data_set_matches_its_checksums() {
        use sha2::{Digest, Sha256};

        let dir = data_dir();
        let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
        let mut listed = Vec::new();
        for line in sums.lines().filter(|line| !line.trim().is_empty()) {
            let (expected, rest) = line.split_once(' ').expect("`<sha256>  <file>` lines");
            let name = rest.strip_prefix([' ', '*']).unwrap_or(rest);
            let bytes = std::fs::read(dir.join(name)).unwrap();
            assert_eq!(hex(&Sha256::digest(&bytes)), expected, "{name}");
            listed.push(name);
        }
        listed.sort_unstable();
        assert_eq!(
            listed,
            [
                "order_details.csv",
                "orders.csv",
                "pizza_types.csv",
                "pizzas.csv"
            ]
        );
    }

    #[test]
    fn counts_match_the_data_set() {
        let c = catalogue();
        assert_eq!(c.pizza_types.len(), 32);
        assert_eq!(c.pizzas.len(), 96);
    }

    #[test]
    fn categories_match_the_contract() {
        let c = catalogue();
        let count = |cat: &str| c.pizza_types.iter().filter(|t| t.category == cat).count();
        assert_eq!(
            [
                count("Classic"),
                count("Chicken"),
                count("Supreme"),
                count("Veggie")
            ],
            [8, 6, 9, 9]
        );
    }

    #[test]
    fn nduja_is_decoded_from_windows_1252() {
        let c = catalogue();
        let calabrese = c.pizza_types.iter().find(|t| t.id == "calabrese").unwrap();
        assert_eq!(
            calabrese.ingredients,
            [
                "\u{2018}Nduja Salami",
                "Pancetta",
                "Tomatoes",
                "Red Onions",
                "Friggitello Peppers",
                "Garlic"
            ]
        );
    }

    #[test]
    fn first_rows_are_parsed_field_by_field() {
        let c = catalogue();
        assert_eq!(
            c.pizza_types[0],
            PizzaType {
                id: "bbq_ckn".into(),
                name: "The Barbecue Chicken Pizza".into(),
                category: "Chicken".into(),
                ingredients: [
                    "Barbecued Chicken",
                    "Red Peppers",
                    "Green Peppers",
                    "Tomatoes",
                    "Red Onions",
                    "Barbecue Sauce"
                ]
                .map(String::from)
                .to_vec(),
                img_url: String::new(),
            }
        );
        assert_eq!(
            c.pizzas[0],
            Pizza {
                id: "bbq_ckn_s".into(),
                type_id: "bbq_ckn".into(),
                size: "S".into(),
                price: "12.75".into(),
            }
        );
    }

    #[test]
    fn prices_keep_their_csv_text() {
        let c = catalogue();
        let price = |id: &str| c.pizzas.iter().find(|p| p.id == id).unwrap().price.clone();
        assert_eq!(price("pepperoni_s"), "9.75");
        assert_eq!(price("the_greek_xxl"), "35.95");
    }

    #[test]
    fn eleven_types_have_images() {
        let c = catalogue();
        let with_image: Vec<_> = c
            .pizza_types
            .iter()
            .filter(|t| !t.img_url.is_empty())
            .map(|t| (t.id.as_str(), t.img_url.as_str()))
            .collect();
        assert_eq!(with_image.len(), 11);
        assert!(with_image.contains(&("southw_ckn", "images/south.png")));
        assert!(with_image.contains(&("veggie_veg", "images/vege.png")));
    }

    #[test]
    fn every_pizza_id_is_type_and_lower_case_size() {
        for p in catalogue().pizzas {
            assert_eq!(p.id, format!("{}_{}", p.type_id, p.size.to_lowercase()));
        }
    }
}
