//! `nbproxy -c` over the shared corpus of 90 real-world configs (issue 2): `../shared/corpus/check.sh BIN`.

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

const CHECK_SH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/check.sh");

/// Files the binary must accept. HAProxy 2.6 accepts 56 (it refuses 1.x keywords, which nbproxy must accept);
/// the lead raises this floor as the parser grows.
const ACCEPTED_FLOOR: usize = 64;

#[test]
fn corpus_acceptance_floor() {
    if !Path::new(CHECK_SH).exists() {
        eprintln!("SKIP: corpus_acceptance_floor: {CHECK_SH} not found (the shared corpus sits beside the repo)");
        return;
    }
    // A binary that accepts anything would make the figure meaningless.
    let garbage = check("this is not a configuration\n");
    assert!(garbage.code.is_some_and(|c| c != 0), "-c accepts garbage, so the corpus figure means nothing");

    let out = Command::new("bash").arg(CHECK_SH).arg(BIN).output().expect("run check.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    let summary = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("accepted "))
        .unwrap_or_else(|| panic!("no `accepted N/M` line in check.sh output"));
    let (n, all) = summary.split_once('/').expect("accepted N/M");
    let (n, all): (usize, usize) = (n.trim().parse().unwrap(), all.trim().parse().unwrap());
    eprintln!("corpus: accepted {n}/{all} (floor {ACCEPTED_FLOOR})");
    assert_eq!(all, 90, "the corpus has 90 files");
    assert!(n >= ACCEPTED_FLOOR, "only {n}/{all} corpus files accepted, floor is {ACCEPTED_FLOOR}");
}
