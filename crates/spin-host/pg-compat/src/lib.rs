//! Wrapper types used by spin-host's PostgreSQL implementation. They live at
//! `spin_factor_outbound_pg::types::*` only so that type names embedded in
//! tokio-postgres `WrongType` errors read exactly as under Spin 3.6.

/// See the crate documentation.
pub mod types {
    /// `interval` values.
    pub mod interval {
        use bytes::BufMut;
        use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
        use std::error::Error;

        /// A PostgreSQL `interval` in its wire form (microseconds, days, months).
        #[derive(Debug, Clone, Copy)]
        pub struct Interval {
            /// Microseconds part.
            pub micros: i64,
            /// Days part.
            pub days: i32,
            /// Months part.
            pub months: i32,
        }

        impl ToSql for Interval {
            to_sql_checked!();

            fn to_sql(
                &self,
                _: &Type,
                out: &mut bytes::BytesMut,
            ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
                out.put_i64(self.micros);
                out.put_i32(self.days);
                out.put_i32(self.months);
                Ok(IsNull::No)
            }

            fn accepts(ty: &Type) -> bool {
                *ty == Type::INTERVAL
            }
        }

        impl FromSql<'_> for Interval {
            fn from_sql(_: &Type, raw: &[u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
                if raw.len() != 16 {
                    return Err("unexpected binary format for Postgres INTERVAL".into());
                }
                Ok(Interval {
                    micros: i64::from_be_bytes(raw[0..8].try_into()?),
                    days: i32::from_be_bytes(raw[8..12].try_into()?),
                    months: i32::from_be_bytes(raw[12..16].try_into()?),
                })
            }

            fn accepts(ty: &Type) -> bool {
                *ty == Type::INTERVAL
            }
        }
    }

    /// `numrange` bounds.
    pub mod decimal {
        use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
        use std::error::Error;

        /// A decimal usable as a `postgres_range` bound (continuous: no normalisation).
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
        pub struct RangeableDecimal(pub rust_decimal::Decimal);

        impl postgres_range::Normalizable for RangeableDecimal {
            fn normalize<S: postgres_range::BoundSided>(
                bound: postgres_range::RangeBound<S, Self>,
            ) -> postgres_range::RangeBound<S, Self> {
                bound
            }
        }

        impl ToSql for RangeableDecimal {
            to_sql_checked!();

            fn to_sql(
                &self,
                ty: &Type,
                out: &mut bytes::BytesMut,
            ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
                self.0.to_sql(ty, out)
            }

            fn accepts(ty: &Type) -> bool {
                <rust_decimal::Decimal as ToSql>::accepts(ty)
            }
        }

        impl<'a> FromSql<'a> for RangeableDecimal {
            fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
                Ok(RangeableDecimal(rust_decimal::Decimal::from_sql(ty, raw)?))
            }

            fn accepts(ty: &Type) -> bool {
                <rust_decimal::Decimal as FromSql>::accepts(ty)
            }
        }
    }
}
