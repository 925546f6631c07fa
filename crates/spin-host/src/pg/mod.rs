//! `spin:postgres/postgres@4.0.0`: connection pools per connection string
//! (shared by all components, reset with deadpool's `Clean` batch on reuse),
//! the allow-list check, queries with Spin's error mapping, and the project's
//! strict transaction mode.
//!
//! Each call runs in the span Spin 3.6.3's outbound-pg factor opens
//! (`spin_outbound_pg.open`, `.query`, `.execute`: client spans named by the
//! statement, `db.system = postgresql`; the connection string itself is never
//! recorded), and pools report their use and waits as metrics.
//!
//! Like Spin's outbound-pg factor, the interface is served by its own
//! per-instance state, [`PgInstanceState`], which holds only what PostgreSQL
//! needs; the store data embeds it and [`add_to_linker`] projects to it.

// The WIT `error` type is large by design; it is returned as-is to the guest.
#![allow(clippy::result_large_err)]

mod types;

use crate::allowed_hosts::{AllowedHosts, log_denied};
use crate::bindings::spin::postgres::postgres::{
    self as pg, Connection, DbError, Error, ParameterValue, QueryError, RowSet,
};
use crate::telemetry;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use futures_util::TryStreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_postgres::NoTls;
use tokio_postgres::config::Host as PgHost;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tracing::Level;
use tracing::field::Empty;
use tracing::instrument;
use wasmtime::component::{HasSelf, Linker, Resource};

/// Max connections per connection-string pool (as in Spin).
const POOL_SIZE: usize = 64;

/// Connection pools keyed by the exact connection string, each with the name
/// it is reported under.
#[derive(Default)]
pub struct PgPools(Mutex<HashMap<String, NamedPool>>);

/// A pool and its name in metrics: `user@host:port/database`, never the
/// connection string (which holds the password).
#[derive(Clone)]
struct NamedPool {
    name: Arc<str>,
    pool: Pool,
}

impl PgPools {
    fn get_or_create(&self, address: &str) -> anyhow::Result<NamedPool> {
        let mut pools = self.0.lock().unwrap();
        if let Some(p) = pools.get(address) {
            return Ok(p.clone());
        }
        let config: tokio_postgres::Config = address.parse()?;
        let name = pool_name(&config).into();
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Clean,
            },
        );
        let pool = Pool::builder(manager).max_size(POOL_SIZE).build()?;
        let named = NamedPool { name, pool };
        pools.insert(address.to_string(), named.clone());
        Ok(named)
    }

    /// Each pool's use, for the pool gauges.
    pub fn states(&self) -> Vec<telemetry::metrics::PoolState> {
        let pools = self.0.lock().unwrap();
        pools
            .values()
            .map(|p| {
                let status = p.pool.status();
                telemetry::metrics::PoolState {
                    name: p.name.to_string(),
                    idle: status.available as u64,
                    used: status.size.saturating_sub(status.available) as u64,
                    max: status.max_size as u64,
                    waiting: status.waiting as u64,
                }
            })
            .collect()
    }
}

/// `user@host:port/database` of a parsed connection string.
fn pool_name(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(PgHost::Tcp(h)) => h.clone(),
        _ => String::new(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or_default(),
        config.get_dbname().unwrap_or_default()
    )
}

/// Records the address fields Spin's `record_address_fields` puts on the
/// open span (host, port, database) from a URL-form connection string.
fn record_address_fields(address: &str) {
    let span = tracing::Span::current();
    if span.is_disabled() || !address.contains("://") {
        return;
    }
    let Ok(config) = address.parse::<tokio_postgres::Config>() else {
        return;
    };
    if let Some(PgHost::Tcp(h)) = config.get_hosts().first() {
        span.record("db.address", h.as_str());
    }
    if let Some(port) = config.get_ports().first() {
        span.record("server.port", port);
    }
    span.record("db.namespace", config.get_dbname().unwrap_or_default());
}

/// What `spin:postgres` needs in one instance: the app's shared pools, the
/// component's id (strict-mode reports) and allow-list, the strict mode flag,
/// and the instance's open connections, keyed by their resource handles.
pub struct PgInstanceState {
    /// The app's pools, shared by all components.
    pools: Arc<PgPools>,
    /// Component id, named in strict-mode reports.
    component: String,
    /// The component's `allowed_outbound_hosts`.
    allowed_hosts: Arc<AllowedHosts>,
    /// Strict transaction mode (`SPIN_HOST_STRICT_TX`).
    strict_tx: bool,
    /// Open connections by the rep of their `connection` resource.
    connections: HashMap<u32, Object>,
    /// The rep the next opened connection gets.
    next_id: u32,
    /// Whether a released connection was inside a transaction (strict mode).
    leaked: bool,
}

/// Links `spin:postgres/postgres@4.0.0` into `linker`, served by the
/// [`PgInstanceState`] that `get` projects out of the store data `T`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut PgInstanceState,
) -> wasmtime::Result<()> {
    pg::add_to_linker::<T, HasSelf<PgInstanceState>>(linker, get)
}

impl PgInstanceState {
    /// Empty state for an instance of `component`, whose connections come
    /// from `pools` and must be allowed by `allowed_hosts`.
    pub fn new(
        pools: Arc<PgPools>,
        component: String,
        allowed_hosts: Arc<AllowedHosts>,
        strict_tx: bool,
    ) -> PgInstanceState {
        PgInstanceState {
            pools,
            component,
            allowed_hosts,
            strict_tx,
            connections: HashMap::new(),
            next_id: 1,
            leaked: false,
        }
    }

    /// Returns every connection still open to its pool (checking it in strict
    /// mode) and reports whether any connection of this instance was found
    /// inside a transaction.
    pub async fn release_all(&mut self) -> bool {
        let ids: Vec<u32> = self.connections.keys().copied().collect();
        for id in ids {
            if let Some(c) = self.connections.remove(&id) {
                self.release(c).await;
            }
        }
        self.leaked
    }

    async fn release(&mut self, client: Object) {
        if !self.strict_tx || !in_transaction(&client).await {
            return;
        }
        self.leaked = true;
        let rolled_back = client.simple_query("ROLLBACK").await.is_ok();
        eprintln!(
            "ERROR spin-host strict-tx: component {:?} finished its request with a PostgreSQL transaction still open (BEGIN without COMMIT/ROLLBACK); {}",
            self.component,
            if rolled_back {
                "it was rolled back"
            } else {
                "ROLLBACK failed"
            }
        );
    }

    fn client(&self, r: &Resource<Connection>) -> Result<&Object, Error> {
        self.connections
            .get(&r.rep())
            .ok_or_else(|| Error::ConnectionFailed("no connection found".into()))
    }
}

/// Whether the session is inside a transaction block: outside one, every
/// statement runs in its own transaction, so its start time equals the
/// statement's start time; an aborted transaction rejects the query (25P02).
async fn in_transaction(client: &Object) -> bool {
    match client
        .simple_query("SELECT now() <> statement_timestamp()")
        .await
    {
        Ok(msgs) => msgs.iter().any(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0) == Some("t"),
            _ => false,
        }),
        Err(e) => e.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION),
    }
}

/// Checks the connection string's hosts against `allowed_outbound_hosts`.
fn ensure_allowed(allowed_hosts: &AllowedHosts, address: &str) -> Result<(), Error> {
    let config: tokio_postgres::Config = address
        .parse()
        .map_err(|e: tokio_postgres::Error| Error::ConnectionFailed(e.to_string()))?;
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        match host {
            PgHost::Tcp(h) => {
                let port = ports.get(i).or(if ports.len() == 1 {
                    ports.first()
                } else {
                    None
                });
                let url = match port {
                    Some(p) => format!("{h}:{p}"),
                    None => h.clone(),
                };
                if !allowed_hosts.allows("postgres", h, port.copied()) {
                    log_denied(&format!("postgres://{url}"));
                    return Err(Error::ConnectionFailed(format!(
                        "address postgres://{url} is not permitted"
                    )));
                }
            }
            PgHost::Unix(_) => {
                return Err(Error::ConnectionFailed(
                    "Unix sockets are not supported on WebAssembly".into(),
                ));
            }
        }
    }
    Ok(())
}

fn query_failed(e: tokio_postgres::Error) -> Error {
    let text = format!("{e:?}");
    Error::QueryFailed(match e.as_db_error() {
        None => QueryError::Text(text),
        Some(db) => QueryError::DbError(DbError {
            as_text: text,
            severity: db.severity().to_owned(),
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            extras: extras(db),
        }),
    })
}

/// The optional PostgreSQL error fields, in the order Spin reports them.
fn extras(db: &tokio_postgres::error::DbError) -> Vec<(String, String)> {
    let fields: [(&str, Option<String>); 10] = [
        ("column", db.column().map(str::to_owned)),
        ("constraint", db.constraint().map(str::to_owned)),
        ("routine", db.routine().map(str::to_owned)),
        ("hint", db.hint().map(str::to_owned)),
        ("table", db.table().map(str::to_owned)),
        ("datatype", db.datatype().map(str::to_owned)),
        ("schema", db.schema().map(str::to_owned)),
        ("file", db.file().map(str::to_owned)),
        ("line", db.line().map(|l| l.to_string())),
        ("where_", db.where_().map(str::to_owned)),
    ];
    fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect()
}

fn params(values: &[ParameterValue]) -> Result<Vec<types::SqlParam>, Error> {
    values
        .iter()
        .map(types::to_sql)
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| Error::BadParameter(format!("{e:?}")))
}

fn refs(params: &[types::SqlParam]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

impl pg::Host for PgInstanceState {}

impl pg::HostConnection for PgInstanceState {
    #[instrument(name = "spin_outbound_pg.open", skip(self, address), err(level = Level::INFO), fields(otel.kind = "client", db.system = "postgresql", db.address = Empty, server.port = Empty, db.namespace = Empty))]
    async fn open(&mut self, address: String) -> Result<Resource<Connection>, Error> {
        record_address_fields(&address);
        ensure_allowed(&self.allowed_hosts, &address)?;
        let pool = self
            .pools
            .get_or_create(&address)
            .map_err(|e| Error::ConnectionFailed(format!("{e:?}")))?;
        let asked = std::time::Instant::now();
        let client = pool.pool.get().await;
        telemetry::metrics::pool_waited(&pool.name, asked.elapsed());
        let client =
            client.map_err(|e| Error::ConnectionFailed(format!("{:?}", anyhow::Error::from(e))))?;
        let id = self.next_id;
        self.next_id += 1;
        self.connections.insert(id, client);
        Ok(Resource::new_own(id))
    }

    /// Streams the rows: errors before execution (parse, plan, bind) carry a
    /// SQLSTATE; errors raised while rows are produced arrive on the row
    /// stream and, as in Spin, are reported as text only.
    #[instrument(name = "spin_outbound_pg.query", skip(self, conn, params_in), err(level = Level::INFO), fields(otel.kind = "client", db.system = "postgresql", otel.name = statement))]
    async fn query(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        params_in: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        let client = self.client(&conn)?;
        let params = params(&params_in)?;
        let stream = client
            .query_raw(statement.as_str(), refs(&params))
            .await
            .map_err(query_failed)?;
        let rows: Vec<tokio_postgres::Row> = stream.try_collect().await.map_err(|e| {
            Error::QueryFailed(QueryError::Text(format!("{:?}", anyhow::Error::from(e))))
        })?;
        let Some(first) = rows.first() else {
            return Ok(RowSet {
                columns: vec![],
                rows: vec![],
            });
        };
        let columns = types::columns(first);
        let rows = rows
            .iter()
            .map(types::convert_row)
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(|e| Error::QueryFailed(QueryError::Text(format!("{e:?}"))))?;
        Ok(RowSet { columns, rows })
    }

    #[instrument(name = "spin_outbound_pg.execute", skip(self, conn, params_in), err(level = Level::INFO), fields(otel.kind = "client", db.system = "postgresql", otel.name = statement))]
    async fn execute(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        params_in: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let client = self.client(&conn)?;
        let params = params(&params_in)?;
        client
            .execute(statement.as_str(), &refs(&params))
            .await
            .map_err(query_failed)
    }

    async fn drop(&mut self, conn: Resource<Connection>) -> wasmtime::Result<()> {
        if let Some(client) = self.connections.remove(&conn.rep()) {
            self.release(client).await;
        }
        Ok(())
    }
}
