//! The overlay's own PostgreSQL, as its StatefulSet would run it: the
//! container's `-c name=value` args as server settings, and the
//! `postgres` image's first-start work (`POSTGRES_USER` a superuser with
//! `POSTGRES_PASSWORD`, owning database `POSTGRES_DB`).

use crate::manifests::Manifests;
use crate::pod::container_env;
use testkit::Postgres;

/// The database server of an overlay and what its Service is called.
pub struct Database {
    /// The running cluster.
    pub pg: Postgres,
    /// The Services selecting its pods, with their ports: what clients use.
    pub services: Vec<(String, u16)>,
    /// `POSTGRES_DB`.
    pub name: String,
}

impl Database {
    /// Starts StatefulSet `name` of `manifests` (its first container).
    pub fn start(manifests: &Manifests, name: &str) -> Result<Database, String> {
        let set = manifests
            .get("StatefulSet", name)
            .ok_or_else(|| format!("StatefulSet {name} is not rendered"))?;
        let container = &set["spec"]["template"]["spec"]["containers"][0];
        let args: Vec<&str> = container["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str())
            .collect();
        let settings: Vec<&str> = args
            .windows(2)
            .filter(|w| w[0] == "-c")
            .map(|w| w[1])
            .collect();
        let env = container_env(manifests, container)?;
        let get = |key: &str| {
            env.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("StatefulSet {name}: no {key}"))
        };
        let (user, password, db) = (
            get("POSTGRES_USER")?,
            get("POSTGRES_PASSWORD")?,
            get("POSTGRES_DB")?,
        );
        let labels = &set["spec"]["template"]["metadata"]["labels"];
        let services: Vec<(String, u16)> = manifests
            .of_kind("Service")
            .filter(|svc| {
                svc["spec"]["selector"]
                    .as_object()
                    .is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| labels[k] == *v))
            })
            .flat_map(|svc| {
                let svc_name = svc["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                svc["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["port"].as_u64())
                    .map(move |port| (svc_name.clone(), port as u16))
                    .collect::<Vec<_>>()
            })
            .collect();
        let pg = Postgres::start_with(&settings);
        pg.psql(
            "postgres",
            &format!(
                "CREATE ROLE \"{user}\" SUPERUSER LOGIN PASSWORD '{}'",
                password.replace('\'', "''")
            ),
        );
        pg.psql(
            "postgres",
            &format!("CREATE DATABASE \"{db}\" OWNER \"{user}\""),
        );
        Ok(Database {
            pg,
            services,
            name: db,
        })
    }
}
