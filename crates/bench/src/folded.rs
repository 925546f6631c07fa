//! Folded stacks (`frame;frame;leaf weight` lines, as inferno-collapse-perf
//! writes them): names made readable, and the frames with the most self time.
//!
//! With `perf record -e cpu-clock` each sample weighs its period in
//! nanoseconds, so a weight is CPU time.

use serde::Serialize;
use std::collections::HashMap;

/// One frame's self time.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    /// The function: spin-host's own, the kernel's (`_[k]`), or a wasm
    /// function of a component (`wasm[<module>]::…`).
    pub frame: String,
    /// CPU time with this frame on top of the stack, ms.
    pub cpu_ms: f64,
    /// Its share of all sampled CPU time, in percent.
    pub percent: f64,
}

/// `folded` with the Rust symbols of wasm functions demangled: perf names them
/// `wasm[0]::function[76]::_ZN…` from the compiled component's symbol table,
/// and demangles only what starts with the mangled name.
pub fn demangle(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len());
    for line in folded.lines() {
        let Some((stack, weight)) = line.rsplit_once(' ') else {
            continue;
        };
        let frames: Vec<String> = stack.split(';').map(demangle_frame).collect();
        out.push_str(&frames.join(";"));
        out.push(' ');
        out.push_str(weight);
        out.push('\n');
    }
    out
}

fn demangle_frame(frame: &str) -> String {
    let Some(at) = frame.find("::_ZN").or_else(|| frame.find("::_R")) else {
        return frame.to_owned();
    };
    let (prefix, symbol) = (&frame[..at], &frame[at + 2..]);
    let name = match rustc_demangle::try_demangle(symbol) {
        Ok(name) => format!("{name:#}"),
        Err(_) => match truncated_legacy(symbol) {
            Some(name) => name,
            None => return frame.to_owned(),
        },
    };
    // `;` separates frames: keep it out of names such as `[u8; 4]`.
    format!("{prefix}::{name}").replace(';', ",")
}

/// A legacy-mangled symbol cut short (the compiled component's symbol table
/// keeps about a hundred bytes of a name): its path segments as far as they
/// go, escapes decoded, then `…`.
fn truncated_legacy(symbol: &str) -> Option<String> {
    let mut rest = symbol.strip_prefix("_ZN")?;
    let mut segments = Vec::new();
    while !rest.is_empty() && !rest.starts_with('E') {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let len: usize = rest[..digits].parse().ok()?;
        let body = &rest[digits..];
        let segment = body.get(..len).unwrap_or(body);
        rest = &body[segment.len()..];
        segments.push(segment);
    }
    let escapes = [
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$RF$", "&"),
        ("$BP$", "*"),
        ("$C$", ","),
        ("$SP$", "@"),
        ("$u20$", " "),
        ("$u27$", "'"),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("$u7b$", "{"),
        ("$u7d$", "}"),
        ("..", "::"),
    ];
    let mut name = segments.join("::");
    for (from, to) in escapes {
        name = name.replace(from, to);
    }
    Some(format!("{}…", name.trim_start_matches('_')))
}

/// Total weight of `folded`, ms of CPU.
pub fn total_ms(folded: &str) -> f64 {
    lines(folded).map(|(_, w)| w).sum::<u64>() as f64 / 1e6
}

/// The `n` frames most often on top of the stack in `folded`.
pub fn top_self(folded: &str, n: usize) -> Vec<Frame> {
    let mut by_leaf: HashMap<&str, u64> = HashMap::new();
    let mut total = 0;
    for (stack, weight) in lines(folded) {
        let leaf = stack.rsplit(';').next().unwrap_or(stack);
        *by_leaf.entry(leaf).or_default() += weight;
        total += weight;
    }
    let mut frames: Vec<(&str, u64)> = by_leaf.into_iter().collect();
    frames.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    frames
        .into_iter()
        .take(n)
        .map(|(frame, weight)| Frame {
            frame: frame.to_owned(),
            cpu_ms: weight as f64 / 1e6,
            percent: weight as f64 * 100.0 / total.max(1) as f64,
        })
        .collect()
}

fn lines(folded: &str) -> impl Iterator<Item = (&str, u64)> {
    folded.lines().filter_map(|line| {
        let (stack, weight) = line.rsplit_once(' ')?;
        Some((stack, weight.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_time_counts_leaves_only() {
        let folded = "main;a;b 5000000\nmain;a 3000000\nmain;c;b 2000000\n";
        let top = top_self(folded, 2);
        assert_eq!(top[0].frame, "b");
        assert!((top[0].cpu_ms - 7.0).abs() < 1e-9);
        assert_eq!(top[1].frame, "a");
        assert!((top[0].percent - 70.0).abs() < 1e-9);
        assert!((total_ms(folded) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn wasm_symbols_are_demangled() {
        let folded = "w;wasm[0]::function[97]::_ZN13order_history7history17h2d7451ef036861cfE;\
                      wasm[0]::function[1011]::_RNvNtNtCs9pv848UzQwQ_4core3str5count14do_count_chars 7\n";
        assert_eq!(
            demangle(folded),
            "w;wasm[0]::function[97]::order_history::history;\
             wasm[0]::function[1011]::core::str::count::do_count_chars 7\n"
        );
        let cut = "wasm[0]::function[76]::_ZN100_$LT$$RF$mut$u20$serde_json..ser..Serializer$LT$W$C$F$GT$$u20$as$u20$serde_core..ser..Seri 1\n";
        assert_eq!(
            demangle(cut),
            "wasm[0]::function[76]::<&mut serde_json::ser::Serializer<W,F> as serde_core::ser::Seri… 1\n"
        );
    }
}
