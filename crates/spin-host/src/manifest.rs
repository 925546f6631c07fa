//! Parsing of the subset of the Spin manifest v2 (`spin.toml`) that the host
//! supports. Unknown keys are ignored (e.g. `[component.x.build]`), so a
//! manifest written for real Spin loads unchanged.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The parsed manifest plus the directory it was loaded from (sources and the
/// `.env` file are resolved relative to it).
#[derive(Debug)]
pub struct Manifest {
    /// Directory containing `spin.toml`.
    pub dir: PathBuf,
    /// `[application]` table.
    pub application: Application,
    /// `[variables]`, in declaration order is irrelevant, so sorted.
    pub variables: BTreeMap<String, VariableDecl>,
    /// `[[trigger.http]]` entries in declaration order (order decides duplicates).
    pub http_triggers: Vec<HttpTrigger>,
    /// `[component.<id>]` tables by id.
    pub components: BTreeMap<String, ComponentDecl>,
}

/// `[application]`: only name and version are surfaced (`/.well-known/spin/info`).
#[derive(Debug, Deserialize)]
pub struct Application {
    /// Application name.
    pub name: String,
    /// Optional version string.
    pub version: Option<String>,
}

/// One `[variables]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    /// Value used when no provider supplies one.
    pub default: Option<String>,
    /// Whether a provider must supply the value.
    #[serde(default)]
    pub required: bool,
    /// Marks the value as sensitive; accepted but, as in Spin, without effect on the guest.
    #[serde(default)]
    #[allow(dead_code)] // parsed so that `deny_unknown_fields` accepts it
    pub secret: bool,
}

/// The `route` of an HTTP trigger: a path pattern or `{ private = true }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RouteDecl {
    /// `route = "/path"` / `"/prefix/..."` / `"/items/:id"`.
    Path(String),
    /// `route = { private = true }`: only reachable via `<id>.spin.internal`.
    Private {
        /// Must be true.
        private: bool,
    },
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Deserialize)]
pub struct HttpTrigger {
    /// Route pattern.
    pub route: RouteDecl,
    /// The id of the component handling the route.
    pub component: String,
}

/// One `[component.<id>]` table.
#[derive(Debug, Deserialize)]
pub struct ComponentDecl {
    /// Path to the wasm component, relative to the manifest directory.
    pub source: String,
    /// Outbound destinations the component may reach (may contain templates).
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: name → template over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Environment variables visible to the guest.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawManifest {
    spin_manifest_version: i64,
    application: Application,
    #[serde(default)]
    variables: BTreeMap<String, VariableDecl>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, ComponentDecl>,
}

#[derive(Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<HttpTrigger>,
}

impl Manifest {
    /// Loads and validates `spin.toml`, with the error chain Spin prints.
    pub fn load(path: &Path) -> Result<Manifest> {
        Self::load_inner(path)
            .with_context(|| format!("Failed to load Spin app from {path:?}"))
            .with_context(|| format!("Failed to load manifest from {path:?}"))
            .context("Failed to load application")
    }

    fn load_inner(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read {}", path.display()))?;
        let raw: RawManifest = toml::from_str(&text)?;
        if raw.spin_manifest_version != 2 {
            bail!("only spin_manifest_version = 2 is supported");
        }
        for (name, decl) in &raw.variables {
            check_lower_identifier(name)?;
            if decl.required == decl.default.is_some() {
                bail!("must be `required` OR have a `default`");
            }
        }
        for (id, c) in &raw.component {
            for name in c.variables.keys() {
                check_lower_identifier(name)?;
            }
            if c.source.is_empty() {
                bail!("component {id:?} has an empty source");
            }
        }
        for t in &raw.trigger.http {
            if !raw.component.contains_key(&t.component) {
                bail!(
                    "trigger refers to component {:?} which is not defined",
                    t.component
                );
            }
            if let RouteDecl::Private { private: false } = t.route {
                bail!("route must be a path or `{{ private = true }}`");
            }
        }
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(Manifest {
            dir: if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            },
            application: raw.application,
            variables: raw.variables,
            http_triggers: raw.trigger.http,
            components: raw.component,
        })
    }
}

/// Spin's manifest identifiers for variables must be lower-case.
fn check_lower_identifier(name: &str) -> Result<()> {
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        bail!("Lower-case identifiers must be all lowercase; got {name:?}");
    }
    Ok(())
}
