//! Comparing secrets without telling, by the time taken, how much matched.

/// Whether two byte strings are equal, without stopping at the first
/// difference (the length is not hidden).
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_only_when_every_byte_is() {
        assert!(super::eq(b"token", b"token"));
        assert!(!super::eq(b"token", b"tokem"));
        assert!(!super::eq(b"token", b"token!"));
    }
}
