//! Compiles the web console's built files (`console/dist`, made by `make
//! console`: `npm ci && npm run build` in `console/`) into the component: a
//! table of path, content type, entity tag and bytes. Assets whose names
//! carry a content hash (`assets/<name>-<hash>.<ext>`) are cached for a year.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let dist = manifest.join("../../../console/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let dist = dist.canonicalize().unwrap_or_else(|_| {
        panic!("console/dist is missing: run `make console` (npm ci && npm run build in console/)")
    });
    let mut files = Vec::new();
    collect(&dist, &dist, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for (path, file) in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let bytes = std::fs::read(file).expect("read a console file");
        let digest = Sha256::digest(&bytes);
        let tag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        writeln!(
            table,
            "    Asset {{ path: {path:?}, content_type: {:?}, etag: \"\\\"{tag}\\\"\", hashed: {}, body: include_bytes!({:?}) }},",
            content_type(path),
            path.starts_with("assets/"),
            file.display().to_string(),
        )
        .expect("write to a string");
    }
    table.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("assets.rs");
    std::fs::write(out, table).expect("write assets.rs");
}

/// Every file under `dir`, with its path relative to `root` (`/`-separated).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    for entry in std::fs::read_dir(dir).expect("read console/dist") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("under the root");
            let name: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push((name.join("/"), path));
        }
    }
}

/// The `Content-Type` of a file by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("map") | Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
