//! The order rules, as plain functions: what a valid order request is, the
//! `Idempotency-Key` header, the fingerprint that tells a replay from a
//! different request, the shop's time zone and the shapes of the answers.
//!
//! Everything that needs the database (whether the branch and each
//! name-and-size pair exist, prices, the shop-time `date`/`time` columns) is
//! settled in the single placement statement of [`crate::store::order`].

use crate::body::Fields;
use crate::error::ApiError;
use crate::menu::price_number;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Most lines one order may have.
pub const MAX_LINES: usize = 50;
/// Largest quantity of one line.
pub const MAX_QUANTITY: i64 = 99;
/// Longest `Idempotency-Key` accepted (`order_idempotency.idem_key` is varchar(255)).
pub const IDEMPOTENCY_KEY_MAX: usize = 255;
/// The shop's zone when `shop_timezone` is unset, or unknown to PostgreSQL.
pub const DEFAULT_SHOP_TIMEZONE: &str = "Asia/Seoul";
/// The `message` of a placed order.
pub const PLACED_MESSAGE: &str = "order placed";

/// One line of an order request: a pizza by type name and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The exact `pizza_types.pizza_nm` (orders name pizzas, not ids).
    pub name: String,
    /// The size code, e.g. `M`.
    pub size: String,
    /// How many, 1 to [`MAX_QUANTITY`].
    pub quantity: i32,
}

/// An order request that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The `branch.bran_id` the order is for.
    pub branch_id: String,
    /// 1 to [`MAX_LINES`] lines, in the order sent (duplicates are kept).
    pub lines: Vec<OrderLine>,
}

impl NewOrder {
    /// Reads and validates `{branchId, lines: [{name, size, quantity}]}`;
    /// each failure is a 400 that names the offending field or line.
    pub fn parse(fields: &Fields) -> Result<NewOrder, ApiError> {
        let branch_id = fields.required_str("branchId")?;
        if branch_id.is_empty() {
            return Err(ApiError::bad_request("`branchId` must not be empty"));
        }
        let Some(Value::Array(lines)) = fields.get("lines") else {
            return Err(ApiError::bad_request(
                "`lines` must be an array of order lines",
            ));
        };
        if lines.is_empty() || lines.len() > MAX_LINES {
            return Err(ApiError::bad_request(format!(
                "`lines` must have 1 to {MAX_LINES} lines, not {}",
                lines.len()
            )));
        }
        let lines = lines
            .iter()
            .enumerate()
            .map(|(i, line)| parse_line(i, line))
            .collect::<Result<_, _>>()?;
        Ok(NewOrder {
            branch_id: branch_id.to_owned(),
            lines,
        })
    }

    /// The request's canonical fingerprint: SHA-256 (hex) over the parsed
    /// branch and lines, so that key order, spacing and number spelling in
    /// the body do not matter but any change of branch, pizza, size,
    /// quantity or line order does.
    pub fn fingerprint(&self) -> String {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| json!([l.name, l.size, l.quantity]))
            .collect();
        let canonical = json!([self.branch_id, lines]).to_string();
        Sha256::digest(canonical.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn parse_line(i: usize, line: &Value) -> Result<OrderLine, ApiError> {
    let bad = |what: &str| ApiError::bad_request(format!("`lines[{i}]`: {what}"));
    let Value::Object(line) = line else {
        return Err(bad("must be an object with `name`, `size` and `quantity`"));
    };
    let text = |field: &str| match line.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(bad(&format!("`{field}` must be a non-empty string"))),
    };
    let name = text("name")?;
    let size = text("size")?;
    let quantity = line
        .get("quantity")
        .and_then(Value::as_i64)
        .filter(|q| (1..=MAX_QUANTITY).contains(q))
        .ok_or_else(|| {
            bad(&format!(
                "`quantity` must be an integer from 1 to {MAX_QUANTITY}"
            ))
        })?;
    Ok(OrderLine {
        name,
        size,
        quantity: quantity as i32,
    })
}

/// The `Idempotency-Key` header, if sent: 1 to [`IDEMPOTENCY_KEY_MAX`]
/// printable ASCII characters, else 400.
pub fn idempotency_key(header: Option<&str>) -> Result<Option<&str>, ApiError> {
    let Some(key) = header else { return Ok(None) };
    let printable = key.bytes().all(|b| (b' '..=b'~').contains(&b));
    if key.is_empty() || key.len() > IDEMPOTENCY_KEY_MAX || !printable {
        return Err(ApiError::bad_request(format!(
            "`Idempotency-Key` must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters"
        )));
    }
    Ok(Some(key))
}

/// The shop's time zone from the `shop_timezone` variable, [`DEFAULT_SHOP_TIMEZONE`]
/// when unset or blank. Whether PostgreSQL knows the zone is checked in the
/// placement statement itself.
pub fn shop_timezone(configured: Option<String>) -> String {
    configured
        .map(|z| z.trim().to_owned())
        .filter(|z| !z.is_empty())
        .unwrap_or_else(|| DEFAULT_SHOP_TIMEZONE.to_owned())
}

/// The 201 body of a placed order, `{order_id, total, message}`; a replay
/// rebuilds it from the stored id and total, so both answers are identical.
pub fn placed_body(order_id: i64, total: &str) -> Result<Value, ApiError> {
    Ok(json!({
        "order_id": order_id,
        "total": price_number(total)?,
        "message": PLACED_MESSAGE,
    }))
}

/// One element of `GET /api/order/branch/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Branch {
    /// `branch.bran_id`, the value orders send as `branchId`.
    pub bran_id: String,
    /// The display name.
    pub bran_nm: String,
}

/// One element of `GET /api/order/myorder/`: one order line with its order's
/// columns. Legacy rows (the data set's nullable columns, lines placed before
/// prices were kept) show `null` where they have nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryLine {
    /// The order's integer id.
    pub order_id: i64,
    /// The branch the order was placed at.
    pub bran_id: Option<String>,
    /// The pizza of this line.
    pub pizza_id: Option<String>,
    /// How many.
    pub quantity: Option<i32>,
    /// Shop-time date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Shop-time time of day, `HH:MM:SS`.
    pub time: Option<String>,
    /// The unit price at order time; `null` for legacy lines.
    pub unit_price: Option<serde_json::Number>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<NewOrder, ApiError> {
        NewOrder::parse(&Fields::parse(None, body.to_string().as_bytes()).unwrap())
    }

    fn line(name: &str, size: &str, quantity: Value) -> Value {
        json!({"name": name, "size": size, "quantity": quantity})
    }

    #[test]
    fn accepts_the_front_ends_body() {
        let order =
            parse(json!({"branchId": "1", "lines": [line("The Greek Pizza", "XXL", json!(2))]}))
                .unwrap();
        assert_eq!(order.branch_id, "1");
        assert_eq!(
            order.lines,
            vec![OrderLine {
                name: "The Greek Pizza".into(),
                size: "XXL".into(),
                quantity: 2
            }]
        );
    }

    #[test]
    fn branch_and_line_count_rules() {
        let l = line("P", "S", json!(1));
        for body in [
            json!({"lines": [l]}),
            json!({"branchId": "", "lines": [l]}),
            json!({"branchId": 1, "lines": [l]}),
            json!({"branchId": "1"}),
            json!({"branchId": "1", "lines": {}}),
            json!({"branchId": "1", "lines": []}),
            json!({"branchId": "1", "lines": vec![l.clone(); 51]}),
        ] {
            assert_eq!(parse(body.clone()).unwrap_err().status, 400, "{body}");
        }
        assert_eq!(
            parse(json!({"branchId": "1", "lines": vec![l; 50]}))
                .unwrap()
                .lines
                .len(),
            50
        );
    }

    #[test]
    fn each_bad_line_is_named() {
        let ok = line("P", "S", json!(1));
        let cases = [
            json!("P"),
            json!({"size": "S", "quantity": 1}),
            line("", "S", json!(1)),
            line("P", "", json!(1)),
            json!({"name": "P", "size": 3, "quantity": 1}),
            line("P", "S", json!(0)),
            line("P", "S", json!(-1)),
            line("P", "S", json!(100)),
            line("P", "S", json!(1.5)),
            line("P", "S", json!("2")),
            line("P", "S", json!(null)),
            json!({"name": "P", "size": "S"}),
        ];
        for bad in cases {
            let e = parse(json!({"branchId": "1", "lines": [ok, bad]})).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.detail.starts_with("`lines[1]`"), "{bad}: {}", e.detail);
        }
        assert_eq!(
            parse(json!({"branchId": "1", "lines": [line("P", "S", json!(99))]}))
                .unwrap()
                .lines[0]
                .quantity,
            99
        );
    }

    #[test]
    fn fingerprint_ignores_spelling_but_not_content() {
        let a = Fields::parse(
            None,
            br#"{"branchId":"1","lines":[{"name":"P","size":"S","quantity":2}]}"#,
        )
        .unwrap();
        let b = Fields::parse(
            None,
            br#"{ "lines" : [ {"quantity":2.0e0,"size":"S","name":"P"} ], "branchId":"1" }"#,
        );
        let a = NewOrder::parse(&a).unwrap();
        // 2.0e0 is not an integer quantity; the spelling that is must match.
        assert!(NewOrder::parse(&b.unwrap()).is_err());
        let b = Fields::parse(
            None,
            br#"{ "lines" : [ {"quantity":2,"size":"S","name":"P"} ], "branchId":"1" }"#,
        )
        .unwrap();
        let b = NewOrder::parse(&b).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
        let mut c = a.clone();
        c.lines[0].quantity = 3;
        assert_ne!(a.fingerprint(), c.fingerprint());
        let mut d = a.clone();
        d.branch_id = "2".into();
        assert_ne!(a.fingerprint(), d.fingerprint());
        let mut e = a.clone();
        e.lines.push(a.lines[0].clone());
        assert_ne!(a.fingerprint(), e.fingerprint());
    }

    #[test]
    fn idempotency_keys_are_printable_ascii_up_to_255() {
        assert_eq!(idempotency_key(None).unwrap(), None);
        assert_eq!(
            idempotency_key(Some("abc-123 ~")).unwrap(),
            Some("abc-123 ~")
        );
        assert!(idempotency_key(Some(&"k".repeat(255))).is_ok());
        for bad in ["", "tab\there", "é", "nul\0"] {
            assert_eq!(
                idempotency_key(Some(bad)).unwrap_err().status,
                400,
                "{bad:?}"
            );
        }
        assert!(idempotency_key(Some(&"k".repeat(256))).is_err());
    }

    #[test]
    fn shop_timezone_defaults_to_seoul() {
        assert_eq!(shop_timezone(None), "Asia/Seoul");
        assert_eq!(shop_timezone(Some(" ".into())), "Asia/Seoul");
        assert_eq!(shop_timezone(Some("Europe/London".into())), "Europe/London");
    }

    #[test]
    fn placed_body_has_an_integer_id_and_an_exact_total() {
        let body = placed_body(42, "71.90").unwrap();
        assert_eq!(
            body.to_string(),
            r#"{"message":"order placed","order_id":42,"total":71.9}"#
        );
        assert_eq!(
            placed_body(1, "16.00").unwrap()["total"].to_string(),
            "16.0"
        );
    }
}
