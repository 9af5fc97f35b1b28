//! `userlist` passwords: `insecure-password` compared as text, `password` as a crypt(3) hash (`$6$…` SHA-512,
//! `$5$…` SHA-256, `$2b$…` bcrypt, `$y$…` yescrypt, `$1$…` MD5, DES — whatever the system's libcrypt knows),
//! as HAProxy does with `USE_LIBCRYPT`; and the base64 decoding `Authorization: Basic` credentials need.
//!
//! Verification calls crypt(3) on every check, as HAProxy does: a strong hash costs milliseconds per request, so
//! a userlist on a busy path should use a cheap method (HAProxy's documentation gives the same advice).

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};

/// Standard base64 (RFC 4648) decoding, padding optional; `None` on any invalid character.
pub fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let s: Vec<u8> = s.iter().copied().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    Some(out)
}

/// `sizeof(struct crypt_data)` in libxcrypt.
const CRYPT_DATA_SIZE: usize = 32768;

#[link(name = "crypt")]
extern "C" {
    /// crypt_rn(3) from libxcrypt (Debian's libcrypt): the reentrant crypt, working in a caller's buffer (plain
    /// crypt(3) shares one static buffer, which threads — the test harness's — would race on). NULL on failure.
    fn crypt_rn(phrase: *const c_char, setting: *const c_char, data: *mut c_void, size: c_int) -> *mut c_char;
}

/// Hash `phrase` with the method and salt that `setting` (a full hash) names; `None` if libcrypt refuses it
/// (unknown method, malformed setting, a NUL byte in either).
pub fn crypt_hash(phrase: &str, setting: &str) -> Option<String> {
    let phrase = CString::new(phrase).ok()?;
    let setting = CString::new(setting).ok()?;
    // Zeroed, as crypt_rn wants its work area the first time it sees it.
    let mut data = vec![0u8; CRYPT_DATA_SIZE];
    // SAFETY: both strings are valid and NUL-terminated for the call; `data` is a writable area of the size we
    // pass; the result is NULL or a NUL-terminated string inside `data`, copied out while `data` is alive.
    let out = unsafe {
        let p = crypt_rn(phrase.as_ptr(), setting.as_ptr(), data.as_mut_ptr().cast(), CRYPT_DATA_SIZE as c_int);
        if p.is_null() {
            return None;
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    };
    // libxcrypt's failure tokens start with '*' (no valid hash does).
    if out.is_empty() || out.starts_with('*') {
        return None;
    }
    Some(out)
}

/// Whether libcrypt can verify passwords against `hash` (used by `-c` to warn about hashes that never match).
pub fn hash_supported(hash: &str) -> bool {
    crypt_hash("", hash).is_some()
}

/// Whether `given` is the password of a `user` entry: `insecure` compares the text, otherwise `stored` is a crypt(3)
/// hash. Comparisons take the same time whatever the position of the first difference.
pub fn password_matches(given: &str, stored: &str, insecure: bool) -> bool {
    if insecure {
        return same(given.as_bytes(), stored.as_bytes());
    }
    match crypt_hash(given, stored) {
        Some(h) => same(h.as_bytes(), stored.as_bytes()),
        None => false,
    }
}

/// Constant-time equality (for equal lengths; a length difference is not a secret worth hiding).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha512_and_md5_hashes_verify() {
        // Made with `openssl passwd -6 -salt saltsalt secret` and `openssl passwd -1 -salt abcdefgh secret`.
        let sha512 =
            "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
        let md5 = "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1";
        for h in [sha512, md5] {
            assert!(hash_supported(h), "{h}");
            assert!(password_matches("secret", h, false), "{h}");
            assert!(!password_matches("Secret", h, false), "{h}");
            assert!(!password_matches("", h, false), "{h}");
        }
    }

    #[test]
    fn insecure_passwords_compare_as_text() {
        assert!(password_matches("pw", "pw", true));
        assert!(!password_matches("pw", "pW", true));
        assert!(!password_matches("pw", "pw2", true));
        // An insecure password that looks like a hash is still text.
        assert!(!password_matches("secret", "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1", true));
    }

    #[test]
    fn unknown_methods_and_garbage_never_match() {
        assert!(!hash_supported("$9$nope$nope"));
        assert!(!password_matches("secret", "$9$nope$nope", false));
        assert!(!password_matches("a\0b", "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1", false));
        assert!(!password_matches("secret", "", false));
    }
}
