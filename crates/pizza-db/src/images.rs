//! Image paths for pizza types: the data set has none, and the front end ships pictures for
//! only some types, under its own file names, so the mapping is written out here.

/// Pizza types the front end has a picture for, with the path it expects (`images/<file>.png`,
/// prefixed by the front with `./`). Every other type gets `""`, which the front hides.
const IMAGES: &[(&str, &str)] = &[
    ("big_meat", "images/bigmeat.png"),
    ("cali_ckn", "images/cali_ckn.png"),
    ("classic_dlx", "images/classic-dlx.png"),
    ("hawaiian", "images/hawaiian.png"),
    ("ital_cpcllo", "images/ital_cpcllo.png"),
    ("ital_supr", "images/ital_supr.png"),
    ("napolitana", "images/napolitana.png"),
    ("pep_msh_pep", "images/pep_msh_pep.png"),
    ("pepperoni", "images/pepperoni.png"),
    ("southw_ckn", "images/south.png"),
    ("veggie_veg", "images/vege.png"),
];

/// The `pizza_img_url` value for a pizza type, `""` when the front has no picture for it.
pub(crate) fn image_for(pizza_type_id: &str) -> &'static str {
    IMAGES
        .iter()
        .find(|(id, _)| *id == pizza_type_id)
        .map_or("", |(_, path)| path)
}
