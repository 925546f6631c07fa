//! Conversions between `spin:postgres@4.0.0` values and tokio-postgres, with
//! the same Rust types Spin 3.6 uses, so that accepted parameter types,
//! `WrongType` texts and read failures (e.g. `timestamptz`) are identical.

use crate::bindings::spin::postgres::postgres::{
    Column, DbDataType, DbValue, ParameterValue, RangeBoundKind,
};
use anyhow::{Context, Result, anyhow};
use postgres_range::{BoundSided, BoundType, Normalizable, Range, RangeBound};
use spin_factor_outbound_pg::types::decimal::RangeableDecimal;
use spin_factor_outbound_pg::types::interval::Interval;
use std::error::Error;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

/// The WIT data type reported for a column.
pub fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

/// Column descriptions taken from a row.
pub fn columns(row: &Row) -> Vec<Column> {
    row.columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            data_type: data_type(c.type_()),
        })
        .collect()
}

/// Converts a whole row; the first failing column fails the row.
pub fn convert_row(row: &Row) -> Result<Vec<DbValue>> {
    (0..row.len()).map(|i| convert_entry(row, i)).collect()
}

fn get<'a, T: FromSql<'a>, W>(
    row: &'a Row,
    i: usize,
    f: impl Fn(T) -> Result<W>,
    ctor: impl Fn(W) -> DbValue,
) -> Result<DbValue> {
    let v: Option<T> = row.try_get(i)?;
    Ok(match v {
        Some(v) => ctor(f(v)?),
        None => DbValue::DbNull,
    })
}

fn id<T>(v: T) -> Result<T> {
    Ok(v)
}

fn convert_entry(row: &Row, i: usize) -> Result<DbValue> {
    use chrono::{Datelike, Timelike};
    match *row.columns()[i].type_() {
        Type::BOOL => get(row, i, id, DbValue::Boolean),
        Type::BYTEA => get(row, i, id, DbValue::Binary),
        Type::FLOAT4 => get(row, i, id, DbValue::Floating32),
        Type::FLOAT8 => get(row, i, id, DbValue::Floating64),
        Type::INT2 => get(row, i, id, DbValue::Int16),
        Type::INT4 => get(row, i, id, DbValue::Int32),
        Type::INT8 => get(row, i, id, DbValue::Int64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => get(row, i, id, DbValue::Str),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => get(
            row,
            i,
            |v: chrono::NaiveDateTime| {
                Ok((
                    v.year(),
                    v.month().try_into()?,
                    v.day().try_into()?,
                    v.hour().try_into()?,
                    v.minute().try_into()?,
                    v.second().try_into()?,
                    v.nanosecond(),
                ))
            },
            DbValue::Datetime,
        ),
        Type::DATE => get(
            row,
            i,
            |v: chrono::NaiveDate| Ok((v.year(), v.month().try_into()?, v.day().try_into()?)),
            DbValue::Date,
        ),
        Type::TIME => get(
            row,
            i,
            |v: chrono::NaiveTime| {
                Ok((
                    v.hour().try_into()?,
                    v.minute().try_into()?,
                    v.second().try_into()?,
                    v.nanosecond(),
                ))
            },
            DbValue::Time,
        ),
        Type::UUID => get(row, i, |v: uuid::Uuid| Ok(v.to_string()), DbValue::Uuid),
        Type::JSONB => get(
            row,
            i,
            |v: serde_json::Value| serde_json::to_vec(&v).context("invalid JSON from database"),
            DbValue::Jsonb,
        ),
        Type::NUMERIC => get(
            row,
            i,
            |v: rust_decimal::Decimal| Ok(v.to_string()),
            DbValue::Decimal,
        ),
        Type::INT4_RANGE => get(
            row,
            i,
            |v: Range<i32>| Ok(range_to_wit(&v, |x| *x)),
            DbValue::RangeInt32,
        ),
        Type::INT8_RANGE => get(
            row,
            i,
            |v: Range<i64>| Ok(range_to_wit(&v, |x| *x)),
            DbValue::RangeInt64,
        ),
        Type::NUM_RANGE => get(
            row,
            i,
            |v: Range<RangeableDecimal>| Ok(range_to_wit(&v, |d| d.0.to_string())),
            DbValue::RangeDecimal,
        ),
        Type::INT4_ARRAY => get(row, i, id, DbValue::ArrayInt32),
        Type::INT8_ARRAY => get(row, i, id, DbValue::ArrayInt64),
        Type::NUMERIC_ARRAY => get(
            row,
            i,
            |v: Vec<Option<rust_decimal::Decimal>>| {
                Ok(v.iter().map(|d| d.map(|d| d.to_string())).collect())
            },
            DbValue::ArrayDecimal,
        ),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get(row, i, id, DbValue::ArrayStr)
        }
        Type::INTERVAL => get(
            row,
            i,
            |v: Interval| {
                Ok(crate::bindings::spin::postgres::postgres::Interval {
                    micros: v.micros,
                    days: v.days,
                    months: v.months,
                })
            },
            DbValue::Interval,
        ),
        _ => get(row, i, |v: RawBytes| Ok(v.0), DbValue::Unsupported),
    }
}

type WitBound<T> = Option<(T, RangeBoundKind)>;

fn range_to_wit<T: PartialOrd + Normalizable, W>(
    r: &Range<T>,
    f: impl Fn(&T) -> W,
) -> (WitBound<W>, WitBound<W>) {
    fn kind(t: BoundType) -> RangeBoundKind {
        match t {
            BoundType::Inclusive => RangeBoundKind::Inclusive,
            BoundType::Exclusive => RangeBoundKind::Exclusive,
        }
    }
    (
        r.lower().map(|b| (f(&b.value), kind(b.type_))),
        r.upper().map(|b| (f(&b.value), kind(b.type_))),
    )
}

fn range_from_wit<T: PartialOrd + Normalizable, W>(
    (lower, upper): &(WitBound<W>, WitBound<W>),
    f: impl Fn(&W) -> Result<T>,
) -> Result<Range<T>> {
    fn bound<S: BoundSided, T: PartialOrd + Normalizable, W>(
        b: &WitBound<W>,
        f: &impl Fn(&W) -> Result<T>,
    ) -> Result<Option<RangeBound<S, T>>> {
        b.as_ref()
            .map(|(v, k)| {
                let t = match k {
                    RangeBoundKind::Inclusive => BoundType::Inclusive,
                    RangeBoundKind::Exclusive => BoundType::Exclusive,
                };
                Ok(RangeBound::new(f(v)?, t))
            })
            .transpose()
    }
    Ok(Range::new(bound(lower, &f)?, bound(upper, &f)?))
}

fn decimal(v: &str) -> Result<rust_decimal::Decimal> {
    rust_decimal::Decimal::from_str_exact(v).with_context(|| format!("invalid decimal {v}"))
}

/// A bound query parameter.
pub type SqlParam = Box<dyn ToSql + Send + Sync>;

/// Converts one guest parameter; invalid payloads fail here (`BadParameter`),
/// type mismatches later in tokio-postgres (`WrongType`).
pub fn to_sql(value: &ParameterValue) -> Result<SqlParam> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date((y, m, d)) => Box::new(
            chrono::NaiveDate::from_ymd_opt(*y, (*m).into(), (*d).into())
                .ok_or_else(|| anyhow!("invalid date y={y}, m={m}, d={d}"))?,
        ),
        ParameterValue::Time((h, min, s, ns)) => Box::new(
            chrono::NaiveTime::from_hms_nano_opt((*h).into(), (*min).into(), (*s).into(), *ns)
                .ok_or_else(|| anyhow!("invalid time {h}:{min}:{s}:{ns}"))?,
        ),
        ParameterValue::Datetime((y, mon, d, h, min, s, ns)) => {
            let date = chrono::NaiveDate::from_ymd_opt(*y, (*mon).into(), (*d).into())
                .ok_or_else(|| anyhow!("invalid date y={y}, m={mon}, d={d}"))?;
            let time =
                chrono::NaiveTime::from_hms_nano_opt((*h).into(), (*min).into(), (*s).into(), *ns)
                    .ok_or_else(|| anyhow!("invalid time {h}:{min}:{s}:{ns}"))?;
            Box::new(chrono::NaiveDateTime::new(date, time))
        }
        ParameterValue::Timestamp(v) => Box::new(
            chrono::DateTime::<chrono::Utc>::from_timestamp(*v, 0)
                .ok_or_else(|| anyhow!("invalid epoch timestamp {v}"))?,
        ),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(v).with_context(|| format!("invalid UUID {v}"))?)
        }
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(v)
                .with_context(|| format!("invalid JSON {}", String::from_utf8_lossy(v)))?,
        ),
        ParameterValue::Decimal(v) => Box::new(decimal(v)?),
        ParameterValue::RangeInt32(r) => Box::new(range_from_wit(r, |v| Ok(*v))?),
        ParameterValue::RangeInt64(r) => Box::new(range_from_wit(r, |v| Ok(*v))?),
        ParameterValue::RangeDecimal(r) => Box::new(range_from_wit(r, |v: &String| {
            Ok(RangeableDecimal(decimal(v)?))
        })?),
        ParameterValue::ArrayInt32(v) => Box::new(v.clone()),
        ParameterValue::ArrayInt64(v) => Box::new(v.clone()),
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|d| d.as_deref().map(decimal).transpose())
                .collect::<Result<Vec<_>>>()?,
        ),
        ParameterValue::ArrayStr(v) => Box::new(v.clone()),
        ParameterValue::Interval(v) => Box::new(Interval {
            micros: v.micros,
            days: v.days,
            months: v.months,
        }),
        ParameterValue::DbNull => Box::new(Null),
    })
}

/// The raw wire bytes of a column type the interface has no variant for.
struct RawBytes(Vec<u8>);

impl FromSql<'_> for RawBytes {
    fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(RawBytes(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// SQL NULL, accepted for every parameter type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    to_sql_checked!();

    fn to_sql(
        &self,
        _: &Type,
        _: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
