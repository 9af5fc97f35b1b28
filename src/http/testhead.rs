//! Test helper: build [`RequestHead`]/[`ResponseHead`] values by hand from a literal message (no parser: the
//! real one lives elsewhere; this only computes ranges for well-formed test input).

use super::head::{HeaderIdx, RequestHead, ResponseHead, Version};

fn lines(buf: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(p) = buf[start..].iter().position(|&c| c == b'\n') {
        out.push(start..start + p + 1);
        start += p + 1;
        if buf[out.last().expect("line").clone()].starts_with(b"\r\n") {
            break;
        }
    }
    out
}

fn header_of(buf: &[u8], line: std::ops::Range<usize>) -> HeaderIdx {
    let text = &buf[line.clone()];
    let colon = text.iter().position(|&c| c == b':').expect("colon");
    let mut vs = line.start + colon + 1;
    while buf[vs] == b' ' || buf[vs] == b'\t' {
        vs += 1;
    }
    let mut ve = line.end;
    while ve > vs && buf[ve - 1].is_ascii_whitespace() {
        ve -= 1;
    }
    HeaderIdx { name: line.start..line.start + colon, value: vs..ve, line }
}

fn version(v: &[u8]) -> Version {
    if v == b"HTTP/1.0" {
        Version::Http10
    } else {
        Version::Http11
    }
}

/// A request buffer and its head from `text` (`\n` line ends become `\r\n`).
pub(crate) fn req(text: &str) -> (Vec<u8>, RequestHead) {
    let buf = text.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes();
    let ls = lines(&buf);
    let first = &buf[ls[0].clone()];
    let sp1 = first.iter().position(|&c| c == b' ').expect("sp1");
    let sp2 = sp1 + 1 + first[sp1 + 1..].iter().position(|&c| c == b' ').expect("sp2");
    let ver = &first[sp2 + 1..first.len() - 2];
    let headers = ls[1..ls.len() - 1].iter().map(|l| header_of(&buf, l.clone())).collect();
    let len = ls.last().expect("end").end;
    let head =
        RequestHead { method: 0..sp1, uri: sp1 + 1..sp2, version: version(ver), headers, len, ..Default::default() };
    (buf, head)
}

/// A response buffer and its head from `text`.
pub(crate) fn res(text: &str) -> (Vec<u8>, ResponseHead) {
    let buf = text.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes();
    let ls = lines(&buf);
    let first = &buf[ls[0].clone()];
    let sp1 = first.iter().position(|&c| c == b' ').expect("sp1");
    let status = std::str::from_utf8(&first[sp1 + 1..sp1 + 4]).expect("utf8").parse().expect("status");
    let headers = ls[1..ls.len() - 1].iter().map(|l| header_of(&buf, l.clone())).collect();
    let len = ls.last().expect("end").end;
    let head = ResponseHead {
        version: version(&first[..sp1]),
        status,
        reason: sp1 + 5..first.len() - 2,
        headers,
        len,
        ..Default::default()
    };
    (buf, head)
}

/// The first proxy of a config text (errors fail the test).
pub(crate) fn proxy(text: &str) -> crate::config::model::Proxy {
    config(text).proxies.into_iter().next().expect("a proxy")
}

/// A whole config from its text (errors fail the test).
pub(crate) fn config(text: &str) -> crate::config::model::Config {
    use crate::config::{grammar, preprocess, resolve, DiagLevel};
    let env = |_: &str| None;
    let lines = grammar::tokenize(&"test.cfg".into(), text, &env).expect("tokenize");
    let mut diags = Vec::new();
    let lines = preprocess::preprocess(lines, &mut diags, &env);
    let cfg = resolve::resolve(lines, &mut diags);
    let errs: Vec<String> =
        diags.iter().filter(|d| matches!(d.level, DiagLevel::Alert)).map(|d| d.to_string()).collect();
    assert!(errs.is_empty(), "config errors: {errs:?}");
    cfg
}
