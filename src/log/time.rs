//! Local-time breakdown, the one calendar conversion ([`civil_from_days`]) and the date layouts nbproxy writes:
//! RFC3164 headers (`Nov  5 15:26:13`), HAProxy accept dates (`25/Nov/2026:15:26:00.636`, also the stats
//! socket's `show errors` dates), log-format dates with an offset (`25/Nov/2026:15:26:00 +0100`) and RFC5424
//! timestamps (`2026-11-25T15:26:13.347+01:00`). Every date goes through here, so none is formatted twice.
//!
//! The time zone is read once by [`init_timezone`] (called by `Logger::new`, i.e. before any chroot, while
//! `/etc/localtime` is still reachable); later conversions use the reentrant `localtime_r`.

use std::fmt::Write as _;
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

/// Abbreviated month names, January first (C locale).
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A point in time broken down in the local time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalTime {
    pub year: i32,
    /// 0..=11.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    pub hour: u8,
    pub min: u8,
    pub sec: u8,
    pub millis: u16,
    /// Offset from UTC in seconds (east positive).
    pub utc_offset: i32,
}

static TZ_INIT: Once = Once::new();

extern "C" {
    /// POSIX `tzset(3)` (not exported by the `libc` crate).
    fn tzset();
}

/// Re-reads `TZ` / `/etc/localtime` into libc's time-zone state.
pub(crate) fn reload_timezone() {
    // SAFETY: tzset takes no arguments and only (re)initialises libc's internal time-zone state; callers run
    // it from the single thread that owns the loggers (or under a `Once` in tests).
    unsafe { tzset() };
}

/// Reads the time zone (`TZ`, else `/etc/localtime`) once per process. Call before chroot.
pub fn init_timezone() {
    TZ_INIT.call_once(reload_timezone);
}

/// Whole seconds since the epoch (floor) and the milliseconds within that second.
pub(crate) fn split_epoch(t: SystemTime) -> (i64, u16) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_millis() as u16),
        Err(e) => {
            let d = e.duration();
            let ms = d.subsec_millis() as u16;
            if ms == 0 && d.subsec_nanos() == 0 {
                (-(d.as_secs() as i64), 0)
            } else {
                (-(d.as_secs() as i64) - 1, (1000 - ms.max(1)) % 1000)
            }
        }
    }
}

/// Breaks `t` down in the local time zone.
pub(crate) fn local_time(t: SystemTime) -> LocalTime {
    let (secs, millis) = split_epoch(t);
    local_time_secs(secs, millis)
}

/// Breaks `secs` (epoch seconds) down in the local time zone; falls back to UTC if libc cannot.
pub(crate) fn local_time_secs(secs: i64, millis: u16) -> LocalTime {
    let tt = secs as libc::time_t;
    // SAFETY: `libc::tm` is a plain C struct of integers (and a nullable `tm_zone` pointer); all-zero is valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call; localtime_r is reentrant and writes only
    // into `tm`.
    let r = unsafe { libc::localtime_r(&tt, &mut tm) };
    if r.is_null() {
        return utc_time_secs(secs, millis);
    }
    LocalTime {
        year: tm.tm_year + 1900,
        month: tm.tm_mon.clamp(0, 11) as u8,
        day: tm.tm_mday as u8,
        hour: tm.tm_hour as u8,
        min: tm.tm_min as u8,
        sec: tm.tm_sec as u8,
        millis,
        utc_offset: tm.tm_gmtoff as i32,
    }
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31) in the proleptic Gregorian calendar: nbproxy's one
/// calendar conversion, behind every date it writes (log lines, log-format dates, the stats socket's dates).
/// Era-based (Howard Hinnant's `civil_from_days`): exact for any `i64` day count a timestamp can produce.
pub(crate) fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u8, day as u8)
}

/// Breaks `secs` down in UTC without libc.
pub(crate) fn utc_time_secs(secs: i64, millis: u16) -> LocalTime {
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    LocalTime {
        year: year as i32,
        month: month - 1,
        day,
        hour: (rem / 3600) as u8,
        min: (rem / 60 % 60) as u8,
        sec: (rem % 60) as u8,
        millis,
        utc_offset: 0,
    }
}

/// `ms` since the epoch as HAProxy's accept date in UTC (`25/Nov/2026:16:58:48.696`).
pub(crate) fn utc_accept_date(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    utc_time_secs(secs, (ms % 1000) as u16).accept_date()
}

impl LocalTime {
    fn month_name(&self) -> &'static str {
        MONTHS[usize::from(self.month.min(11))]
    }

    /// `Nov  5 15:26:13` (day space-padded), as in RFC3164 headers.
    pub(crate) fn rfc3164(&self) -> String {
        format!("{} {:2} {:02}:{:02}:{:02}", self.month_name(), self.day, self.hour, self.min, self.sec)
    }

    /// `25/Nov/2026:15:26:00.636`, HAProxy's accept date.
    pub(crate) fn accept_date(&self) -> String {
        let mut s = String::with_capacity(24);
        self.write_accept_date(&mut s);
        s
    }

    /// Appends the accept date to `out`.
    pub(crate) fn write_accept_date(&self, out: &mut String) {
        self.write_date(out);
        let _ = write!(out, ".{:03}", self.millis);
    }

    /// Appends `25/Nov/2026:15:26:00 +0100` (the log-format `%T`/`%Tl` layout) to `out`.
    pub(crate) fn write_offset_date(&self, out: &mut String) {
        self.write_date(out);
        let (sign, h, m) = self.offset();
        let _ = write!(out, " {sign}{h:02}{m:02}");
    }

    /// `25/Nov/2026:15:26:00`, the part every HAProxy date layout starts with.
    fn write_date(&self, out: &mut String) {
        let _ = write!(
            out,
            "{:02}/{}/{:04}:{:02}:{:02}:{:02}",
            self.day,
            self.month_name(),
            self.year,
            self.hour,
            self.min,
            self.sec
        );
    }

    /// The UTC offset as a sign, hours and minutes.
    fn offset(&self) -> (char, u32, u32) {
        let sign = if self.utc_offset < 0 { '-' } else { '+' };
        let off = self.utc_offset.unsigned_abs();
        (sign, off / 3600, off / 60 % 60)
    }

    /// `2026-11-25T15:26:13.347+01:00`, the RFC5424 timestamp.
    pub(crate) fn rfc5424(&self) -> String {
        let (sign, oh, om) = self.offset();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{sign}{oh:02}:{om:02}",
            self.year,
            self.month + 1,
            self.day,
            self.hour,
            self.min,
            self.sec,
            self.millis,
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::Duration;

    static UTC: Once = Once::new();

    /// Forces the process time zone to UTC so that local-time strings are predictable in tests.
    pub(crate) fn force_utc() {
        UTC.call_once(|| {
            std::env::set_var("TZ", "UTC");
            reload_timezone();
        });
    }

    /// 2026-11-25 15:26:00.636 UTC.
    pub(crate) fn sample_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_795_620_360_636)
    }

    #[test]
    fn civil_conversion_matches_known_dates() {
        let t = utc_time_secs(1_795_620_360, 636);
        assert_eq!(t.accept_date(), "25/Nov/2026:15:26:00.636");
        assert_eq!(utc_time_secs(0, 0).rfc5424(), "1970-01-01T00:00:00.000+00:00");
        assert_eq!(utc_time_secs(951_782_400, 0).rfc3164(), "Feb 29 00:00:00");
        assert_eq!(utc_time_secs(-1, 0).accept_date(), "31/Dec/1969:23:59:59.000");
    }

    #[test]
    fn civil_from_days_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1), "the epoch");
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(59), (1970, 3, 1), "1970 is not a leap year");
        assert_eq!(civil_from_days(10_956), (1999, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29), "2000 is a leap year (divisible by 400)");
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(-25_508), (1900, 3, 1), "1900 is not (divisible by 100)");
        assert_eq!(civil_from_days(-25_509), (1900, 2, 28));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(24_855), (2038, 1, 19), "the day i32 seconds run out");
        assert_eq!(civil_from_days(24_856), (2038, 1, 20));
        assert_eq!(civil_from_days(47_540), (2100, 2, 28));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1), "2100 is not a leap year");
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
    }

    #[test]
    fn civil_from_days_walks_the_calendar_day_by_day() {
        // From 1600-01-01 to 2500-12-31, each day follows the previous one by the calendar's rules.
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let len = |y: i64, m: u8| match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let mut prev = civil_from_days(-135_140);
        assert_eq!(prev, (1600, 1, 1));
        for days in -135_139..=193_943 {
            let (y, m, d) = civil_from_days(days);
            let (py, pm, pd) = prev;
            let expected = if pd < len(py, pm) {
                (py, pm, pd + 1)
            } else if pm < 12 {
                (py, pm + 1, 1)
            } else {
                (py + 1, 1, 1)
            };
            assert_eq!((y, m, d), expected, "day {days}");
            prev = (y, m, d);
        }
        assert_eq!(prev, (2500, 12, 31));
    }

    #[test]
    fn every_layout_uses_the_one_conversion() {
        // 2038-01-19 03:14:08.250 UTC, one second past i32 time.
        let ms = 2_147_483_648_250u64;
        assert_eq!(utc_accept_date(ms), "19/Jan/2038:03:14:08.250");
        let t = utc_time_secs(2_147_483_648, 250);
        let mut s = String::new();
        t.write_offset_date(&mut s);
        assert_eq!(s, "19/Jan/2038:03:14:08 +0000");
        assert_eq!(t.rfc3164(), "Jan 19 03:14:08");
        assert_eq!(t.rfc5424(), "2038-01-19T03:14:08.250+00:00");
        assert_eq!(utc_accept_date(951_782_400_000), "29/Feb/2000:00:00:00.000");
        assert_eq!(utc_accept_date(0), "01/Jan/1970:00:00:00.000");
        assert_eq!(utc_accept_date(4_102_444_799_999), "31/Dec/2099:23:59:59.999");
    }

    #[test]
    fn local_time_in_utc_matches_civil() {
        force_utc();
        for secs in [0i64, 951_782_400, 1_795_620_360, 1_700_000_000] {
            assert_eq!(local_time_secs(secs, 5), utc_time_secs(secs, 5));
        }
        let t = local_time(sample_time());
        assert_eq!(t.accept_date(), "25/Nov/2026:15:26:00.636");
        assert_eq!(t.rfc3164(), "Nov 25 15:26:00");
        assert_eq!(t.rfc5424(), "2026-11-25T15:26:00.636+00:00");
    }

    #[test]
    fn day_is_space_padded_and_offset_signed() {
        let mut t = utc_time_secs(1_793_891_173, 347); // 2026-11-05
        assert_eq!(t.rfc3164(), "Nov  5 15:06:13");
        t.utc_offset = -(5 * 3600 + 30 * 60);
        assert!(t.rfc5424().ends_with(".347-05:30"), "{}", t.rfc5424());
        t.utc_offset = 3600;
        assert!(t.rfc5424().ends_with("+01:00"));
    }

    #[test]
    fn pre_epoch_split() {
        let t = UNIX_EPOCH - Duration::from_millis(1);
        assert_eq!(split_epoch(t), (-1, 999));
        assert_eq!(split_epoch(UNIX_EPOCH - Duration::from_secs(2)), (-2, 0));
    }
}
