//! The menu's rules, as plain functions and types: the order pizzas are
//! listed in and how prices appear in JSON. PostgreSQL renders the lists
//! itself (migration 0013); these are the reference its bytes are tested
//! against (crates/e2e/tests/menu_document.rs), and the order service's prices
//! follow [`price_number`].
//!
//! Prices are computed and read as PostgreSQL `numeric` text (never through a
//! float column's binary value), then emitted as JSON numbers: `17.95`, and
//! `16.0` for whole amounts, as the Python services printed them.

use serde::Serialize;

/// How long clients may reuse a menu answer before revalidating it with
/// `If-None-Match` (the catalogue changes only when it is re-seeded).
pub const CACHE_MAX_AGE_SECS: u32 = 60;

/// Pizza sizes from smallest to largest; sizes not listed sort after these.
pub const SIZES: [&str; 5] = ["S", "M", "L", "XL", "XXL"];

/// One element of `GET /api/menu/`.
///
/// The first four fields are the contract's (the front reads them); the last
/// two are additions that old clients ignore.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MenuPizza {
    /// `pizza.pizza_id`.
    pub pizza_id: String,
    /// The type's name, under the Django ORM key the front depends on.
    #[serde(rename = "pizza_type__pizza_nm")]
    pub pizza_nm: String,
    /// The size code (`S` .. `XXL`).
    pub size: String,
    /// The exact price.
    pub price: serde_json::Number,
    /// `pizza.pizza_type_id`.
    pub pizza_type_id: String,
    /// The type's category.
    pub pizza_categ: String,
}

/// One element of `GET /api/menu/types/`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PizzaType {
    /// `pizza_types.pizza_type_id`.
    pub pizza_type_id: String,
    /// The display name, also the name orders are placed by.
    pub pizza_nm: String,
    /// The category (`Classic`, `Chicken`, `Supreme`, `Veggie`).
    pub pizza_categ: String,
    /// A path relative to the site root, or `""` when there is no picture.
    pub pizza_img_url: String,
    /// The data set's ingredients, in its order.
    pub ingredients: Vec<String>,
}

/// Where a size sorts: its index in [`SIZES`], unknown sizes last.
pub fn size_rank(size: &str) -> usize {
    SIZES.iter().position(|s| *s == size).unwrap_or(SIZES.len())
}

/// Sorts the menu stably: category, then name, then size from S to XXL
/// (ties, which a well-formed catalogue never has, by size text and id).
pub fn sort_menu(pizzas: &mut [MenuPizza]) {
    pizzas.sort_by(|a, b| {
        (
            &a.pizza_categ,
            &a.pizza_nm,
            size_rank(&a.size),
            &a.size,
            &a.pizza_id,
        )
            .cmp(&(
                &b.pizza_categ,
                &b.pizza_nm,
                size_rank(&b.size),
                &b.size,
                &b.pizza_id,
            ))
    });
}

/// A price or total given as decimal text (`"17.95"`, `"16.00"`) as a JSON
/// number with the same value: serde_json prints the shortest text that reads
/// back as that value, so `17.95` stays `17.95` and `16.00` becomes `16.0`.
/// `None` when the text is not a finite decimal number.
pub fn price_number(decimal: &str) -> Option<serde_json::Number> {
    decimal
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pizza(categ: &str, nm: &str, size: &str) -> MenuPizza {
        MenuPizza {
            pizza_id: format!("{nm}_{size}"),
            pizza_nm: nm.into(),
            size: size.into(),
            price: price_number("1").unwrap(),
            pizza_type_id: nm.into(),
            pizza_categ: categ.into(),
        }
    }

    #[test]
    fn sizes_sort_small_to_large_and_unknown_last() {
        let ranks: Vec<usize> = ["S", "M", "L", "XL", "XXL", "Family"]
            .iter()
            .map(|s| size_rank(s))
            .collect();
        assert_eq!(ranks, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn menu_sorts_by_category_name_then_size() {
        let mut menu = vec![
            pizza("Veggie", "A", "S"),
            pizza("Classic", "The Greek", "XXL"),
            pizza("Classic", "The Greek", "L"),
            pizza("Classic", "The Greek", "XL"),
            pizza("Classic", "The Greek", "S"),
            pizza("Classic", "The Greek", "M"),
            pizza("Classic", "Big Meat", "M"),
            pizza("Chicken", "Z", "L"),
        ];
        sort_menu(&mut menu);
        let order: Vec<String> = menu
            .iter()
            .map(|p| format!("{}/{}/{}", p.pizza_categ, p.pizza_nm, p.size))
            .collect();
        assert_eq!(
            order,
            [
                "Chicken/Z/L",
                "Classic/Big Meat/M",
                "Classic/The Greek/S",
                "Classic/The Greek/M",
                "Classic/The Greek/L",
                "Classic/The Greek/XL",
                "Classic/The Greek/XXL",
                "Veggie/A/S",
            ]
        );
    }

    #[test]
    fn prices_are_exact_json_numbers() {
        let text = |d: &str| serde_json::to_string(&price_number(d).unwrap()).unwrap();
        assert_eq!(text("17.95"), "17.95");
        assert_eq!(text("35.95"), "35.95");
        assert_eq!(text("9.75"), "9.75");
        assert_eq!(text("23.65"), "23.65");
        assert_eq!(text("16.00"), "16.0");
        assert_eq!(text("25000.00"), "25000.0");
        assert_eq!(text("0.10"), "0.1");
        assert_eq!(text("817860.05"), "817860.05");
    }

    #[test]
    fn non_decimal_prices_are_internal_errors() {
        assert_eq!(price_number("abc"), None);
        assert_eq!(price_number("NaN"), None);
    }

    #[test]
    fn menu_json_uses_the_contract_keys() {
        let v = serde_json::to_value(pizza("Classic", "P", "S")).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "pizza_categ",
                "pizza_id",
                "pizza_type__pizza_nm",
                "pizza_type_id",
                "price",
                "size"
            ]
        );
    }
}
