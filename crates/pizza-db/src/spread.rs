//! Who placed each of the data set's orders, and where. The data set has neither, so
//! `seed --history` makes both up, deterministically (the same order always goes to the
//! same member and branch, on every machine and every run):
//!
//! - **Members**: [`HISTORY_MEMBERS`] generated accounts, `history_0001` … `history_1000`,
//!   named `History customer 1` …. Order *n* of the data set belongs to member
//!   `splitmix64(n) mod 1000 + 1`: about 21 orders each, scattered over the year.
//! - **Branches**: every member has one home branch, where all their orders are placed (a
//!   customer in Seoul does not order in London). It is drawn from `splitmix64(member
//!   number << 32)` with the weights [`BRANCH_WEIGHTS`], 4 : 3 : 2 : 1 over branches 1 to 4
//!   of [`crate::BRANCHES`], so the branches differ in size.
//! - **Passwords**: every history account stores [`UNUSABLE_PASSWORD`], a Django unusable
//!   password (`!` and 40 letters and digits), which the login service never matches and
//!   `check-legacy` reports as unusable: nobody can log in as a history customer.

/// How many member accounts the history is spread over.
pub const HISTORY_MEMBERS: u32 = 1000;

/// The branches' shares of the members (and so, roughly, of the orders): `bran_id` and
/// weight. The ids are those `pizza-db seed` creates.
pub const BRANCH_WEIGHTS: [(&str, u64); 4] = [("1", 4), ("2", 3), ("3", 2), ("4", 1)];

/// The stored password of every history account: Django's unusable-password form (`!`
/// followed by 40 letters and digits; `make_password(None)` writes a random one), which no
/// password verifies.
pub const UNUSABLE_PASSWORD: &str = "!HistoryCustomerUnusablePasswordNoMatches";

/// The id of history member `number` (1-based): `history_0001`.
pub fn member_id(number: u32) -> String {
    format!("history_{number:04}")
}

/// The display name of history member `number`: `History customer 1`.
pub fn member_name(number: u32) -> String {
    format!("History customer {number}")
}

/// The member (1 to [`HISTORY_MEMBERS`]) who placed the data set's order `order_id`.
pub fn member_of(order_id: u32) -> u32 {
    let draw = splitmix64(u64::from(order_id)) % u64::from(HISTORY_MEMBERS);
    u32::try_from(draw).expect("below HISTORY_MEMBERS") + 1
}

/// The `bran_id` where member `number` places all their orders.
pub fn home_branch(number: u32) -> &'static str {
    let total: u64 = BRANCH_WEIGHTS.iter().map(|(_, weight)| weight).sum();
    let mut draw = splitmix64(u64::from(number) << 32) % total;
    for (branch, weight) in BRANCH_WEIGHTS {
        if draw < weight {
            return branch;
        }
        draw -= weight;
    }
    unreachable!("the draw is below the weights' total")
}

/// SplitMix64's output function (Steele, Lea and Flood, 2014): a fixed, well-mixed hash
/// of a number, so consecutive orders land on unrelated members.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BRANCHES;

    #[test]
    fn the_password_is_a_django_unusable_one() {
        let suffix = UNUSABLE_PASSWORD.strip_prefix('!').unwrap();
        assert_eq!(suffix.len(), 40);
        assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn ids_and_names() {
        assert_eq!(member_id(1), "history_0001");
        assert_eq!(member_id(HISTORY_MEMBERS), "history_1000");
        assert_eq!(member_name(7), "History customer 7");
    }

    #[test]
    fn the_weights_name_the_seeded_branches() {
        let weighted: Vec<&str> = BRANCH_WEIGHTS.iter().map(|(id, _)| *id).collect();
        let seeded: Vec<&str> = BRANCHES.iter().map(|(id, _)| *id).collect();
        assert_eq!(weighted, seeded);
    }

    /// The assignment is part of the documented data: pinned, so a change shows.
    #[test]
    fn the_spread_is_fixed() {
        let members: Vec<u32> = (1..=5).map(member_of).collect();
        let branches: Vec<&str> = (1..=8).map(home_branch).collect();
        assert_eq!(members, [466, 111, 54, 979, 619]);
        assert_eq!(branches, ["2", "1", "2", "1", "2", "2", "4", "2"]);
    }

    #[test]
    fn every_member_and_branch_is_used_in_about_its_share() {
        let mut orders = vec![0u32; HISTORY_MEMBERS as usize + 1];
        for id in 1..=21_350 {
            orders[member_of(id) as usize] += 1;
        }
        assert_eq!(orders[0], 0);
        assert!(
            orders[1..].iter().all(|&n| (5..=45).contains(&n)),
            "{orders:?}"
        );
        for (branch, weight) in BRANCH_WEIGHTS {
            let members = (1..=HISTORY_MEMBERS)
                .filter(|&n| home_branch(n) == branch)
                .count();
            let expected = 100 * weight as usize;
            assert!(
                members.abs_diff(expected) < 50,
                "branch {branch}: {members} members, about {expected} expected"
            );
        }
    }
}
