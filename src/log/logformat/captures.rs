//! `capture request header`, `capture response header` and `capture cookie`: what a proxy declared, and the
//! values taken from parsed headers for `{a|b}` and `%CC`/`%CS`.

use crate::config::model::{Capture, CaptureKind};

/// One declared header capture.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HeaderCapture {
    name: String,
    len: usize,
}

/// A proxy's `capture request header`, `capture response header` and `capture cookie` declarations, ready to
/// extract values from parsed headers. The strings produced are what `option httplog` prints inside `{a|b}`
/// and for `%CC`/`%CS` (raw values; escaping happens when the line is rendered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captures {
    request: Vec<HeaderCapture>,
    response: Vec<HeaderCapture>,
    /// `capture cookie NAME len N`: NAME is a prefix of the cookie name (`NAME=` for an exact match).
    cookie: Option<HeaderCapture>,
}

impl Captures {
    /// Builds the capture set from a proxy's list, keeping declaration order. Only one cookie capture is
    /// allowed by HAProxy; the first is kept.
    pub fn new(list: &[Capture]) -> Captures {
        let mut c = Captures::default();
        for cap in list {
            let h = HeaderCapture { name: cap.name.clone(), len: cap.len };
            match cap.kind {
                CaptureKind::RequestHeader => c.request.push(h),
                CaptureKind::ResponseHeader => c.response.push(h),
                CaptureKind::Cookie => {
                    if c.cookie.is_none() {
                        c.cookie = Some(h);
                    }
                }
            }
        }
        c
    }

    /// True if nothing is captured at all.
    pub fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty() && self.cookie.is_none()
    }

    /// Number of `capture request header` slots.
    pub fn request_slots(&self) -> usize {
        self.request.len()
    }

    /// Number of `capture response header` slots.
    pub fn response_slots(&self) -> usize {
        self.response.len()
    }

    /// True if a `capture cookie` is declared.
    pub fn has_cookie(&self) -> bool {
        self.cookie.is_some()
    }

    /// Fills `out` with one slot per `capture request header`, in declaration order: the value of the last
    /// occurrence of the header (names compared case-insensitively, value trimmed), truncated to `len`
    /// bytes; an empty string when absent. The strings in `out` are reused.
    pub fn capture_request<'h>(&self, headers: impl Iterator<Item = (&'h [u8], &'h [u8])>, out: &mut Vec<String>) {
        capture_headers(&self.request, headers, out);
    }

    /// Same as [`Captures::capture_request`] for `capture response header`.
    pub fn capture_response<'h>(&self, headers: impl Iterator<Item = (&'h [u8], &'h [u8])>, out: &mut Vec<String>) {
        capture_headers(&self.response, headers, out);
    }

    /// `%CC`: the first cookie of the `Cookie:` headers whose name starts with the captured name, as
    /// `NAME=value` truncated to `len` bytes; `None` if absent or no cookie capture is declared.
    pub fn capture_cookie_req<'h>(&self, headers: impl Iterator<Item = (&'h [u8], &'h [u8])>) -> Option<String> {
        let cap = self.cookie.as_ref()?;
        for (name, value) in headers {
            if !name.eq_ignore_ascii_case(b"cookie") {
                continue;
            }
            for pair in value.split(|&c| c == b';') {
                let pair = pair.trim_ascii();
                if !pair.is_empty() && pair.starts_with(cap.name.as_bytes()) {
                    return Some(truncated(pair, cap.len));
                }
            }
        }
        None
    }

    /// `%CS`: the first `Set-Cookie:` header whose cookie (its first `name=value` pair) starts with the
    /// captured name, as `NAME=value` truncated to `len` bytes.
    pub fn capture_cookie_res<'h>(&self, headers: impl Iterator<Item = (&'h [u8], &'h [u8])>) -> Option<String> {
        let cap = self.cookie.as_ref()?;
        for (name, value) in headers {
            if !name.eq_ignore_ascii_case(b"set-cookie") {
                continue;
            }
            let pair = value.split(|&c| c == b';').next().unwrap_or_default().trim_ascii();
            if !pair.is_empty() && pair.starts_with(cap.name.as_bytes()) {
                return Some(truncated(pair, cap.len));
            }
        }
        None
    }
}

/// The first `len` bytes of `v` as a string (invalid UTF-8 replaced).
fn truncated(v: &[u8], len: usize) -> String {
    String::from_utf8_lossy(&v[..v.len().min(len)]).into_owned()
}

fn capture_headers<'h>(
    caps: &[HeaderCapture],
    headers: impl Iterator<Item = (&'h [u8], &'h [u8])>,
    out: &mut Vec<String>,
) {
    out.truncate(caps.len());
    out.iter_mut().for_each(String::clear);
    out.resize_with(caps.len(), String::new);
    if caps.is_empty() {
        return;
    }
    for (name, value) in headers {
        for (slot, cap) in out.iter_mut().zip(caps) {
            if name.eq_ignore_ascii_case(cap.name.as_bytes()) {
                let value = value.trim_ascii();
                slot.clear();
                slot.push_str(&String::from_utf8_lossy(&value[..value.len().min(cap.len)]));
            }
        }
    }
}
