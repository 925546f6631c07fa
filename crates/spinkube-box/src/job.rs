//! A Job of the overlay, run as the kubelet would run its container, with
//! the project's build standing in for the image: the container's env
//! resolved from the rendered Secrets and ConfigMaps, Service names resolved
//! to the box, and its command run from `target/release`.

use crate::manifests::Manifests;
use crate::pod::container_env;
use crate::services::Services;
use std::process::Command;

/// Where the pizza-db image carries the migrations (crates/pizza-db/Dockerfile):
/// the repository's `migrations/` here.
const IMAGE_MIGRATIONS: &str = "/usr/share/pizza-db/migrations";

/// Runs Job `name` to completion; the error is its failure and output.
pub fn run(manifests: &Manifests, name: &str, services: &Services) -> Result<(), String> {
    let job = manifests
        .get("Job", name)
        .ok_or_else(|| format!("Job {name} is not rendered"))?;
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let env = container_env(manifests, container).map_err(|e| format!("Job {name}: {e}"))?;
    let argv: Vec<String> = ["command", "args"]
        .iter()
        .flat_map(|k| container[*k].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| format!("Job {name}: no command"))?;
    let root = testkit::workspace_root();
    let binary = root.join("target/release").join(
        std::path::Path::new(program)
            .file_name()
            .unwrap_or_default(),
    );
    let out = Command::new(&binary)
        .args(args.iter().map(|a| match a.as_str() {
            IMAGE_MIGRATIONS => root.join("migrations").display().to_string(),
            other => other.to_owned(),
        }))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, services.rewrite(v))))
        .output()
        .map_err(|e| format!("Job {name}: run {}: {e}", binary.display()))?;
    if !out.status.success() {
        return Err(format!(
            "Job {name} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}
