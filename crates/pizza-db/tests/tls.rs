//! TLS as the migration Job uses it (`sslmode=verify-full&sslrootcert=...` against the
//! database's own CA), the other `sslmode`s as libpq has them, and `--wait`.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{Database, migrations_dir};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509, X509Builder, X509NameBuilder};

fn new_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// A one-day certificate for `cn`: a CA when `issuer` is None, else a server certificate
/// for the DNS name `localhost` (not for 127.0.0.1) signed by `issuer`.
fn certificate(cn: &str, key: &PKey<Private>, issuer: Option<(&X509, &PKey<Private>)>) -> X509 {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut builder = X509Builder::new().unwrap();
    builder.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    builder
        .set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_pubkey(key).unwrap();
    builder
        .set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    builder
        .set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    match issuer {
        None => {
            builder.set_issuer_name(&name).unwrap();
            builder
                .append_extension(BasicConstraints::new().critical().ca().build().unwrap())
                .unwrap();
            builder
                .append_extension(
                    KeyUsage::new()
                        .critical()
                        .key_cert_sign()
                        .crl_sign()
                        .build()
                        .unwrap(),
                )
                .unwrap();
            builder.sign(key, MessageDigest::sha256()).unwrap();
        }
        Some((ca, ca_key)) => {
            builder.set_issuer_name(ca.subject_name()).unwrap();
            let san = SubjectAlternativeName::new()
                .dns("localhost")
                .build(&builder.x509v3_context(Some(ca), None))
                .unwrap();
            builder.append_extension(san).unwrap();
            builder.sign(ca_key, MessageDigest::sha256()).unwrap();
        }
    }
    builder.build()
}

/// A database whose server speaks TLS with a certificate for `localhost` from its own CA
/// (`ca.crt`); `other-ca.crt` is a CA that did not sign it. Connections that must fail go
/// to 127.0.0.1, the one address the server listens on (`localhost` may resolve to ::1
/// first, and a refused ::1 would be the error reported).
struct TlsDatabase {
    db: Database,
    dir: PathBuf,
}

impl TlsDatabase {
    fn start() -> TlsDatabase {
        let db = Database::with("SELECT 1");
        let dir = std::env::temp_dir().join(format!(
            "pizza-db-tls-{}-{}",
            std::process::id(),
            db.pg.port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ca_key = new_key();
        let ca = certificate("pizza test CA", &ca_key, None);
        let server_key = new_key();
        let server = certificate("pizza-db-rw", &server_key, Some((&ca, &ca_key)));
        let other_ca = certificate("someone else's CA", &new_key(), None);
        std::fs::write(dir.join("ca.crt"), ca.to_pem().unwrap()).unwrap();
        std::fs::write(dir.join("other-ca.crt"), other_ca.to_pem().unwrap()).unwrap();
        std::fs::write(dir.join("server.crt"), server.to_pem().unwrap()).unwrap();
        std::fs::write(
            dir.join("server.key"),
            server_key.private_key_to_pem_pkcs8().unwrap(),
        )
        .unwrap();
        // The server reads its key only when it belongs to the user it runs as, mode 600.
        let data_dir = db.psql("SHOW data_directory");
        let owner = std::fs::metadata(&data_dir).unwrap();
        for file in ["server.crt", "server.key"] {
            let path = dir.join(file);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            if std::fs::metadata(&path).unwrap().uid() != owner.uid() {
                std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
            }
        }
        for setting in [
            format!("ssl_cert_file = '{}'", dir.join("server.crt").display()),
            format!("ssl_key_file = '{}'", dir.join("server.key").display()),
            "ssl = on".to_owned(),
        ] {
            db.psql(&format!("ALTER SYSTEM SET {setting}"));
        }
        db.psql("SELECT pg_reload_conf()");
        let deadline = Instant::now() + Duration::from_secs(10);
        while db.psql("SHOW ssl") != "on" {
            assert!(
                Instant::now() < deadline,
                "the server did not turn TLS on: {}",
                std::fs::read_to_string(db.pg.log_file()).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        TlsDatabase { db, dir }
    }

    /// The superuser URL through `host` with the given query.
    fn url(&self, host: &str, query: &str) -> String {
        format!(
            "postgres://postgres@{host}:{}/legacy?{query}",
            self.db.pg.port()
        )
    }

    fn ca(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for TlsDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Connects with the library and says whether the session is encrypted.
fn encrypted(url: &str) -> anyhow::Result<bool> {
    let mut client = pizza_db::connect(url, Duration::ZERO, || {})?;
    Ok(client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )?
        .get(0))
}

fn pizza_db(url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pizza-db"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", url)
        .envs(env.iter().copied())
        .output()
        .expect("run pizza-db")
}

#[test]
fn verify_full_as_the_job_uses_it() {
    let tls = TlsDatabase::start();
    let ca = tls.ca("ca.crt");
    let job_url = tls.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    assert!(encrypted(&job_url).unwrap());

    // The Job's command, over that URL.
    let env = [
        ("LOGIN_DB_PASSWORD", "a"),
        ("MENU_DB_PASSWORD", "b"),
        ("ORDER_DB_PASSWORD", "c"),
        ("ADMIN_DB_PASSWORD", "d"),
        ("LOGIN_DB_CONNECTION_LIMIT", "64"),
        ("MENU_DB_CONNECTION_LIMIT", "64"),
        ("ORDER_DB_CONNECTION_LIMIT", "64"),
        ("ADMIN_DB_CONNECTION_LIMIT", "64"),
    ];
    let dir = migrations_dir();
    let out = pizza_db(&job_url, &["deploy", "--dir", dir.to_str().unwrap()], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The housekeeping CronJob's, too.
    let out = pizza_db(&job_url, &["purge"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn each_sslmode_checks_what_libpq_checks() {
    let tls = TlsDatabase::start();
    let ca = tls.ca("ca.crt");
    let other = tls.ca("other-ca.crt");
    // The chain is checked, not the name: 127.0.0.1 is not in the certificate.
    assert!(
        encrypted(&tls.url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}"))).unwrap()
    );
    // require: encrypted without checks, or as verify-ca with a root certificate.
    assert!(encrypted(&tls.url("127.0.0.1", "sslmode=require")).unwrap());
    assert!(
        encrypted(&tls.url("127.0.0.1", &format!("sslmode=require&sslrootcert={ca}"))).unwrap()
    );
    assert!(!encrypted(&tls.url("127.0.0.1", "sslmode=disable")).unwrap());
    assert!(
        encrypted(&tls.url("127.0.0.1", "")).unwrap(),
        "prefer uses TLS where offered"
    );
    // libpq's environment variables stand in for missing URL parameters.
    let out = pizza_db(
        &tls.url("127.0.0.1", ""),
        &["purge"],
        &[("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", &other)],
    );
    assert_eq!(out.status.code(), Some(1));

    for (url, why) in [
        (
            tls.url(
                "127.0.0.1",
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
            "the certificate does not name 127.0.0.1",
        ),
        (
            tls.url(
                "127.0.0.1",
                &format!("sslmode=verify-full&sslrootcert={other}"),
            ),
            "another CA",
        ),
        (
            tls.url(
                "127.0.0.1",
                &format!("sslmode=verify-ca&sslrootcert={other}"),
            ),
            "another CA",
        ),
        (
            tls.url("127.0.0.1", &format!("sslmode=require&sslrootcert={other}")),
            "another CA",
        ),
    ] {
        let started = Instant::now();
        let out = pizza_db(&url, &["--wait", "30", "purge"], &[]);
        assert_eq!(out.status.code(), Some(1), "{why}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{why}: {stderr}");
        assert!(
            stderr.starts_with("pizza-db: error: connecting to the database: ")
                && stderr.contains("certificate verify failed"),
            "{why}: {stderr}"
        );
        // A refused certificate is final: no retrying for --wait.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{why}: retried"
        );
    }

    let out = pizza_db(
        &tls.url("127.0.0.1", "sslmode=verify-full"),
        &["purge"],
        &[],
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "pizza-db: error: sslmode=verify-full needs sslrootcert=<file of CA certificates> (or sslrootcert=system)\n"
    );
}

#[test]
fn require_refuses_a_server_without_tls() {
    let db = Database::with("SELECT 1");
    let url = format!("{}?sslmode=require", db.url);
    let error = encrypted(&url).unwrap_err();
    assert!(
        format!("{error:#}").starts_with("connecting to the database: "),
        "{error:#}"
    );
}

#[test]
fn wait_retries_an_unreachable_server_then_gives_up_in_one_line() {
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/none",
        testkit::free_port()
    );
    let started = Instant::now();
    let out = pizza_db(&url, &["--wait", "3", "purge"], &[]);
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    assert!(elapsed >= Duration::from_secs(3), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "connect: the database is not reachable yet; retrying for up to 3 s\n"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("pizza-db: error: connecting to the database: "),
        "{stderr}"
    );
}

#[test]
fn wait_connects_once_the_server_is_up() {
    let db = Database::with("SELECT 1");
    db.pg.kill9();
    let url = db.url.clone();
    let child = std::thread::spawn(move || pizza_db(&url, &["--wait", "60", "purge"], &[]));
    std::thread::sleep(Duration::from_secs(3));
    db.pg.restart();
    let out = child.join().unwrap();
    // Connected once the server was back (purge then fails: this database has no tables).
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("login_attempt"), "{stderr}");
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("connect: the database is not reachable yet"),
    );
}
