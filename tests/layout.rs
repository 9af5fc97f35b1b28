//! The shape of the source tree, checked: no source file over 800 lines of code (tests apart), no import cycle
//! between the crate's top-level modules, and `src/lib.rs`'s map names every one of them.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file made only of tests (`tests.rs`, `tests/…`, test vectors).
fn is_test_file(rel: &str) -> bool {
    rel.ends_with("/tests.rs")
        || rel.contains("/tests/")
        || rel.ends_with("/vectors.rs")
        || rel.ends_with("testhead.rs")
}

/// The lines of a file before its `#[cfg(test)]` module, if any.
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().take_while(|l| !l.starts_with("#[cfg(test)]"))
}

/// The top-level module a file belongs to (`stream` for `src/stream/queue.rs`, `tcp` for `src/tcp.rs`).
fn top_module(rel: &str) -> String {
    rel.split('/').next().unwrap_or(rel).trim_end_matches(".rs").to_string()
}

fn files() -> Vec<(String, String)> {
    let root = src();
    let mut paths = Vec::new();
    rust_files(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).expect("below src").to_string_lossy().replace('\\', "/");
            let text = fs::read_to_string(&p).expect("read source");
            (rel, text)
        })
        .collect()
}

#[test]
fn no_source_file_is_over_800_lines_of_code() {
    let long: Vec<String> = files()
        .into_iter()
        .filter(|(rel, _)| !is_test_file(rel))
        .filter_map(|(rel, text)| {
            let n = code_lines(&text).count();
            (n > 800).then(|| format!("{rel}: {n} lines"))
        })
        .collect();
    assert!(long.is_empty(), "split these by concept:\n{}", long.join("\n"));
}

/// Top-level module → the top-level modules its code (comments and tests apart) names through `crate::`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in files() {
        let top = top_module(&rel);
        if top == "main" || top == "lib" || is_test_file(&rel) {
            continue;
        }
        let deps = graph.entry(top.clone()).or_default();
        for line in code_lines(&text) {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let mut rest = code;
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() && name != top {
                    deps.insert(name);
                }
            }
        }
    }
    graph
}

/// A cycle through `start`, if any (depth-first search).
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(node).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, next, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    walk(graph, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = module_graph();
    assert!(graph.contains_key("worker") && graph["worker"].contains("stream"), "the graph was read: {graph:?}");
    let cycles: Vec<String> = graph.keys().filter_map(|m| cycle_from(&graph, m)).map(|c| c.join(" -> ")).collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn layers_do_not_reach_back_up() {
    let graph = module_graph();
    // The protocol, the proxy logic and the transport know nothing of the worker or the master.
    for lower in ["http", "rules", "stream", "transport", "tcp", "acl", "balance", "check", "config", "plan"] {
        for upper in ["worker", "master"] {
            assert!(
                !graph.get(lower).is_some_and(|d| d.contains(upper)),
                "{lower} reaches up into {upper}: {:?}",
                graph.get(lower)
            );
        }
    }
    assert!(!graph["worker"].contains("master"), "the worker reaches into the master: {:?}", graph["worker"]);
}

#[test]
fn the_crate_map_names_every_module() {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("lib.rs");
    let (docs, decls): (Vec<&str>, Vec<&str>) = lib.lines().partition(|l| l.starts_with("//!"));
    let docs = docs.join("\n");
    let modules: Vec<&str> =
        decls.iter().filter_map(|l| l.strip_prefix("pub mod ").and_then(|m| m.strip_suffix(';'))).collect();
    assert!(modules.len() > 10, "modules read from lib.rs: {modules:?}");
    let missing: Vec<&&str> = modules.iter().filter(|m| !docs.contains(&format!("[`{m}`]"))).collect();
    assert!(missing.is_empty(), "src/lib.rs's map does not name {missing:?}");
}
