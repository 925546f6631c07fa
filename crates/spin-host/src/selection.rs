//! Selective deployment: running only some of an app's components, as
//! `spin up --component-id` and containerd-shim-spin's
//! `SPIN_COMPONENTS_TO_RETAIN` (set by spin-operator from a SpinApp's
//! `components`) do. Both call Spin 3.6.3's `spin_app::retain_components`
//! with `validate_service_chaining_for_components`; this is that, on the
//! manifest, before anything is compiled, so left-out components are never
//! loaded.

use crate::allowed_hosts::service_chaining_target;
use crate::manifest::Manifest;
use anyhow::{Context, Result, bail};
use std::collections::HashSet;

/// The shim's variable: component ids joined with `,`.
const ENV_VAR: &str = "SPIN_COMPONENTS_TO_RETAIN";

/// The components to keep, and where that list came from: the error context
/// names its source, in the words of whichever of Spin and the shim reads it.
pub struct Selection {
    ids: Vec<String>,
    from_flag: bool,
}

impl Selection {
    /// `--component-id` when given (`spin up`, which ignores the variable),
    /// else `SPIN_COMPONENTS_TO_RETAIN` split at commas with empty parts
    /// dropped and nothing trimmed (the shim), else `None`: every component.
    pub fn choose(flag: &[String]) -> Option<Selection> {
        if !flag.is_empty() {
            return Some(Selection {
                ids: flag.to_vec(),
                from_flag: true,
            });
        }
        let value = std::env::var(ENV_VAR).ok()?;
        Some(Selection {
            ids: value
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            from_flag: false,
        })
    }

    /// Drops the components not selected and the triggers of those.
    pub fn apply(&self, manifest: &mut Manifest) -> Result<()> {
        retain(manifest, &self.ids).with_context(|| {
            if self.from_flag {
                "failed to resolve application with only components selected with --component"
                    .to_string()
            } else {
                format!(
                    "failed to resolve application with only [{:?}] components retained by configured environment variable {ENV_VAR}",
                    self.ids
                )
            }
        })
    }
}

/// `retain_components`: every id must name a component; no selected
/// component may chain to one left out; then only the triggers of selected
/// components remain, and only the components those triggers name.
fn retain(manifest: &mut Manifest, ids: &[String]) -> Result<()> {
    if let Some(id) = ids.iter().find(|id| !manifest.components.contains_key(*id)) {
        bail!("Specified component \"{id}\" not found in application");
    }
    check_service_chaining(manifest, ids)?;
    manifest
        .http_triggers
        .retain(|t| ids.contains(&t.component));
    let triggered: HashSet<&String> = manifest
        .http_triggers
        .iter()
        .map(|t| &t.component)
        .collect();
    manifest.components.retain(|id, _| triggered.contains(id));
    Ok(())
}

/// `validate_service_chaining_for_components`: a selected component's
/// `allowed_outbound_hosts` may name only selected components as
/// `*.spin.internal` hosts, and no wildcard. Entries are checked as written:
/// templates are not expanded yet, and an entry that does not parse as a URI
/// (any with `{{ }}`) is skipped, as Spin does.
fn check_service_chaining(manifest: &Manifest, ids: &[String]) -> Result<()> {
    for trigger in manifest
        .http_triggers
        .iter()
        .filter(|t| ids.contains(&t.component))
    {
        let id = &trigger.component;
        for host in &manifest.components[id].allowed_outbound_hosts {
            let Ok(uri) = host.parse::<http::Uri>() else {
                continue;
            };
            let Some(target) = service_chaining_target(&uri) else {
                continue;
            };
            if ids.contains(&target) {
                continue;
            }
            if target == "*" {
                bail!(
                    "Selected component '{id}' cannot use wildcard service chaining: allowed_outbound_hosts = [\"http://*.spin.internal\"]"
                );
            }
            bail!(
                "Selected component '{id}' cannot use service chaining to unselected component: allowed_outbound_hosts = [\"http://{target}.spin.internal\"]"
            );
        }
    }
    Ok(())
}
