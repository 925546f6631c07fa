//! What a valid order request is, and its fingerprint for idempotent replays.

use crate::body::Fields;
use crate::error::ApiError;
use crate::idempotency::Fingerprint;
use crate::member::ID_MAX;
use serde_json::{Value, json};

/// Most lines one order may have.
pub const MAX_LINES: usize = 50;
/// Largest quantity of one line.
pub const MAX_QUANTITY: i64 = 99;
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

    /// The request's fingerprint over the parsed branch and lines, so that
    /// key order, spacing and number spelling in the body do not matter but
    /// any change of branch, pizza, size, quantity or line order does.
    pub fn fingerprint(&self) -> Fingerprint {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| json!([l.name, l.size, l.quantity]))
            .collect();
        Fingerprint::of(&json!([self.branch_id, lines]))
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

/// 403 for a member who cannot order: `orders.member_id` is varchar(50), and
/// ids from before that limit may be longer.
pub fn check_member_may_order(member_id: &str) -> Result<(), ApiError> {
    if member_id.chars().count() > ID_MAX {
        return Err(ApiError::new(
            403,
            "member ids longer than 50 characters cannot place orders",
        ));
    }
    Ok(())
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
    fn members_with_ids_over_50_characters_may_not_order() {
        assert!(check_member_may_order(&"m".repeat(50)).is_ok());
        assert_eq!(
            check_member_may_order(&"m".repeat(51)).unwrap_err().status,
            403
        );
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
}
