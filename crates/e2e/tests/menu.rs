//! The menu service, black-box: the pizza list (contract fields, exact prices,
//! stable order, ETag/304), the pizza types with ingredients, and the pizza
//! id lookup with its 404 and 400 answers.

use pizza_e2e::app;
use serde_json::{Value, json};

const SIZES: [&str; 5] = ["S", "M", "L", "XL", "XXL"];

fn menu() -> Vec<Value> {
    let r = app().get("/api/menu/", None);
    assert_eq!(r.status, 200, "{}", r.text);
    r.json.as_array().expect("an array").clone()
}

fn find<'a>(menu: &'a [Value], pizza_id: &str) -> &'a Value {
    menu.iter()
        .find(|p| p["pizza_id"] == pizza_id)
        .unwrap_or_else(|| panic!("{pizza_id} missing"))
}

#[test]
fn the_menu_lists_every_pizza_with_the_contract_fields() {
    let menu = menu();
    assert_eq!(menu.len(), 96);
    assert_eq!(
        find(&menu, "bbq_ckn_s"),
        &json!({
            "pizza_id": "bbq_ckn_s",
            "pizza_type__pizza_nm": "The Barbecue Chicken Pizza",
            "size": "S",
            "price": 12.75,
            "pizza_type_id": "bbq_ckn",
            "pizza_categ": "Chicken",
        })
    );
}

#[test]
fn prices_are_exact_decimals() {
    let r = app().get("/api/menu/", None);
    assert!(r.text.contains(r#""pizza_id":"the_greek_xxl","pizza_type__pizza_nm":"The Greek Pizza","size":"XXL","price":35.95"#), "{}", r.text);
    assert!(r.text.contains(r#""pizza_id":"pepperoni_s","pizza_type__pizza_nm":"The Pepperoni Pizza","size":"S","price":9.75"#));
    assert!(!r.text.contains("0000"), "float noise in {}", r.text);
    let menu = r.json.as_array().unwrap();
    // Every price equals the database's value to the cent, and prints like Python's float.
    let db = app().sql("SELECT string_agg(pizza_id || '=' || round(price::numeric, 2), ',' ORDER BY pizza_id) FROM pizza");
    for pair in db.split(',') {
        let (id, price) = pair.split_once('=').unwrap();
        let p = &find(menu, id)["price"];
        assert!(p.is_f64(), "{id}: {p} should print with a decimal point");
        assert_eq!(p.as_f64().unwrap(), price.parse::<f64>().unwrap(), "{id}");
    }
    // Whole prices print as 16.0, never 16.
    assert!(!r.text.contains(r#""price":16,"#));
}

#[test]
fn the_menu_is_ordered_by_category_name_and_size() {
    let menu = menu();
    let key = |p: &Value| {
        let size = p["size"].as_str().unwrap();
        (
            p["pizza_categ"].as_str().unwrap().to_owned(),
            p["pizza_type__pizza_nm"].as_str().unwrap().to_owned(),
            SIZES.iter().position(|s| *s == size).expect("known size"),
        )
    };
    let keys: Vec<_> = menu.iter().map(key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let greek: Vec<&str> = menu
        .iter()
        .filter(|p| p["pizza_type_id"] == "the_greek")
        .map(|p| p["size"].as_str().unwrap())
        .collect();
    assert_eq!(greek, SIZES);
    assert_eq!(menu, self::menu(), "the order is stable");
}

#[test]
fn the_menu_is_cacheable_and_revalidates_with_304() {
    let r = app().get("/api/menu/", None);
    let etag = r.header("etag").expect("ETag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(
        r.header("cache-control").unwrap().contains("max-age="),
        "{:?}",
        r.header("cache-control")
    );
    assert_eq!(
        app().get("/api/menu/", None).header("etag"),
        Some(etag.as_str()),
        "same data, same tag"
    );

    for matching in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"nope\", {etag}"),
        "*".into(),
    ] {
        let r = app().request("GET", "/api/menu/", &[("if-none-match", &matching)], None);
        assert_eq!(r.status, 304, "{matching}");
        assert_eq!(r.text, "");
        assert_eq!(r.header("etag"), Some(etag.as_str()));
        assert!(r.header("cache-control").is_some());
    }
    let r = app().request("GET", "/api/menu/", &[("if-none-match", "\"stale\"")], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json.as_array().unwrap().len(), 96);
}

#[test]
fn types_carry_pictures_and_ingredients() {
    let r = app().get("/api/menu/types/", None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("etag").is_some());
    let types = r.json.as_array().unwrap();
    assert_eq!(types.len(), 32);
    let pepperoni = types
        .iter()
        .find(|t| t["pizza_type_id"] == "pepperoni")
        .unwrap();
    assert_eq!(
        pepperoni,
        &json!({
            "pizza_type_id": "pepperoni",
            "pizza_nm": "The Pepperoni Pizza",
            "pizza_categ": "Classic",
            "pizza_img_url": "images/pepperoni.png",
            "ingredients": ["Mozzarella Cheese", "Pepperoni"],
        })
    );
    for t in types {
        let url = t["pizza_img_url"].as_str().expect("a string");
        assert!(
            !url.starts_with('/') && !url.contains("://"),
            "relative: {url}"
        );
        assert!(!t["ingredients"].as_array().unwrap().is_empty(), "{t}");
    }
    let calabrese = types
        .iter()
        .find(|t| t["pizza_type_id"] == "calabrese")
        .unwrap();
    assert!(
        calabrese["ingredients"]
            .as_array()
            .unwrap()
            .contains(&json!("\u{2018}Nduja Salami")),
        "{calabrese}"
    );
    let r = app().request(
        "GET",
        "/api/menu/types/",
        &[("if-none-match", r.header("etag").unwrap())],
        None,
    );
    assert_eq!(r.status, 304);
}

#[test]
fn pizza_id_is_found_by_exact_name_and_size() {
    let r = app().post(
        "/api/menu/get_pizza_id/",
        &json!({"pizza_nm": "The Greek Pizza", "size": "XXL"}),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"pizza_id": "the_greek_xxl"}));
    let form = app().request(
        "POST",
        "/api/menu/get_pizza_id/",
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(b"pizza_nm=The+Pepperoni+Pizza&size=S"),
    );
    assert_eq!(form.json, json!({"pizza_id": "pepperoni_s"}));
}

#[test]
fn unknown_pizzas_are_404() {
    for (name, size) in [
        ("No Such Pizza", "S"),
        ("The Brie Carre Pizza", "M"),
        ("the greek pizza", "XXL"),
        ("The Greek Pizza", "xxl"),
        ("", "S"),
    ] {
        let r = app().post(
            "/api/menu/get_pizza_id/",
            &json!({"pizza_nm": name, "size": size}),
            None,
        );
        assert_eq!(r.assert_error(404), "not found", "{name} {size}");
    }
}

#[test]
fn bad_lookup_bodies_are_400() {
    for body in [
        &b"{pizza_nm:"[..],
        b"[1]",
        b"",
        b"{\"size\":\"S\"}",
        b"{\"pizza_nm\":\"P\"}",
        b"{\"pizza_nm\":1,\"size\":\"S\"}",
    ] {
        let r = app().request(
            "POST",
            "/api/menu/get_pizza_id/",
            &[("content-type", "application/json")],
            Some(body),
        );
        r.assert_error(400);
    }
}

#[test]
fn wrong_methods_are_405() {
    let r = app().post("/api/menu/", &json!({}), None);
    r.assert_error(405);
    assert!(r.header("allow").unwrap().contains("GET"));
    app().get("/api/menu/get_pizza_id/", None).assert_error(405);
}
