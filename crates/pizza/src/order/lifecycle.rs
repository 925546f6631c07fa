//! The order's states and the one table of legal transitions between them.
//!
//! Everything that moves an order asks [`check`] first, and the transition
//! statement (`crate::store::order::transition`) only moves an order whose
//! state is one of [`sources`]'s, so the database cannot disagree with this
//! table. The payment states are moved by the relay ([`Actor::System`],
//! `crate::store::relay`), by the same table.

use serde::Serialize;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Written by `POST /api/order/` (paid at the counter) or by checkout;
    /// the kitchen has not seen it yet.
    Placed,
    /// Checked out: the payment is being taken (not in the kitchen's queue).
    PaymentPending,
    /// The provider took the money; the kitchen's queue shows it.
    Paid,
    /// The provider declined; the member may pay again another way.
    PaymentFailed,
    /// The kitchen took it.
    Accepted,
    /// In the oven.
    Baking,
    /// Waiting to be picked up.
    Ready,
    /// Handed over. Orders from before states existed read as this.
    Completed,
    /// Called off, by the member while it was only placed or paid, or by the
    /// branch's staff before it was ready.
    Cancelled,
    /// Cancelled after it was paid: the refund is being made.
    RefundPending,
    /// Cancelled and the money given back.
    Refunded,
}

impl State {
    /// Every state, in the order of an order's life.
    pub const ALL: [State; 11] = [
        State::Placed,
        State::PaymentPending,
        State::Paid,
        State::PaymentFailed,
        State::Accepted,
        State::Baking,
        State::Ready,
        State::Completed,
        State::Cancelled,
        State::RefundPending,
        State::Refunded,
    ];

    /// The name the API and the `orders.state` column use.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Placed => "placed",
            State::PaymentPending => "payment_pending",
            State::Paid => "paid",
            State::PaymentFailed => "payment_failed",
            State::Accepted => "accepted",
            State::Baking => "baking",
            State::Ready => "ready",
            State::Completed => "completed",
            State::Cancelled => "cancelled",
            State::RefundPending => "refund_pending",
            State::Refunded => "refunded",
        }
    }

    /// The state a name stands for, if any.
    pub fn parse(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The state an `orders.state` column holds: NULL is a legacy order,
    /// which reads as completed.
    pub fn from_column(column: Option<&str>) -> Option<State> {
        column.map_or(Some(State::Completed), State::parse)
    }

    /// Whether the kitchen still has work on it (it is in the queue).
    pub fn is_open(self) -> bool {
        !next_states(self, Actor::Staff).is_empty()
    }
}

/// Who asks for a transition, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The member who placed the order.
    Member,
    /// Staff of the order's branch, or an admin.
    Staff,
    /// The payment saga's relay, acting on the provider's word.
    System,
}

impl Actor {
    /// The name the history's `actor_role` column records.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Member => "member",
            Actor::Staff => "staff",
            Actor::System => "system",
        }
    }
}

/// Whether a transition needs a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A reason may be given.
    Optional,
    /// A transition without a reason is refused.
    Required,
}

/// One legal move: `by` may take an order from `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state the order is in.
    pub from: State,
    /// The state it moves to.
    pub to: State,
    /// Who may move it.
    pub by: Actor,
    /// Whether they must say why.
    pub reason: Reason,
}

const fn rule(from: State, to: State, by: Actor, reason: Reason) -> Transition {
    Transition {
        from,
        to,
        by,
        reason,
    }
}

/// Every legal transition; anything not listed is refused.
pub const TRANSITIONS: [Transition; 18] = {
    use Actor::{Member, Staff, System};
    use Reason::{Optional, Required};
    use State::*;
    [
        rule(Placed, PaymentPending, System, Optional),
        rule(PaymentPending, Paid, System, Optional),
        rule(PaymentPending, PaymentFailed, System, Optional),
        rule(PaymentFailed, PaymentPending, Member, Optional),
        rule(PaymentFailed, Cancelled, Member, Optional),
        rule(Paid, Accepted, Staff, Optional),
        rule(Paid, Cancelled, Member, Optional),
        rule(Paid, Cancelled, Staff, Required),
        rule(Cancelled, RefundPending, System, Optional),
        rule(RefundPending, Refunded, System, Optional),
        rule(Placed, Accepted, Staff, Optional),
        rule(Accepted, Baking, Staff, Optional),
        rule(Baking, Ready, Staff, Optional),
        rule(Ready, Completed, Staff, Optional),
        rule(Placed, Cancelled, Member, Optional),
        rule(Placed, Cancelled, Staff, Required),
        rule(Accepted, Cancelled, Staff, Required),
        rule(Baking, Cancelled, Staff, Required),
    ]
};

/// The longest reason kept, in characters (`order_history.reason`).
pub const MAX_REASON_CHARS: usize = 500;

/// The states `by` may move an order in `from` to, in the table's order.
pub fn next_states(from: State, by: Actor) -> Vec<State> {
    TRANSITIONS
        .iter()
        .filter(|t| t.from == from && t.by == by)
        .map(|t| t.to)
        .collect()
}

/// The states from which `by` may move an order to `to` giving `reason`:
/// what the transition statement lets it move from.
pub fn sources(to: State, by: Actor, reason: Option<&str>) -> Vec<State> {
    State::ALL
        .into_iter()
        .filter(|from| check(*from, to, by, reason).is_ok())
        .collect()
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The table has no such move from the order's state for this actor.
    Illegal {
        /// The order's state.
        current: State,
        /// Where this actor may move it instead.
        allowed: Vec<State>,
    },
    /// The move needs a reason and none was given.
    ReasonRequired,
}

/// Whether `by` may move an order in `from` to `to` giving `reason`.
pub fn check(from: State, to: State, by: Actor, reason: Option<&str>) -> Result<(), Refusal> {
    let rule = TRANSITIONS
        .iter()
        .find(|t| t.from == from && t.to == to && t.by == by)
        .ok_or_else(|| Refusal::Illegal {
            current: from,
            allowed: next_states(from, by),
        })?;
    let given = reason.is_some_and(|r| !r.trim().is_empty());
    if rule.reason == Reason::Required && !given {
        return Err(Refusal::ReasonRequired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Actor::{Member, Staff, System};
    use State::*;

    /// The whole table, written out once more by hand: every (from, to, by)
    /// triple, legal or not, is checked against it.
    fn expected(from: State, to: State, by: Actor) -> Option<Reason> {
        match (from, to, by) {
            (Placed, Accepted, Staff)
            | (Accepted, Baking, Staff)
            | (Baking, Ready, Staff)
            | (Ready, Completed, Staff)
            | (Placed, Cancelled, Member)
            | (Placed, PaymentPending, System)
            | (PaymentPending, Paid | PaymentFailed, System)
            | (PaymentFailed, PaymentPending | Cancelled, Member)
            | (Paid, Accepted, Staff)
            | (Paid, Cancelled, Member)
            | (Cancelled, RefundPending, System)
            | (RefundPending, Refunded, System) => Some(Reason::Optional),
            (Placed | Paid | Accepted | Baking, Cancelled, Staff) => Some(Reason::Required),
            _ => None,
        }
    }

    #[test]
    fn every_triple_is_decided_as_the_table_says() {
        let mut legal = 0;
        for from in State::ALL {
            for to in State::ALL {
                for by in [Member, Staff, System] {
                    let with_reason = check(from, to, by, Some("oven broke"));
                    let without = check(from, to, by, None);
                    match expected(from, to, by) {
                        Some(reason) => {
                            legal += 1;
                            assert_eq!(with_reason, Ok(()), "{from:?}->{to:?} by {by:?}");
                            let want = match reason {
                                Reason::Optional => Ok(()),
                                Reason::Required => Err(Refusal::ReasonRequired),
                            };
                            assert_eq!(without, want, "{from:?}->{to:?} by {by:?}");
                            assert!(sources(to, by, Some("why")).contains(&from));
                            assert_eq!(
                                sources(to, by, None).contains(&from),
                                reason == Reason::Optional
                            );
                            assert!(next_states(from, by).contains(&to));
                        }
                        None => {
                            let refusal = Refusal::Illegal {
                                current: from,
                                allowed: next_states(from, by),
                            };
                            assert_eq!(with_reason, Err(refusal.clone()));
                            assert_eq!(without, Err(refusal));
                            assert!(!sources(to, by, Some("why")).contains(&from));
                        }
                    }
                }
            }
        }
        assert_eq!(legal, TRANSITIONS.len());
    }

    #[test]
    fn a_blank_reason_is_no_reason() {
        assert_eq!(
            check(Baking, Cancelled, Staff, Some("  ")),
            Err(Refusal::ReasonRequired)
        );
    }

    #[test]
    fn names_round_trip_and_legacy_orders_are_completed() {
        for state in State::ALL {
            assert_eq!(State::parse(state.as_str()), Some(state));
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::json!(state.as_str())
            );
        }
        assert_eq!(State::from_column(None), Some(Completed));
        assert_eq!(State::from_column(Some("bogus")), None);
        assert_eq!(State::parse("Placed"), None);
    }

    #[test]
    fn open_states_are_the_kitchens() {
        let open: Vec<State> = State::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [Placed, Paid, Accepted, Baking, Ready]);
    }
}
