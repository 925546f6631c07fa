//! Command line, mirroring `spin up`.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// `spin-host [up] -f spin.toml --listen 127.0.0.1:3000 --variable k=v -c id`
#[derive(Parser, Debug)]
#[command(
    name = "spin-host",
    version,
    about = "A small Spin 3.6-compatible host for HTTP apps"
)]
pub struct Cli {
    /// Optional `up` subcommand word, accepted for `spin up` compatibility.
    #[arg(value_parser = ["up"], hide = true)]
    pub up: Option<String>,
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    pub from: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Application variable `key=value` (repeatable); beats env and `.env`.
    #[arg(long = "variable", value_parser = crate::variables::parse_cli_variable)]
    pub variables: Vec<(String, String)>,
    /// Component to run (repeatable; default: all), as `spin up -c/--component-id`.
    /// Without it, `SPIN_COMPONENTS_TO_RETAIN` (the shim's) selects.
    #[arg(short = 'c', long = "component-id")]
    pub components: Vec<String>,
    /// Per-instance memory limit in bytes.
    #[arg(long, env = "SPIN_MAX_INSTANCE_MEMORY")]
    pub max_instance_memory: Option<usize>,
    /// Do not read or write the compiled-component cache.
    #[arg(long, env = "SPIN_HOST_NO_CACHE", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
    pub no_cache: bool,
    /// Roll back and report transactions left open by a request (test mode).
    #[arg(long, env = "SPIN_HOST_STRICT_TX", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
    pub strict_tx: bool,
    /// Disable wasmtime's pooling instance allocator, as `spin up --disable-pooling`.
    #[arg(long)]
    pub disable_pooling: bool,
    /// JIT profiler for `perf`: `perfmap` writes /tmp/perf-<pid>.map naming the
    /// compiled wasm functions (default: none, as in Spin).
    #[arg(long, env = "SPIN_HOST_PROFILER", value_enum)]
    pub profiler: Option<crate::engine::Profiler>,
}
