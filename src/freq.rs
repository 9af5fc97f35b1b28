//! HAProxy's frequency counter ("freq_ctr") arithmetic, written once for every rate nbproxy reports.
//!
//! A rate over a period is the count of events in the current period plus the previous period's count weighted
//! by the part of the current period not yet elapsed (`freq_ctr.c`, `read_freq_ctr_period`): a steady flow of N
//! events per period reads about N at any instant, with two counts and a period start as the only state. The
//! stats segment's per-second rates ([`crate::stats::shm::FreqCtr`], atomics in shared memory) and the stick
//! tables' rates over a configured period (`conn_rate(P)`, …) keep their own storage and call the two pure
//! functions here: [`rotate`] (the one rule for moving to a new period) and [`rate`].

/// A counter's state: where its current period began (ms) and the counts of that period and of the one before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Start of the current period, in ms on the caller's clock.
    pub start: u64,
    /// Events of the previous period.
    pub prev: u64,
    /// Events of the current period.
    pub cur: u64,
}

/// The window as seen at `now` for periods of `period` ms (0 counts as 1): the period `now` falls in becomes the
/// current one. One whole period gone by moves `cur` to `prev`; two or more leave both empty; periods stay
/// aligned on `start`. A `now` before `start` (a clock stepped back) empties both and starts a period at `now`,
/// as HAProxy's unsigned tick arithmetic does.
pub fn rotate(w: Window, now: u64, period: u64) -> Window {
    let period = period.max(1);
    let Some(elapsed) = now.checked_sub(w.start) else {
        return Window { start: now, prev: 0, cur: 0 };
    };
    match elapsed / period {
        0 => w,
        1 => Window { start: w.start + period, prev: w.cur, cur: 0 },
        n => Window { start: w.start.saturating_add(n.saturating_mul(period)), prev: 0, cur: 0 },
    }
}

/// The rate at `now` over `period` ms: the current count plus the previous one weighted by the part of the
/// current period not yet elapsed, rounded up (so a single past event still shows until its weight is 0).
pub fn rate(w: Window, now: u64, period: u64) -> u64 {
    let period = period.max(1);
    let w = rotate(w, now, period);
    let remain = period - now.saturating_sub(w.start).min(period);
    let past = (u128::from(w.prev) * u128::from(remain)).div_ceil(u128::from(period));
    w.cur.saturating_add(u64::try_from(past).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: u64, prev: u64, cur: u64) -> Window {
        Window { start, prev, cur }
    }

    #[test]
    fn rotation_keeps_one_previous_period() {
        assert_eq!(rotate(w(1000, 3, 7), 1999, 1000), w(1000, 3, 7), "same period");
        assert_eq!(rotate(w(1000, 3, 7), 2000, 1000), w(2000, 7, 0), "next period");
        assert_eq!(rotate(w(1000, 3, 7), 2999, 1000), w(2000, 7, 0));
        assert_eq!(rotate(w(1000, 3, 7), 3000, 1000), w(3000, 0, 0), "two periods: nothing left");
        assert_eq!(rotate(w(1000, 3, 7), 10_500, 1000), w(10_000, 0, 0), "aligned on the start");
        assert_eq!(rotate(w(1250, 3, 7), 2300, 1000), w(2250, 7, 0), "aligned on an unaligned start");
    }

    #[test]
    fn a_clock_stepped_back_starts_over() {
        assert_eq!(rotate(w(5000, 3, 7), 4000, 1000), w(4000, 0, 0));
        assert_eq!(rate(w(5000, 3, 7), 4000, 1000), 0);
    }

    #[test]
    fn rate_weights_the_previous_period_by_what_remains() {
        assert_eq!(rate(w(1000, 10, 0), 1000, 1000), 10, "whole weight at the start");
        assert_eq!(rate(w(1000, 10, 2), 1500, 1000), 2 + 5);
        assert_eq!(rate(w(1000, 10, 2), 1900, 1000), 2 + 1);
        assert_eq!(rate(w(1000, 10, 2), 1999, 1000), 2 + 1, "rounded up");
        assert_eq!(rate(w(1000, 10, 2), 2500, 1000), 1, "the current period became the previous one");
        assert_eq!(rate(w(1000, 10, 2), 3000, 1000), 0);
    }

    #[test]
    fn the_stats_and_stick_counters_read_alike() {
        // Both store their window their own way but rotate and weigh it here: with one-second periods that start
        // on a whole second, they give the same rates.
        let shm = crate::stats::shm::FreqCtr::default();
        let mut stick = crate::stick::FreqCtr::default();
        for now in [10_000, 10_100, 10_900, 11_200, 11_250, 13_000, 13_999, 14_000] {
            shm.inc(now);
            stick.add(now, 1000, 1);
            for at in [now, now + 300, now + 1100, now + 2500] {
                assert_eq!(shm.read(at), u64::from(stick.read(at, 1000)), "event at {now}, read at {at}");
            }
        }
    }

    #[test]
    fn odd_periods_and_large_counts() {
        assert_eq!(rate(w(0, 4, 1), 0, 0), 1 + 4, "a zero period counts as 1 ms");
        assert_eq!(rate(w(0, 4, 1), 1, 0), 1, "one 1 ms period later, the current count is the previous one");
        assert_eq!(rate(w(0, u64::MAX, 0), 0, 60_000), u64::MAX, "no overflow");
        assert_eq!(rate(w(0, u64::MAX, u64::MAX), 1, 60_000), u64::MAX, "saturates");
        assert_eq!(rotate(w(u64::MAX - 10, 1, 1), u64::MAX, 3), w(u64::MAX - 1, 0, 0));
    }
}
