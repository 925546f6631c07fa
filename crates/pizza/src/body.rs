//! Request bodies: a JSON object (or, as the Django services also accepted, an
//! HTML form) turned into named fields, with messages that say exactly what is
//! wrong.
//!
//! Text PostgreSQL cannot store is refused here, for every endpoint at once: a
//! NUL character anywhere in the body is a 400 naming the field it is in.

use crate::error::ApiError;
use serde_json::{Map, Value};

/// The fields of a request body. Its `Debug` lists the field names only:
/// values include passwords.
#[derive(Clone, PartialEq)]
pub struct Fields(Map<String, Value>);

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Fields")
            .field(&self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Fields {
    /// Parses a body given its `Content-Type` (absent means JSON).
    ///
    /// JSON must be an object; `application/x-www-form-urlencoded` gives string
    /// fields; anything else is 415.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Fields, ApiError> {
        let media = content_type
            .map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        match media.as_str() {
            "" | "application/json" => parse_json(body),
            "application/x-www-form-urlencoded" => parse_form(body),
            m if m.ends_with("+json") => parse_json(body),
            _ => Err(ApiError::unsupported_media_type(content_type.unwrap_or(""))),
        }
        .and_then(Fields::storable)
    }

    /// The fields, or 400 naming the first one that holds a NUL character.
    fn storable(self) -> Result<Fields, ApiError> {
        for (name, value) in &self.0 {
            if let Some(path) = nul_path(value, name.clone(), name) {
                return Err(ApiError::bad_request(format!(
                    "`{path}` must not contain NUL characters"
                )));
            }
        }
        Ok(self)
    }

    /// A field that must be present and a string.
    pub fn required_str(&self, name: &str) -> Result<&str, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => {
                Err(ApiError::bad_request(format!("missing field `{name}`")))
            }
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(ApiError::bad_request(format!(
                "field `{name}` must be a string"
            ))),
        }
    }

    /// A field that may be absent; present, it must be a string.
    pub fn optional_str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.required_str(name).map(Some),
        }
    }

    /// Any field as raw JSON, for structured payloads (arrays of lines).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

/// Where in `value` (reached by `path`, under the key `key`) a NUL character
/// is, if anywhere: `lines[0].name` and the like.
fn nul_path(value: &Value, path: String, key: &str) -> Option<String> {
    if key.contains('\0') {
        return Some(path);
    }
    match value {
        Value::String(s) => s.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, format!("{path}[{i}]"), "")),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| nul_path(v, format!("{path}.{k}"), k)),
        _ => None,
    }
}

fn parse_json(body: &[u8]) -> Result<Fields, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("empty body: send a JSON object"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(Fields(map)),
        Ok(_) => Err(ApiError::bad_request("body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("JSON parse error: {e}"))),
    }
}

fn parse_form(body: &[u8]) -> Result<Fields, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("form body is not valid UTF-8"))?;
    let mut map = Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(percent_decode(k)?, Value::String(percent_decode(v)?));
    }
    Ok(Fields(map))
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn percent_decode(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ApiError::bad_request("malformed percent-encoding in form"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::bad_request("form body is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_field_names_not_values() {
        let f = Fields::parse(None, br#"{"id":"alice","pw":"hunter2-hunter2"}"#).unwrap();
        let shown = format!("{f:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("alice"),
            "{shown}"
        );
        assert!(shown.contains("\"pw\""), "{shown}");
    }

    #[test]
    fn nul_anywhere_is_a_400_naming_the_field() {
        let detail = |body: &str| Fields::parse(None, body.as_bytes()).unwrap_err().detail;
        assert!(detail(r#"{"id":"a\u0000b"}"#).contains("`id`"));
        assert!(
            detail(r#"{"lines":[{"name":"x"},{"name":"\u0000"}]}"#).contains("`lines[1].name`")
        );
        assert!(detail(r#"{"a":{"k\u0000":1}}"#).contains("`a.k"));
        let form = Fields::parse(Some("application/x-www-form-urlencoded"), b"pw=x%00y");
        assert!(form.unwrap_err().detail.contains("`pw`"));
        assert!(Fields::parse(None, br#"{"id":"ok","n":[1,null,true]}"#).is_ok());
    }

    #[test]
    fn json_object_fields() {
        let f = Fields::parse(
            Some("application/json; charset=utf-8"),
            br#"{"id":"a","n":1}"#,
        )
        .unwrap();
        assert_eq!(f.required_str("id").unwrap(), "a");
        assert_eq!(
            f.required_str("n").unwrap_err().detail,
            "field `n` must be a string"
        );
        assert_eq!(f.required_str("x").unwrap_err().detail, "missing field `x`");
        assert_eq!(f.optional_str("x").unwrap(), None);
    }

    #[test]
    fn malformed_json_is_400_with_position() {
        let e = Fields::parse(None, b"{id:1}").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.detail.contains("line 1 column 2"), "{}", e.detail);
    }

    #[test]
    fn non_object_and_empty_bodies_are_400() {
        assert_eq!(Fields::parse(None, b"[1]").unwrap_err().status, 400);
        assert_eq!(Fields::parse(None, b"  ").unwrap_err().status, 400);
    }

    #[test]
    fn form_fields_are_decoded() {
        let f = Fields::parse(
            Some("application/x-www-form-urlencoded"),
            b"id=a+b&pw=%41%2Bc",
        )
        .unwrap();
        assert_eq!(f.required_str("id").unwrap(), "a b");
        assert_eq!(f.required_str("pw").unwrap(), "A+c");
        assert!(Fields::parse(Some("application/x-www-form-urlencoded"), b"id=%zz").is_err());
    }

    #[test]
    fn other_media_types_are_415() {
        assert_eq!(
            Fields::parse(Some("text/plain"), b"x").unwrap_err().status,
            415
        );
    }
}
