//! Application variables: resolving them from the providers Spin uses
//! (`--variable` > `SPIN_VARIABLE_*` env > `.env` file > manifest default),
//! expanding `{{ name }}` templates, and the guest-facing `get` interface,
//! served by its own per-instance state ([`VariablesInstanceState`]) as in
//! Spin's variables factor.

use crate::bindings::fermyon::spin::variables as v2;
use crate::manifest::VariableDecl;
use anyhow::{Result, anyhow, bail};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use wasmtime::component::{HasSelf, Linker};

/// Resolved application variables (`[variables]`), name → value.
#[derive(Debug, Default)]
pub struct AppVariables(HashMap<String, String>);

impl AppVariables {
    /// Resolves every declared variable. Missing required variables produce the
    /// same error text as Spin so startup failures read the same.
    pub fn resolve(
        decls: &BTreeMap<String, VariableDecl>,
        cli: &[(String, String)],
        app_dir: &Path,
    ) -> Result<AppVariables> {
        let dotenv = read_dotenv(&app_dir.join(".env"));
        let mut values = HashMap::new();
        let mut missing = Vec::new();
        for (name, decl) in decls {
            let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
            let value = cli
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .or_else(|| std::env::var(&env_name).ok())
                .or_else(|| dotenv.get(&env_name).cloned())
                .or_else(|| decl.default.clone());
            match value {
                Some(v) => {
                    values.insert(name.clone(), v);
                }
                None => missing.push(format!("Key({name:?})")),
            }
        }
        if !missing.is_empty() {
            let msg = format!(
                "no provider resolved required variable(s): [{}]",
                missing.join(", ")
            );
            return Err(anyhow!(msg.clone()).context(format!("provider error: {msg}")));
        }
        Ok(AppVariables(values))
    }

    /// Expands `{{ name }}` references; unknown names are an error, as in Spin.
    pub fn expand(&self, template: &str) -> Result<String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| anyhow!("invalid variable template: unclosed '{{{{'"))?;
            let name = after[..end].trim();
            let value = self
                .0
                .get(name)
                .ok_or_else(|| anyhow!("invalid variable template: unknown variable {name:?}"))?;
            out.push_str(value);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Reads `SPIN_VARIABLE_*` style `KEY=VALUE` lines from a `.env` file (absent → empty).
fn read_dotenv(path: &Path) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

/// Parses a `--variable key=value` argument.
pub fn parse_cli_variable(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => bail!("invalid variable {s:?}: expected key=value"),
    }
}

/// Validates a variable name the way Spin does before looking it up.
fn check_name(name: &str) -> Result<(), String> {
    let problem = if name.is_empty() {
        "must not be empty".to_string()
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        format!(
            "invalid character {c:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        )
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        "must start with a lowercase ASCII letter".to_string()
    } else if !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        "must end with a lowercase ASCII letter or digit".to_string()
    } else if name.contains("__") {
        "must not contain multiple consecutive underscores".to_string()
    } else {
        return Ok(());
    };
    Err(format!("{name:?}: {problem}"))
}

/// What `fermyon:spin/variables` needs in one instance: the component's id
/// (for the `Undefined` text) and its variables, templates already expanded.
pub struct VariablesInstanceState {
    /// Component id, named in the `Undefined` error text.
    component: String,
    /// The component's variables, name → value.
    variables: Arc<HashMap<String, String>>,
}

impl VariablesInstanceState {
    /// State for an instance of `component`, whose variables are `variables`.
    pub fn new(
        component: String,
        variables: Arc<HashMap<String, String>>,
    ) -> VariablesInstanceState {
        VariablesInstanceState {
            component,
            variables,
        }
    }
}

/// Links `fermyon:spin/variables@2.0.0` into `linker`, served by the
/// [`VariablesInstanceState`] that `get` projects out of the store data `T`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut VariablesInstanceState,
) -> wasmtime::Result<()> {
    v2::add_to_linker::<T, HasSelf<VariablesInstanceState>>(linker, get)
}

impl v2::Host for VariablesInstanceState {
    async fn get(&mut self, name: String) -> Result<String, v2::Error> {
        check_name(&name).map_err(v2::Error::InvalidName)?;
        self.variables.get(&name).cloned().ok_or_else(|| {
            v2::Error::Undefined(format!("no variable for {:?}.{:?}", self.component, name))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_match_spin_text() {
        assert_eq!(
            check_name("Bad-Name").unwrap_err(),
            "\"Bad-Name\": invalid character 'B'. Variable names may contain only lower-case letters, numbers, and underscores."
        );
        assert!(check_name("jwt_secret").is_ok());
    }

    #[test]
    fn templates_expand_and_reject_unknown() {
        let vars = AppVariables(HashMap::from([("a".into(), "x".into())]));
        assert_eq!(vars.expand("hello {{ a }}!{{a}}").unwrap(), "hello x!x");
        assert_eq!(
            vars.expand("{{ nope }}").unwrap_err().to_string(),
            "invalid variable template: unknown variable \"nope\""
        );
    }
}
