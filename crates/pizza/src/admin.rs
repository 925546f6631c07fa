//! The shop owner's changes, as plain Rust: what a valid request to change a
//! pizza, create or change a branch, or set a member's roles is. The admin
//! components (`components/admin/*`) check these, then run one statement of
//! [`crate::store::admin`] that also writes the audit row and the event.

use crate::body::Fields;
use crate::error::ApiError;
use serde_json::Value;

/// The highest price a pizza may be given.
pub const MAX_PRICE: f64 = 10_000.0;

/// The longest branch id and name (`branch` columns are varchar(100)).
pub const MAX_BRANCH_CHARS: usize = 100;

/// A change to one pizza: its price, whether it is sold out, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct PizzaChange {
    /// The new price as decimal text with at most two decimals, if changed.
    pub price: Option<String>,
    /// Sold out (true) or back (false), if changed.
    pub sold_out: Option<bool>,
}

impl PizzaChange {
    /// `{price?, sold_out?}`, at least one of them.
    pub fn parse(fields: &Fields) -> Result<PizzaChange, ApiError> {
        let change = PizzaChange {
            price: fields.get("price").map(price).transpose()?,
            sold_out: optional_bool(fields, "sold_out")?,
        };
        if change.price.is_none() && change.sold_out.is_none() {
            return Err(ApiError::bad_request("send `price`, `sold_out` or both"));
        }
        Ok(change)
    }
}

/// A price: a JSON number above 0 and at most [`MAX_PRICE`], in cents.
fn price(value: &Value) -> Result<String, ApiError> {
    let refused = || {
        ApiError::bad_request(format!(
            "`price`: a number above 0 and at most {MAX_PRICE}, with at most two decimals"
        ))
    };
    let Value::Number(n) = value else {
        return Err(refused());
    };
    let p = n
        .as_f64()
        .filter(|p| *p > 0.0 && *p <= MAX_PRICE)
        .ok_or_else(refused)?;
    let cents = (p * 100.0).round();
    if (cents / 100.0 - p).abs() > 1e-9 {
        return Err(refused());
    }
    Ok(format!(
        "{}.{:02}",
        (cents as u64) / 100,
        (cents as u64) % 100
    ))
}

/// A new branch: `{bran_id, bran_nm}`; it opens open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBranch {
    /// Its id.
    pub bran_id: String,
    /// Its name.
    pub bran_nm: String,
}

impl NewBranch {
    /// `{bran_id, bran_nm}`.
    pub fn parse(fields: &Fields) -> Result<NewBranch, ApiError> {
        Ok(NewBranch {
            bran_id: branch_text(fields.required_str("bran_id")?, "bran_id")?,
            bran_nm: branch_text(fields.required_str("bran_nm")?, "bran_nm")?,
        })
    }
}

/// A change to a branch: its name, whether it is open, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchChange {
    /// The new name, if changed.
    pub bran_nm: Option<String>,
    /// Open (true) or closed (false), if changed.
    pub is_open: Option<bool>,
}

impl BranchChange {
    /// `{bran_nm?, is_open?}`, at least one of them.
    pub fn parse(fields: &Fields) -> Result<BranchChange, ApiError> {
        let change = BranchChange {
            bran_nm: fields
                .optional_str("bran_nm")?
                .map(|n| branch_text(n, "bran_nm"))
                .transpose()?,
            is_open: optional_bool(fields, "is_open")?,
        };
        if change.bran_nm.is_none() && change.is_open.is_none() {
            return Err(ApiError::bad_request("send `bran_nm`, `is_open` or both"));
        }
        Ok(change)
    }
}

/// A branch id or name: 1 to [`MAX_BRANCH_CHARS`] characters, no control
/// characters, not only spaces.
fn branch_text(value: &str, field: &str) -> Result<String, ApiError> {
    let ok = !value.trim().is_empty()
        && value.chars().count() <= MAX_BRANCH_CHARS
        && !value.chars().any(char::is_control);
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "`{field}`: 1 to {MAX_BRANCH_CHARS} characters, no control characters"
        )))
    }
}

/// The whole set of a member's roles, as `PUT …/roles/` sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSet {
    /// Admin or not.
    pub admin: bool,
    /// The branches they are staff of, each once.
    pub staff: Vec<String>,
}

impl RoleSet {
    /// `{admin, staff: [branch ids]}`; both required, as this replaces the set.
    pub fn parse(fields: &Fields) -> Result<RoleSet, ApiError> {
        let admin = optional_bool(fields, "admin")?
            .ok_or_else(|| ApiError::bad_request("missing field `admin`"))?;
        let refused = || ApiError::bad_request("`staff`: a list of branch ids");
        let Some(Value::Array(list)) = fields.get("staff") else {
            return Err(refused());
        };
        let mut staff: Vec<String> = Vec::new();
        for item in list {
            let branch = item.as_str().ok_or_else(refused)?;
            let branch = branch_text(branch, "staff")?;
            if !staff.contains(&branch) {
                staff.push(branch);
            }
        }
        Ok(RoleSet { admin, staff })
    }
}

/// A pizza as an admin change leaves it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PizzaState {
    /// Its id.
    pub pizza_id: String,
    /// Its price.
    pub price: serde_json::Number,
    /// Whether it is sold out.
    pub sold_out: bool,
}

/// A branch as an admin change leaves it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BranchState {
    /// Its id.
    pub bran_id: String,
    /// Its name.
    pub bran_nm: String,
    /// Whether it takes orders.
    pub is_open: bool,
}

/// A field that may be absent; present, it must be true or false.
fn optional_bool(fields: &Fields, name: &str) -> Result<Option<bool>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::bad_request(format!(
            "`{name}` must be true or false"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Fields {
        Fields::parse(None, json.as_bytes()).unwrap()
    }

    #[test]
    fn prices_are_positive_with_at_most_two_decimals() {
        let parse = |j: &str| PizzaChange::parse(&fields(j)).map(|c| c.price);
        assert_eq!(
            parse(r#"{"price": 17.95}"#).unwrap().as_deref(),
            Some("17.95")
        );
        assert_eq!(parse(r#"{"price": 16}"#).unwrap().as_deref(), Some("16.00"));
        assert_eq!(parse(r#"{"price": 0.1}"#).unwrap().as_deref(), Some("0.10"));
        assert_eq!(
            parse(r#"{"price": 10000}"#).unwrap().as_deref(),
            Some("10000.00")
        );
        for bad in [
            "0",
            "-1",
            "17.955",
            "10000.01",
            "\"17\"",
            "null1e400",
            "true",
        ] {
            let body = format!(r#"{{"price": {bad}}}"#);
            if let Ok(f) = Fields::parse(None, body.as_bytes()) {
                assert_eq!(PizzaChange::parse(&f).unwrap_err().status, 400, "{bad}");
            }
        }
    }

    #[test]
    fn a_pizza_change_changes_something() {
        let c = PizzaChange::parse(&fields(r#"{"sold_out": true}"#)).unwrap();
        assert_eq!((c.price, c.sold_out), (None, Some(true)));
        assert_eq!(PizzaChange::parse(&fields("{}")).unwrap_err().status, 400);
        let e = PizzaChange::parse(&fields(r#"{"sold_out": "yes"}"#)).unwrap_err();
        assert_eq!(e.detail, "`sold_out` must be true or false");
    }

    #[test]
    fn branches_need_sane_ids_and_names() {
        let b = NewBranch::parse(&fields(r#"{"bran_id": "5", "bran_nm": "부산점"}"#)).unwrap();
        assert_eq!((b.bran_id.as_str(), b.bran_nm.as_str()), ("5", "부산점"));
        for bad in [
            r#"{"bran_id": "", "bran_nm": "x"}"#,
            r#"{"bran_id": "  ", "bran_nm": "x"}"#,
            r#"{"bran_id": "a\tb", "bran_nm": "x"}"#,
            r#"{"bran_id": "5"}"#,
        ] {
            assert_eq!(
                NewBranch::parse(&fields(bad)).unwrap_err().status,
                400,
                "{bad}"
            );
        }
        let long = format!(r#"{{"bran_id": "5", "bran_nm": "{}"}}"#, "x".repeat(101));
        assert_eq!(NewBranch::parse(&fields(&long)).unwrap_err().status, 400);
        let c = BranchChange::parse(&fields(r#"{"is_open": false}"#)).unwrap();
        assert_eq!((c.bran_nm, c.is_open), (None, Some(false)));
        assert_eq!(BranchChange::parse(&fields("{}")).unwrap_err().status, 400);
    }

    #[test]
    fn a_role_set_is_whole_and_deduplicated() {
        let r = RoleSet::parse(&fields(r#"{"admin": false, "staff": ["1", "2", "1"]}"#)).unwrap();
        assert_eq!((r.admin, r.staff), (false, vec!["1".into(), "2".into()]));
        for bad in [
            r#"{"staff": []}"#,
            r#"{"admin": true}"#,
            r#"{"admin": true, "staff": "1"}"#,
            r#"{"admin": true, "staff": [1]}"#,
            r#"{"admin": true, "staff": [""]}"#,
        ] {
            assert_eq!(
                RoleSet::parse(&fields(bad)).unwrap_err().status,
                400,
                "{bad}"
            );
        }
    }
}
