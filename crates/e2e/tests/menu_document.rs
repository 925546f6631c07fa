//! The menu served from documents PostgreSQL keeps up to date: whoever
//! changes the catalogue (our seed, Django's admin during coexistence, a
//! price update by hand), the next request gets the new bytes and a new
//! `ETag`, and the bytes are exactly what the app's own types serialise to
//! (`pizza::menu`: order, keys, prices as `17.95` and `16.0`, escapes).
//!
//! That a request reads only the stored document, in one statement, is
//! `round_trips.rs`'s to show.

use pizza::menu::{MenuPizza, PizzaType, price_number, sort_menu};
use pizza_e2e::{TestApp, start_own_app};

/// Rows of a query whose columns are all text.
fn rows(app: &TestApp, sql: &str) -> Vec<Vec<String>> {
    let mut client = postgres::Client::connect(&app.admin_url, postgres::NoTls).unwrap();
    let rows = client.query(sql, &[]).unwrap();
    rows.iter()
        .map(|row| (0..row.len()).map(|i| row.get(i)).collect())
        .collect()
}

/// `GET /api/menu/` as the app's own types serialise the catalogue.
fn expected_menu(app: &TestApp) -> Vec<u8> {
    let mut pizzas: Vec<MenuPizza> = rows(
        app,
        "SELECT p.pizza_id, coalesce(t.pizza_nm, ''), coalesce(p.size, ''),
                round(p.price::numeric, 2)::text, p.pizza_type_id, coalesce(t.pizza_categ, '')
         FROM pizza p JOIN pizza_types t ON t.pizza_type_id = p.pizza_type_id
         WHERE p.price IS NOT NULL",
    )
    .into_iter()
    .map(|r| MenuPizza {
        pizza_id: r[0].clone(),
        pizza_nm: r[1].clone(),
        size: r[2].clone(),
        price: price_number(&r[3]).unwrap(),
        pizza_type_id: r[4].clone(),
        pizza_categ: r[5].clone(),
    })
    .collect();
    sort_menu(&mut pizzas);
    serde_json::to_vec(&pizzas).unwrap()
}

/// `GET /api/menu/types/` as the app's own types serialise the catalogue.
fn expected_types(app: &TestApp) -> Vec<u8> {
    let types: Vec<PizzaType> = rows(
        app,
        "SELECT pizza_type_id, coalesce(pizza_nm, ''), coalesce(pizza_categ, ''),
                coalesce(pizza_img_url, ''),
                (SELECT coalesce(json_agg(i ORDER BY n), '[]')::text
                 FROM unnest(ingredients) WITH ORDINALITY AS u (i, n) WHERE i IS NOT NULL)
         FROM pizza_types
         ORDER BY pizza_categ COLLATE \"C\", pizza_nm COLLATE \"C\", pizza_type_id COLLATE \"C\"",
    )
    .into_iter()
    .map(|r| PizzaType {
        pizza_type_id: r[0].clone(),
        pizza_nm: r[1].clone(),
        pizza_categ: r[2].clone(),
        pizza_img_url: r[3].clone(),
        ingredients: serde_json::from_str(&r[4]).unwrap(),
    })
    .collect();
    serde_json::to_vec(&types).unwrap()
}

#[test]
fn the_menu_follows_every_catalogue_change_byte_for_byte() {
    let (_pg, _host, app) = start_own_app();
    let menu = app.get("/api/menu/", None);
    let types = app.get("/api/menu/types/", None);
    assert_eq!(menu.text.as_bytes(), expected_menu(&app), "seeded menu");
    assert_eq!(types.text.as_bytes(), expected_types(&app), "seeded types");

    // A price changed by hand, as an admin or Django would.
    app.sql("UPDATE pizza SET price = 99.5 WHERE pizza_id = 'hawaiian_m'");
    let changed = app.get("/api/menu/", None);
    assert_ne!(changed.header("etag"), menu.header("etag"));
    assert_eq!(changed.text.as_bytes(), expected_menu(&app));
    assert!(
        changed.text.contains(r#""price":99.5,"#),
        "{}",
        changed.text
    );
    let tag = menu.header("etag").unwrap();
    let revalidated = app.request("GET", "/api/menu/", &[("if-none-match", tag)], None);
    assert_eq!(revalidated.status, 200, "the old tag no longer matches");

    // A new type whose texts need JSON escapes, in a new category, with a
    // whole price; then a type removed with its pizzas.
    app.sql(
        "INSERT INTO pizza_types (pizza_type_id, pizza_nm, pizza_categ, pizza_img_url, ingredients) \
         VALUES ('odd', E'The \"Odd\" \\\\ Pizza\\t\u{e9}\u{1F355}', E'Aa\\u0001', '', \
                 ARRAY['Basil', NULL, E'Line\\nBreak']);
         INSERT INTO pizza (pizza_id, pizza_type_id, size, price) VALUES
             ('odd_s', 'odd', 'S', 16), ('odd_xxl', 'odd', 'XXL', 25000.1), ('odd_f', 'odd', 'Family', 0.1)",
    );
    let types = app.get("/api/menu/types/", None);
    assert_eq!(types.text.as_bytes(), expected_types(&app));
    assert!(
        types.text.contains(r#"\"Odd\" \\ Pizza\t"#),
        "{}",
        types.text
    );
    let menu = app.get("/api/menu/", None);
    assert_eq!(menu.text.as_bytes(), expected_menu(&app));
    assert!(menu.text.contains(r#""price":16.0,"#), "{}", menu.text);

    app.sql("DELETE FROM pizza WHERE pizza_type_id = 'odd'; DELETE FROM pizza_types WHERE pizza_type_id = 'odd'");
    assert_eq!(
        app.get("/api/menu/", None).text.as_bytes(),
        expected_menu(&app)
    );
    assert_eq!(
        app.get("/api/menu/types/", None).text.as_bytes(),
        expected_types(&app)
    );
}
