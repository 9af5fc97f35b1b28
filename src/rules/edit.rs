//! Recording header changes into [`HeadEdits`], and regex replacement with `\0`–`\9` back-references.
//!
//! Rules compute their changes against a read-only view (which already includes earlier edits) into a few
//! [`Op`]s, then [`apply`] records them, so a rule never reads and writes the edits at the same time.

use regex::bytes::{Captures, Regex};

use crate::acl::view::Slot;
use crate::http::head::HeadEdits;

/// One change to a head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Append a header after the existing ones.
    Add(Vec<u8>, Vec<u8>),
    /// Remove a header.
    Delete(Slot),
    /// Give a header a new value.
    Replace(Slot, Vec<u8>),
    /// Replace the request or status line (without CR LF).
    StartLine(Vec<u8>),
}

/// Record `ops` in `edits`: replacements and start line first, then deletions, then additions.
pub fn apply(ops: Vec<Op>, edits: &mut HeadEdits) {
    let mut added_gone = Vec::new();
    let mut adds = Vec::new();
    for op in ops {
        match op {
            Op::StartLine(l) => edits.start_line = Some(l),
            Op::Replace(Slot::Orig(i), v) => match edits.replaced.iter_mut().find(|(j, _)| *j == i) {
                Some(e) => e.1 = v,
                None => edits.replaced.push((i, v)),
            },
            Op::Replace(Slot::Added(i), v) => {
                if let Some(a) = edits.added.get_mut(i) {
                    a.1 = v;
                }
            }
            Op::Delete(Slot::Orig(i)) => {
                edits.replaced.retain(|(j, _)| *j != i);
                if !edits.deleted.contains(&i) {
                    edits.deleted.push(i);
                }
            }
            Op::Delete(Slot::Added(i)) => added_gone.push(i),
            Op::Add(n, v) => adds.push((n, v)),
        }
    }
    added_gone.sort_unstable();
    added_gone.dedup();
    for i in added_gone.into_iter().rev() {
        if i < edits.added.len() {
            edits.added.remove(i);
        }
    }
    edits.added.extend(adds);
}

/// Append `repl` to `out` with `\N` replaced by capture group N (empty if it did not participate) and `\c`
/// by `c`.
pub fn expand(repl: &[u8], caps: &Captures<'_>, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < repl.len() {
        let c = repl[i];
        if c == b'\\' && i + 1 < repl.len() {
            let n = repl[i + 1];
            if n.is_ascii_digit() {
                if let Some(m) = caps.get((n - b'0') as usize) {
                    out.extend_from_slice(m.as_bytes());
                }
            } else {
                out.push(n);
            }
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
}

/// If `re` matches `text`, the whole of `text` replaced by the expansion of `repl` (HAProxy replaces the whole
/// line or value, not only the matched part).
pub fn replace_whole(re: &Regex, text: &[u8], repl: &[u8]) -> Option<Vec<u8>> {
    let caps = re.captures(text)?;
    let mut out = Vec::with_capacity(repl.len() + text.len());
    expand(repl, &caps, &mut out);
    Some(out)
}

/// Split a header line `Name: value` into (name, value) (value without leading blanks); `None` without colon.
pub fn split_line(line: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let colon = line.iter().position(|&c| c == b':')?;
    let v = &line[colon + 1..];
    let s = v.iter().position(|c| *c != b' ' && *c != b'\t').unwrap_or(v.len());
    Some((line[..colon].to_vec(), v[s..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_keep_indexes_consistent() {
        let mut e = HeadEdits::default();
        e.added.push((b"A".to_vec(), b"1".to_vec()));
        e.added.push((b"B".to_vec(), b"2".to_vec()));
        e.added.push((b"C".to_vec(), b"3".to_vec()));
        apply(
            vec![
                Op::Delete(Slot::Added(0)),
                Op::Delete(Slot::Added(2)),
                Op::Replace(Slot::Added(1), b"x".to_vec()),
                Op::Replace(Slot::Orig(3), b"y".to_vec()),
                Op::Add(b"D".to_vec(), b"4".to_vec()),
            ],
            &mut e,
        );
        assert_eq!(e.added, vec![(b"B".to_vec(), b"x".to_vec()), (b"D".to_vec(), b"4".to_vec())]);
        assert_eq!(e.replaced, vec![(3, b"y".to_vec())]);
        apply(vec![Op::Delete(Slot::Orig(3)), Op::Delete(Slot::Orig(3))], &mut e);
        assert_eq!(e.deleted, vec![3]);
        assert!(e.replaced.is_empty());
    }

    #[test]
    fn backrefs_expand() {
        let re = Regex::new(r"^([^ ]*) /static/(.*)").expect("re");
        assert_eq!(replace_whole(&re, b"GET /static/a.png HTTP/1.1", br"\1 /\2").expect("m"), b"GET /a.png HTTP/1.1");
        assert_eq!(replace_whole(&re, b"GET /x HTTP/1.1", br"\1"), None);
        let re = Regex::new(r"curl").expect("re");
        assert_eq!(replace_whole(&re, b"curl/7.47.0", b"foo").expect("m"), b"foo", "whole value replaced");
        assert_eq!(split_line(b"Host:   a.b").expect("split"), (b"Host".to_vec(), b"a.b".to_vec()));
        assert_eq!(split_line(b"nocolon"), None);
    }
}
