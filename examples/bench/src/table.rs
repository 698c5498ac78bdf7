//! Formatting figures for the printed tables, the same way in every mode: `median (min–max)`,
//! thousands grouped as the project writes its figures.

use std::time::Duration;

use crate::stats::Summary;

/// `median (min–max)` of one figure over some samples; `—` when none has it.
pub fn column<S>(samples: &[S], figure: impl Fn(&S) -> Option<f64>, decimals: usize) -> String {
    match Summary::of(samples.iter().filter_map(figure)) {
        Some(s) if decimals == 0 => format!(
            "{} ({}–{})",
            thousands(s.median),
            thousands(s.min),
            thousands(s.max)
        ),
        Some(s) => format!(
            "{:.d$} ({:.d$}–{:.d$})",
            s.median,
            s.min,
            s.max,
            d = decimals
        ),
        None => "—".into(),
    }
}

/// `23600.4` → `23 600`: the grouping the project writes figures in.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

/// `10s`, as wrk's `-d` has it.
pub fn secs(duration: Duration) -> String {
    format!("{}s", duration.as_secs())
}

/// Milliseconds, for progress lines and tables.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(23_600.4), "23 600");
        assert_eq!(thousands(1_359_000.0), "1 359 000");
    }

    #[test]
    fn median_and_range_columns() {
        let samples = [Some(2.0), None, Some(1.0), Some(4.0)];
        assert_eq!(column(&samples, |s| *s, 1), "2.0 (1.0–4.0)");
        assert_eq!(column(&samples, |_| None, 1), "—");
        assert_eq!(
            column(&[12_345.0], |s| Some(*s), 0),
            "12 345 (12 345–12 345)"
        );
    }
}
