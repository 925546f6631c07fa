//! SQL of the menu service, read only: the lists as the documents PostgreSQL
//! keeps in `menu_document` (migration 0013, which also says how prices and
//! nullable legacy columns appear), and lookups in `pizza_types` and `pizza`.

use crate::db::{Db, DbError, column, nullable, single_row, text};
use spin_sdk::pg4::ParameterValue;

/// One of the menu's stored answers (migration 0013 keeps them up to date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuDocument {
    /// `GET /api/menu/`: every pizza with its type (see [`crate::menu::MenuPizza`]).
    Menu,
    /// `GET /api/menu/types/`: every type (see [`crate::menu::PizzaType`]).
    Types,
}

impl MenuDocument {
    /// Its key in `menu_document`.
    fn name(self) -> &'static str {
        match self {
            MenuDocument::Menu => "menu",
            MenuDocument::Types => "types",
        }
    }
}

/// A stored document's tag, with its body unless the client already has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedDocument {
    /// The strong entity tag, quoted.
    pub etag: String,
    /// The JSON; `None` when `etag` is one of the client's tags.
    pub body: Option<String>,
}

/// The document as stored, in one small read: only its tag when it is one of
/// `client_tags` (what the client's `If-None-Match` lists, `*` matching any).
pub fn document(
    db: &Db,
    document: MenuDocument,
    client_tags: &[String],
) -> Result<TaggedDocument, DbError> {
    let tags = client_tags.iter().cloned().map(Some).collect();
    let rows = db.query(
        "SELECT etag,
                CASE WHEN etag = ANY($2) OR '*' = ANY($2) THEN NULL ELSE body END AS body
         FROM menu_document
         WHERE name = $1",
        &[text(document.name()), ParameterValue::ArrayStr(tags)],
    )?;
    let row = single_row(&rows, "menu document")?;
    Ok(TaggedDocument {
        etag: column(&row, "etag")?,
        body: nullable(&row, "body"),
    })
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
