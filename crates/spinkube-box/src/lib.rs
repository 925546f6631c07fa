//! SpinKube in a box: what spin-operator and containerd-shim-spin would run
//! for an overlay, run on this machine. The overlay is rendered by the real
//! `kubectl kustomize`; its PostgreSQL StatefulSet becomes a cluster with the
//! same settings; its migration Job runs the same migrator with the same
//! environment; each SpinApp becomes one spin-host with exactly the
//! environment the operator gives its pod (components, variables,
//! invocation limits); and a router built from the rendered `HTTPRoute`s (and
//! KEDA's interceptor, where the routes go through it) sits in front.
//! Service names resolve to the box's processes, as cluster DNS would.

pub mod database;
pub mod job;
pub mod keda;
pub mod manifests;
pub mod pod;
pub mod router;
pub mod services;

use database::Database;
use manifests::Manifests;
use pod::PodEnv;
use router::Router;
use services::Services;
use std::path::Path;
use testkit::Host;

/// A running overlay: its database, one host per SpinApp, the router.
pub struct SpinKubeBox {
    /// What was rendered.
    pub manifests: Manifests,
    /// The SpinApps' hosts, by SpinApp name.
    pub pods: Vec<(String, Host)>,
    /// The gateway.
    pub router: Router,
    /// The overlay's PostgreSQL (dropped last).
    pub database: Database,
}

impl SpinKubeBox {
    /// Renders `overlay` with `kubectl kustomize` and starts it.
    pub fn start(overlay: &Path) -> Result<SpinKubeBox, String> {
        SpinKubeBox::start_rendered(Manifests::render(overlay)?)
    }

    /// Starts already rendered (possibly altered) manifests; the error is
    /// what a cluster would show: a pod that does not start, a Job that
    /// fails, a route the gateway cannot serve.
    pub fn start_rendered(manifests: Manifests) -> Result<SpinKubeBox, String> {
        let app = testkit::workspace_root().join("spin.toml");
        SpinKubeBox::start_app(manifests, &app)
    }

    /// [`SpinKubeBox::start_rendered`] with another application than the
    /// repository's `spin.toml` in the SpinApps' image.
    pub fn start_app(manifests: Manifests, app: &Path) -> Result<SpinKubeBox, String> {
        let namespace = manifests
            .of_kind("SpinApp")
            .find_map(|a| a["metadata"]["namespace"].as_str())
            .unwrap_or("default")
            .to_owned();
        let statefulset = manifests
            .of_kind("StatefulSet")
            .find(|s| {
                s["spec"]["template"]["spec"]["containers"][0]["image"]
                    .as_str()
                    .is_some_and(|i| i.starts_with("postgres:"))
            })
            .and_then(|s| s["metadata"]["name"].as_str())
            .ok_or("no PostgreSQL StatefulSet in the overlay")?
            .to_owned();
        let database = Database::start(&manifests, &statefulset)?;
        let mut services = Services::default();
        for (name, port) in &database.services {
            services.add(name, &namespace, *port, &database.pg.host_port());
        }
        job::run(&manifests, "pizza-migrate", &services)?;

        let mut pods = Vec::new();
        let apps: Vec<String> = manifests
            .of_kind("SpinApp")
            .filter_map(|a| a["metadata"]["name"].as_str().map(str::to_owned))
            .collect();
        for name in apps {
            let env = PodEnv::of(&manifests, &name)?;
            let env: Vec<(String, String)> = env
                .vars
                .into_iter()
                .map(|(k, v)| (k, services.rewrite(&v)))
                .collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let host = Host::try_start(app, &[], &env)
                .map_err(|e| format!("SpinApp {name}: the pod does not become ready: {e}"))?;
            let address = host.base_url().trim_start_matches("http://").to_owned();
            // spin-operator's Service for a SpinApp: its name, port 80.
            services.add(&name, &namespace, 80, &address);
            pods.push((name, host));
        }
        let router = Router::start(&manifests, &services)?;
        Ok(SpinKubeBox {
            manifests,
            pods,
            router,
            database,
        })
    }

    /// The gateway's URL: where clients send requests.
    pub fn base_url(&self) -> String {
        self.router.base_url()
    }

    /// Superuser URL of the app's database (to check what HTTP cannot show).
    pub fn admin_url(&self) -> String {
        self.database.pg.superuser_url(&self.database.name)
    }

    /// The value SpinApp `app`'s pod has for variable `name`.
    pub fn pod_variable(&self, app: &str, name: &str) -> Option<String> {
        PodEnv::of(&self.manifests, app)
            .ok()?
            .variable(name)
            .map(str::to_owned)
    }

    /// Every host's output, for a failure message.
    pub fn output(&self) -> String {
        self.pods
            .iter()
            .map(|(app, host)| format!("--- {app}\n{}", host.output()))
            .collect()
    }
}
