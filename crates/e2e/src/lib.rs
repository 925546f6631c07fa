//! The end-to-end harness: one private PostgreSQL cluster and one spin-host
//! per test binary, serving the real `spin.toml` (plus a test-only chaining
//! proxy) with the real wasm components. Tests talk HTTP only, and read the
//! database directly only to check what the HTTP answers cannot show.

use serde_json::Value;
use spinkube_box::SpinKubeBox;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use testkit::{Host, PgBouncer, Postgres};

pub mod django;
pub mod otlp;
pub mod tokens;

/// The JWT secret [`serve`] gives the app (tests forge tokens with it).
pub const JWT_SECRET: &str = "e2e-secret-0123456789-abcdefghij-0123456789";

/// The Bearer token [`serve`] gives the payment relay (`POST /internal/relay/`).
pub const RELAY_TOKEN: &str = "e2e-relay-token-0123456789abcdef";

/// Passwords of the service roles in the test cluster.
pub const ROLE_PASSWORDS: [(&str, &str); 4] = [
    ("pizza_login", "login-pw-e2e"),
    ("pizza_menu", "menu-pw-e2e"),
    ("pizza_order", "order-pw-e2e"),
    ("pizza_admin_api", "admin-pw-e2e"),
];

/// A running app: its base URL and its database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// Host and port of the cluster.
    pub db_host: String,
    /// The database name.
    pub db: String,
    /// Superuser URL of the database.
    pub admin_url: String,
    /// The key the app signs tokens with (tests forge tokens with it).
    pub jwt_secret: String,
    /// Whether the app runs with `django_coexistence` (it then writes
    /// Django's password format).
    pub django_coexistence: bool,
    /// The payment relay's Bearer token.
    pub relay_token: String,
}

/// The processes behind the shared app (one host and its cluster, or a
/// SpinKube box), stopped when the test binary exits.
static RUNNING: Mutex<Option<Box<dyn std::any::Any + Send>>> = Mutex::new(None);
static APP: OnceLock<TestApp> = OnceLock::new();

extern "C" fn stop_running() {
    if let Ok(mut running) = RUNNING.lock() {
        running.take();
    }
}

/// The overlay named by `PIZZA_E2E_SPINKUBE` (a path from the workspace
/// root, e.g. `spinkube/overlays/dev`), when the suite runs through
/// SpinKube in a box instead of one host.
pub fn spinkube_overlay() -> Option<PathBuf> {
    std::env::var_os("PIZZA_E2E_SPINKUBE").map(|o| testkit::workspace_root().join(o))
}

/// Whether the suite runs through SpinKube in a box (`PIZZA_E2E_SPINKUBE`).
pub fn through_spinkube() -> bool {
    spinkube_overlay().is_some()
}

/// The app shared by every test of this binary, started on first use:
/// one host on a fresh cluster, or with `PIZZA_E2E_SPINKUBE` the overlay's
/// SpinApps behind its routes, migrated by its Job and then seeded as the
/// deployment guide says.
pub fn app() -> &'static TestApp {
    APP.get_or_init(|| {
        let (running, app) = match spinkube_overlay() {
            Some(overlay) => {
                let sk = SpinKubeBox::start(&overlay)
                    .unwrap_or_else(|e| panic!("SpinKube in a box ({}): {e}", overlay.display()));
                let mut client = postgres::Client::connect(&sk.admin_url(), postgres::NoTls)
                    .expect("connect as admin");
                pizza_db::seed(&mut client, &data_dir()).expect("seed");
                let jwt_secret = sk
                    .pod_variable("login", "jwt_secret")
                    .expect("the login SpinApp's jwt_secret");
                let django_coexistence =
                    sk.pod_variable("login", "django_coexistence").as_deref() == Some("true");
                let relay_token = sk.pod_variable("order", "relay_token").unwrap_or_default();
                let app = TestApp {
                    django_coexistence,
                    relay_token,
                    base_url: sk.base_url(),
                    db_host: sk.database.pg.host_port(),
                    db: sk.database.name.clone(),
                    admin_url: sk.admin_url(),
                    jwt_secret,
                };
                (Box::new(sk) as Box<dyn std::any::Any + Send>, app)
            }
            None => {
                let pg = Postgres::start();
                let app_db = "pizza";
                pg.create_database(app_db);
                prepare_database(&pg.superuser_url(app_db), true);
                let (host, app) = serve(&pg, app_db, &[]);
                (Box::new((host, pg)) as Box<dyn std::any::Any + Send>, app)
            }
        };
        *RUNNING.lock().unwrap() = Some(running);
        // SAFETY: registering a plain extern "C" function with atexit.
        unsafe { libc::atexit(stop_running) };
        app
    })
}

/// Prepares a database as the migration Job and `make up` do (`pizza-db deploy`:
/// the migrations, then each service role's LOGIN, password and connection limit
/// of 64), and optionally seeds it.
pub fn prepare_database(admin_url: &str, seed: bool) {
    let mut client =
        postgres::Client::connect(admin_url, postgres::NoTls).expect("connect as admin");
    let deployment = pizza_db::Deployment::with_passwords(
        &testkit::workspace_root().join("migrations"),
        &ROLE_PASSWORDS,
        64,
    )
    .expect("deploy settings");
    deployment.run(&mut client, || {}).expect("deploy");
    if seed {
        pizza_db::seed(&mut client, &data_dir()).expect("seed");
    }
}

/// The pizza-sales data set the repository carries (`$PIZZA_DATA_DIR` overrides it).
pub fn data_dir() -> PathBuf {
    std::env::var_os("PIZZA_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| testkit::workspace_root().join("data/pizza-sales"))
}

/// A client address no other call of this process gets: an IPv6 unique-local
/// address, only ever written into `X-Forwarded-For` headers.
pub fn client_address() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("fd00::{:x}:{:x}", std::process::id() & 0xffff, n)
}

/// A cluster of its own on `make up`'s settings with a migrated, seeded
/// database `pizza` and one host serving it, for suites that change the
/// cluster (role settings, connection slots, the catalogue).
pub fn start_own_app() -> (Postgres, Host, TestApp) {
    let pg = Postgres::start();
    pg.create_database("pizza");
    prepare_database(&pg.superuser_url("pizza"), true);
    let (host, app) = serve(&pg, "pizza", &[]);
    (pg, host, app)
}

/// Starts a host for database `db` of `pg`, with variable overrides.
pub fn serve(pg: &Postgres, db: &str, overrides: &[(&str, &str)]) -> (Host, TestApp) {
    serve_with_env(pg, db, overrides, &[])
}

/// [`serve`] with extra environment variables for the host (`OTEL_*`).
pub fn serve_with_env(
    pg: &Postgres,
    db: &str,
    overrides: &[(&str, &str)],
    env: &[(&str, &str)],
) -> (Host, TestApp) {
    let urls: Vec<(String, String)> = ROLE_PASSWORDS
        .iter()
        .map(|(role, pw)| {
            // As `make up` and the deployment give them: with the client's connect timeout.
            let url = format!("{}?connect_timeout=5", pg.url(role, pw, db));
            (testkit::url_variable(role), url)
        })
        .collect();
    // Behind one trusted proxy, as on SpinKube behind the ingress: the client
    // address comes from X-Forwarded-For (see `client_headers`).
    let mut vars: Vec<(&str, &str)> = vec![
        ("jwt_secret", JWT_SECRET),
        ("trusted_proxy_hops", "1"),
        ("relay_token", RELAY_TOKEN),
    ];
    let db_host = pg.host_port();
    vars.push(("db_host", &db_host));
    for (k, v) in &urls {
        vars.push((k, v));
    }
    vars.retain(|(k, _)| !overrides.iter().any(|(o, _)| o == k));
    vars.extend_from_slice(overrides);
    let mut host_env = vec![("SPIN_HOST_STRICT_TX", "1")];
    host_env.extend_from_slice(env);
    let host = Host::start(&test_manifest(), &vars, &host_env);
    let app = TestApp {
        base_url: host.base_url(),
        db_host: db_host.clone(),
        db: db.to_owned(),
        admin_url: pg.superuser_url(db),
        jwt_secret: JWT_SECRET.to_owned(),
        relay_token: vars
            .iter()
            .find(|(k, _)| *k == "relay_token")
            .map_or(RELAY_TOKEN, |(_, v)| v)
            .to_owned(),
        django_coexistence: vars
            .iter()
            .any(|(k, v)| *k == "django_coexistence" && *v == "true"),
    };
    (host, app)
}

/// Variables that point every service at `bouncer` instead of PostgreSQL
/// (`db_host` and the three `*_db_url`s), to pass to [`serve`] as overrides.
pub fn pooler_variables(bouncer: &PgBouncer, db: &str) -> Vec<(String, String)> {
    let mut vars = vec![("db_host".to_owned(), bouncer.host_port())];
    vars.extend(ROLE_PASSWORDS.iter().map(|(role, pw)| {
        let url = format!("{}?connect_timeout=5", bouncer.url(role, pw, db));
        (testkit::url_variable(role), url)
    }));
    vars
}

/// The app's `spin.toml` plus the test-only chaining proxy, written next to
/// the build output so the host's compile cache is reused between runs.
pub fn test_manifest() -> PathBuf {
    let root = testkit::workspace_root();
    let manifest = std::fs::read_to_string(root.join("spin.toml")).expect("read spin.toml");
    let manifest = manifest.replace(
        "source = \"target/",
        &format!("source = \"{}/target/", root.display()),
    );
    let proxy = r#"
[[trigger.http]]
route = "/test/chain/..."
component = "e2e-chain-proxy"

[component.e2e-chain-proxy]
source = "ROOT/target/wasm32-wasip2/release/e2e_chain_proxy.wasm"
allowed_outbound_hosts = ["http://login-verify.spin.internal"]
"#
    .replace("ROOT", &root.display().to_string());
    let dir = root.join("target/e2e");
    std::fs::create_dir_all(&dir).expect("create target/e2e");
    let path = dir.join(format!("spin-{}.toml", std::process::id()));
    std::fs::write(&path, manifest + &proxy).expect("write test manifest");
    path
}

/// An HTTP answer: status, headers and the body parsed as JSON (Null if not JSON).
#[derive(Debug)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub text: String,
    /// The body as JSON, or `Value::Null`.
    pub json: Value,
}

impl Resp {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Retry-After` header in seconds; panics if it is missing or not a number.
    pub fn retry_after_secs(&self) -> u64 {
        self.header("retry-after")
            .unwrap_or_else(|| panic!("no Retry-After: {self:?}"))
            .parse()
            .unwrap_or_else(|e| panic!("Retry-After is not seconds ({e}): {self:?}"))
    }

    /// Asserts the status and that an error body has `detail` and `error` with equal text.
    pub fn assert_error(&self, status: u16) -> &str {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:?}"
        );
        let detail = self.json["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("no detail: {}", self.text));
        assert_eq!(self.json["error"].as_str(), Some(detail), "{}", self.text);
        detail
    }
}

impl TestApp {
    /// Sends a request with optional headers and body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        send(&self.base_url, method, path, headers, body)
    }

    /// GET with optional Bearer token.
    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.request("GET", path, &headers, None)
    }

    /// POST of a JSON value with optional Bearer token.
    pub fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        self.request("POST", path, &headers, Some(body.to_string().as_bytes()))
    }

    /// Registers a fresh member (unique id from `prefix`), logs in, returns (id, password, token).
    pub fn member(&self, prefix: &str) -> (String, String, String) {
        let id = unique_id(prefix);
        let pw = "correct horse battery".to_owned();
        // Each member registers and logs in from addresses of their own, as real
        // customers do, so that the per-address limits of register and login
        // count only what a test means them to.
        let from = client_address();
        let r = self.post_from(
            &from,
            "/api/login/register/",
            &serde_json::json!({"id": id, "pw": pw, "name": "Test"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        let token = self.login(&id, &pw);
        (id, pw, token)
    }

    /// A fresh member granted `role` with the admin tool's library (the only
    /// way to make the first admin), logged in again so that the token
    /// carries it: (id, password, token).
    pub fn member_with_role(
        &self,
        prefix: &str,
        role: &pizza_db::MemberRole,
    ) -> (String, String, String) {
        let (id, pw, _) = self.member(prefix);
        let mut admin =
            postgres::Client::connect(&self.admin_url, postgres::NoTls).expect("connect as admin");
        pizza_db::grant_role(&mut admin, &id, role).expect("grant the role");
        let token = self.login(&id, &pw);
        (id, pw, token)
    }

    /// Logs `id` in from an address of its own; the token.
    pub fn login(&self, id: &str, pw: &str) -> String {
        let body = serde_json::json!({"id": id, "pw": pw});
        let r = self.post_from(&client_address(), "/api/login/", &body);
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["token"].as_str().expect("token").to_owned()
    }

    /// POST of a JSON value sent through the trusted proxy on behalf of the
    /// client at address `from` (`X-Forwarded-For`).
    pub fn post_from(&self, from: &str, path: &str, body: &Value) -> Resp {
        let headers = [
            ("content-type", "application/json"),
            ("x-forwarded-for", from),
        ];
        self.request("POST", path, &headers, Some(body.to_string().as_bytes()))
    }

    /// One pass of the payment saga's relay, as a ticker makes it.
    pub fn relay_pass(&self) -> Resp {
        let auth = format!("Bearer {}", self.relay_token);
        self.request(
            "POST",
            "/internal/relay/",
            &[("authorization", &auth)],
            None,
        )
    }

    /// Runs SQL as the superuser and returns psql's unaligned output.
    pub fn sql(&self, sql: &str) -> String {
        psql(&self.admin_url, sql)
    }
}

/// Runs SQL against a URL with psql (`-At`), returning trimmed output; panics on failure.
pub fn psql(url: &str, sql: &str) -> String {
    try_psql(url, sql).unwrap_or_else(|e| panic!("psql failed: {e}"))
}

/// Runs SQL against a URL with psql (`-At`); Err carries stderr.
pub fn try_psql(url: &str, sql: &str) -> Result<String, String> {
    let out = std::process::Command::new("psql")
        .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .output()
        .expect("run psql");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Sends one request to `base` and collects the answer.
pub fn send(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Resp {
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"));
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder
        .body(body.map(<[u8]>::to_vec).unwrap_or_default())
        .expect("valid request");
    let mut response = testkit::agent()
        .run(request)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        json,
    }
}

/// An id no other test run uses: `prefix` plus a process-unique counter.
pub fn unique_id(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}{}_{n}", std::process::id() % 100_000)
}
