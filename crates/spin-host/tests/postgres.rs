//! `spin:postgres/postgres@4.0.0` against a real PostgreSQL: type round trips,
//! strict parameter binding, error mapping and the allow-list.

mod common;

use common::post;

struct Env {
    pg: testkit::Postgres,
    host: testkit::Host,
    url: String,
}

/// A fresh cluster and host per test. (A shared `static` would never be
/// dropped, leaking the cluster and the host process after the run.)
fn env() -> Env {
    let pg = testkit::Postgres::start();
    pg.create_database("fx");
    pg.psql(
        "fx",
        "CREATE TABLE uniq_t (id int primary key, name text unique);
         CREATE TABLE typed (u uuid, ts timestamptz, j json, v varchar(5));
         INSERT INTO uniq_t VALUES (1, 'one');",
    );
    let host = common::start(&[("db_host", &pg.host_port())], &[]);
    let url = pg.superuser_url("fx");
    Env { pg, host, url }
}

fn query(e: &Env, sql: &str, params: &[&str]) -> String {
    run(e, "/pg/query", sql, params)
}

fn execute(e: &Env, sql: &str, params: &[&str]) -> String {
    run(e, "/pg/execute", sql, params)
}

fn run(e: &Env, path: &str, sql: &str, params: &[&str]) -> String {
    let mut headers = vec![("x-db-url", e.url.as_str())];
    let names: Vec<String> = (0..params.len()).map(|i| format!("x-param-{i}")).collect();
    headers.extend(names.iter().map(String::as_str).zip(params.iter().copied()));
    let (status, body) = post(&e.host, path, &headers, sql);
    assert_eq!(status, 200, "{body}\n{}", e.host.output());
    body
}

#[track_caller]
fn assert_has(body: &str, needle: &str) {
    assert!(body.contains(needle), "expected {needle}\n in {body}");
}

#[test]
fn scalar_types_read() {
    let e = env();
    let body = query(
        &e,
        "SELECT true, 12::int2, 1234567::int4, 1234567890123::int8, 1.5::float4, 3.14159::float8, 17.9::numeric(10,2), 'ab'::char(3), '\\xdeadbeef'::bytea, '2024-02-29'::date, '13:45:30.123456'::time, '2024-02-29 13:45:30.123456'::timestamp, '1 year 2 mons 3 days 04:05:06.789'::interval, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, NULL::int4, current_user",
        &[],
    );
    for v in [
        "Boolean(true)",
        "Int16(12)",
        "Int32(1234567)",
        "Int64(1234567890123)",
        "Floating32(1.5)",
        "Floating64(3.14159)",
        "Decimal(\"17.90\")",
        "Str(\"ab \")",
        "Binary([222, 173, 190, 239])",
        "Date((2024, 2, 29))",
        "Time((13, 45, 30, 123456000))",
        "Datetime((2024, 2, 29, 13, 45, 30, 123456000))",
        "Interval(Interval { micros: 14706789000, days: 3, months: 14 })",
        "Uuid(\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\")",
        "DbNull",
        "Unsupported([112, 111, 115, 116, 103, 114, 101, 115])",
        "data-type: DbDataType::Other(\"name\")",
        "name: \"?column?\"",
    ] {
        assert_has(&body, v);
    }
}

#[test]
fn arrays_ranges_json() {
    let e = env();
    let body = query(
        &e,
        "SELECT '{1,NULL,3}'::int4[], '{a,NULL,\"b c\"}'::text[], '[1,5]'::int8range, 'empty'::int4range, '[1.5,2.5)'::numrange, '{\"b\":1,\"a\":{\"d\":2,\"c\":3}}'::jsonb, '{\"k\": 1}'::json",
        &[],
    );
    for v in [
        "ArrayInt32([Some(1), None, Some(3)])",
        "ArrayStr([Some(\"a\"), None, Some(\"b c\")])",
        "RangeInt64((Some((1, RangeBoundKind::Inclusive)), Some((6, RangeBoundKind::Exclusive))))",
        "RangeInt32((None, None))",
        "RangeDecimal((Some((\"1.5\", RangeBoundKind::Inclusive)), Some((\"2.5\", RangeBoundKind::Exclusive))))",
        &format!("Jsonb({:?})", br#"{"a":{"c":3,"d":2},"b":1}"#.to_vec()),
        &format!("Unsupported({:?})", br#"{"k": 1}"#.to_vec()),
    ] {
        assert_has(&body, v);
    }
}

#[test]
fn known_read_failures() {
    let e = env();
    assert_has(
        &query(&e, "SELECT 1, now()", &[]),
        r#"Err(Error::QueryFailed(QueryError::Text("error deserializing column 1: cannot convert between the Rust type `core::option::Option<chrono::naive::datetime::NaiveDateTime>` and the Postgres type `timestamptz`\n\nCaused by:\n    cannot convert between"#,
    );
    assert_has(
        &query(&e, "SELECT NULL::timestamptz", &[]),
        "error deserializing column 0: cannot convert",
    );
    assert_has(
        &query(
            &e,
            "SELECT 123456789012345678901234567890.123::numeric",
            &[],
        ),
        r#"QueryError::Text("error deserializing column 0: Number exceeds maximum value that can be represented.\n\nCaused by:\n    Number exceeds maximum value that can be represented.")"#,
    );
    assert_eq!(
        query(&e, "SELECT 1 AS v WHERE false", &[]),
        "Ok(RowSet { columns: [], rows: [] })"
    );
}

#[test]
fn strict_parameter_binding() {
    let e = env();
    assert_has(
        &query(
            &e,
            "SELECT $1::uuid",
            &["uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
        ),
        "Uuid(\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\")",
    );
    assert_has(
        &query(
            &e,
            "SELECT $1::uuid",
            &["str:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
        ),
        r#"QueryError::Text("Error { kind: ToSql(0), cause: Some(WrongType { postgres: Uuid, rust: \"alloc::string::String\" }) }")"#,
    );
    assert_has(
        &query(
            &e,
            "SELECT $1::int4, $2::timestamptz",
            &["i32:1", "datetime:2024-02-29 13:45:30.123456"],
        ),
        r#"ToSql(1), cause: Some(WrongType { postgres: Timestamptz, rust: \"chrono::naive::datetime::NaiveDateTime\" })"#,
    );
    assert_has(
        &query(&e, "SELECT $1::int8", &["i8:1"]),
        r#"WrongType { postgres: Int8, rust: \"i8\" }"#,
    );
    assert_has(
        &query(&e, "SELECT $1::interval::text", &["interval:1,2,3"]),
        "Str(\"3 mons 2 days 00:00:00.000001\")",
    );
    assert_has(
        &query(&e, "SELECT $1::text", &["interval:1,2,3"]),
        r#"rust: \"spin_factor_outbound_pg::types::interval::Interval\""#,
    );
    assert_has(
        &query(&e, "SELECT $1::timestamptz::text", &["ts:1700000000"]),
        "Str(\"2023-11-14 22:13:20+00\")",
    );
    assert_has(
        &query(&e, "SELECT $1::uuid", &["uuid:not-a-uuid"]),
        r#"Err(Error::BadParameter("invalid UUID not-a-uuid\n\nCaused by:\n    invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1"))"#,
    );
    assert_has(
        &query(&e, "SELECT $1::numeric", &["decimal:abc"]),
        r#"Err(Error::BadParameter("invalid decimal abc\n\nCaused by:\n    Invalid decimal: unknown character"))"#,
    );
    assert_has(
        &query(&e, "SELECT $1", &[]),
        r#"QueryError::Text("Error { kind: Parameters(0, 1), cause: None }")"#,
    );
    assert_has(&query(&e, "SELECT $1::int4", &["null"]), "DbNull");
}

#[test]
fn error_mapping() {
    let e = env();
    let dup = execute(&e, "INSERT INTO uniq_t VALUES (2, 'one')", &[]);
    assert_has(&dup, r#"code: "23505""#);
    assert_has(&dup, r#"detail: Some("Key (name)=(one) already exists.")"#);
    assert_has(&dup, r#"("constraint", "uniq_t_name_key")"#);
    assert_has(
        &query(&e, "INSERT INTO uniq_t VALUES (1, 'x') RETURNING id", &[]),
        r#"Err(Error::QueryFailed(QueryError::Text("db error: ERROR: duplicate key value violates unique constraint \"uniq_t_pkey\"\nDETAIL: Key (id)=(1) already exists.\n\nCaused by:\n    ERROR: duplicate key value violates unique constraint \"uniq_t_pkey\"\n    DETAIL: Key (id)=(1) already exists."))"#,
    );
    assert_has(
        &query(&e, "SELECT id/0 FROM uniq_t", &[]),
        r#"QueryError::Text("db error: ERROR: division by zero\n\nCaused by:\n    ERROR: division by zero")"#,
    );
    assert_has(&query(&e, "SELECT 1/0", &[]), r#"code: "22012""#);
    assert_has(&query(&e, "SELEC 1", &[]), r#"code: "42601""#);
    assert_has(
        &query(&e, "SELECT * FROM no_such_table", &[]),
        r#"code: "42P01""#,
    );
    assert_has(
        &execute(&e, "SELECT 1; SELECT 2", &[]),
        "cannot insert multiple commands into a prepared statement",
    );
    assert_eq!(execute(&e, "", &[]), "Ok(0)");
    assert_has(
        &execute(
            &e,
            "INSERT INTO typed (v) VALUES ($1)",
            &["str:much-too-long"],
        ),
        r#"code: "22001""#,
    );
}

#[test]
fn open_errors_and_allow_list() {
    let e = env();
    let refused = format!("postgres://postgres@127.0.0.1:{}/fx", e.pg.port());
    let (_, body) = post(
        &e.host,
        "/pg/query",
        &[("x-db-url", "postgres://postgres@127.0.0.1:1/fx")],
        "SELECT 1",
    );
    assert_has(
        &body,
        r#"OPEN-ERR Error::ConnectionFailed("address postgres://127.0.0.1:1 is not permitted")"#,
    );
    let (_, body) = post(
        &e.host,
        "/pg/query",
        &[("x-db-url", &refused.replace("/fx", "/nosuchdb"))],
        "SELECT 1",
    );
    assert_has(
        &body,
        r#"OPEN-ERR Error::ConnectionFailed("Error occurred while creating a new object: db error: FATAL: database \"nosuchdb\" does not exist\n\nCaused by:\n    0: db error: FATAL: database \"nosuchdb\" does not exist\n    1: FATAL: database \"nosuchdb\" does not exist")"#,
    );
    let (_, body) = post(
        &e.host,
        "/pg/query",
        &[("x-db-url", "not a url at all")],
        "SELECT 1",
    );
    assert_has(
        &body,
        "OPEN-ERR Error::ConnectionFailed(\"invalid connection string: unexpected character at byte 4: expected `=` but got `a`\")",
    );
    // key=value form is checked the same way and works.
    let kv = format!(
        "host=127.0.0.1 port={} user=postgres dbname=fx",
        e.pg.port()
    );
    let (_, body) = post(&e.host, "/pg/query", &[("x-db-url", &kv)], "SELECT 1::int4");
    assert_has(&body, "Int32(1)");
}
