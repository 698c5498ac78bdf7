//! Command-line options.

use std::time::Duration;

use clap::Parser;

/// Direct vs Envoy vs wasmesh (without and with the `headers` filter), one worker each, under
/// `wrk -t1`; medians over interleaved rounds.
#[derive(Parser, Debug)]
#[command(version)]
pub struct Args {
    /// How long each measurement runs (whole seconds: `10s`, `1m`).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// How many rounds; each round measures every target once.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// wrk connections (`-c`); wrk always runs one thread (`-t1`).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub connections: u32,
    /// Load sent to a target right before each measurement, and thrown away: it fills
    /// connection pools, JIT and allocator caches so the measurement sees the steady state.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub warmup: Duration,
}

/// `10s`, `1m` or a bare number of seconds: whole seconds, because that is what wrk's `-d` takes.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected whole seconds or minutes, such as 10s or 1m"))?;
    let seconds = match unit {
        "s" => value,
        "m" => value * 60,
        other => return Err(format!("{text:?}: unknown unit {other:?} (s or m)")),
    };
    if seconds == 0 {
        return Err(format!("{text:?}: must be at least 1s"));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("500ms").is_err());
        assert!(parse_duration("1.5s").is_err());
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
