//! The table every scenario fills in (scenario, figure, value, floor, ratio, goal) as Markdown,
//! and the machine and commit it was measured on.

use std::fmt::Write as _;

use crate::stats::{Summary, ratio};

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The scenario, e.g. `sync`.
    pub scenario: &'static str,
    /// What is measured, e.g. `first sync of 1000 resources: wall time`.
    pub figure: String,
    /// The unit of value and floor, e.g. `s`.
    pub unit: &'static str,
    /// The measurements.
    pub value: Summary,
    /// The floor from the same runs, and what it is.
    pub floor: Option<(Summary, String)>,
    /// The goal, as written in the issue that set it.
    pub goal: &'static str,
}

fn number(value: f64) -> String {
    if value.abs() >= 100.0 || value.fract().abs() < f64::EPSILON {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn summary(s: &Summary, unit: &str) -> String {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    if s.runs > 1 && (s.max - s.min).abs() > f64::EPSILON {
        format!("{}{unit} ({}–{})", number(s.median), number(s.min), number(s.max))
    } else {
        format!("{}{unit}", number(s.median))
    }
}

/// The Markdown table of `rows`.
#[must_use]
pub fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | figure | value (median, min–max) | floor (same run) | ratio | goal |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let (floor, ratio) = match &row.floor {
            Some((floor, what)) => (
                format!("{}: {what}", summary(floor, row.unit)),
                ratio(row.value.median, floor.median).map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x")),
            ),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {floor} | {ratio} | {} |",
            row.scenario,
            row.figure,
            summary(&row.value, row.unit),
            row.goal
        );
    }
    out
}

/// The machine: cores, memory and OS, from `/proc` and `/etc/os-release`.
#[must_use]
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        })
        .map_or_else(
            || "unknown memory".to_owned(),
            |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0),
        );
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_owned());
    format!("{cores} cores, {memory}, {os}")
}

/// The commit of the working tree (`unknown` outside a Git checkout).
#[must_use]
pub fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_show_the_median_the_spread_the_floor_and_the_ratio() {
        let rows = [
            Row {
                scenario: "sync",
                figure: "first sync: wall time".into(),
                unit: "s",
                value: Summary::of(&[1.5, 1.4, 1.6]),
                floor: Some((Summary::of(&[1.0, 1.0, 1.0]), "kubectl apply".into())),
                goal: "<= 1.5x",
            },
            Row {
                scenario: "re-sync",
                figure: "API requests".into(),
                unit: "",
                value: Summary::of(&[0.0]),
                floor: Some((Summary::of(&[0.0]), "none".into())),
                goal: "0",
            },
        ];
        let table = render(&rows);
        assert!(
            table.contains(
                "| sync | first sync: wall time | 1.50 s (1.40–1.60) | 1 s: kubectl apply | 1.50x | <= 1.5x |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| re-sync | API requests | 0 | 0: none | - | 0 |"),
            "{table}"
        );
    }
}
