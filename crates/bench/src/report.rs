//! What a scenario measured: named figures, latency percentiles from an HDR histogram,
//! printed as a table for people or as JSON for scripts.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Microsecond latencies from 1 µs to 10 minutes, three significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Histograms filled by many tasks: each records locally and merges once at the end.
#[derive(Default)]
pub struct SharedHistogram(Mutex<Option<Histogram<u64>>>);

impl SharedHistogram {
    pub fn merge(&self, local: &Histogram<u64>) {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        guard.get_or_insert_with(histogram).add(local).expect("same bounds");
    }

    pub fn take(&self) -> Histogram<u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_else(histogram)
    }
}

pub fn record(histogram: &mut Histogram<u64>, elapsed: Duration) {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX).max(1);
    histogram.saturating_record(micros);
}

#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub name: String,
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn from_histogram(name: &str, histogram: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            name: name.to_string(),
            count: histogram.len(),
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            p999_ms: ms(histogram.value_at_quantile(0.999)),
            max_ms: ms(histogram.max()),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    /// The knobs the scenario ran with.
    pub parameters: serde_json::Value,
    pub figures: Vec<Figure>,
    pub latencies: Vec<Latency>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(scenario: &str, parameters: impl Serialize) -> Self {
        Self {
            scenario: scenario.to_string(),
            parameters: serde_json::to_value(parameters).unwrap_or_default(),
            figures: Vec::new(),
            latencies: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn figure(&mut self, name: &str, value: f64, unit: &str) -> &mut Self {
        self.figures.push(Figure { name: name.to_string(), value, unit: unit.to_string() });
        self
    }

    pub fn latency(&mut self, name: &str, histogram: &Histogram<u64>) -> &mut Self {
        self.latencies.push(Latency::from_histogram(name, histogram));
        self
    }

    pub fn note(&mut self, note: impl Into<String>) -> &mut Self {
        self.notes.push(note.into());
        self
    }

    /// A figure by name, for tests and callers that check results.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.figures.iter().find(|f| f.name == name).map(|f| f.value)
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "scenario: {}  {}", self.scenario, self.parameters);
        for figure in &self.figures {
            let value = if figure.value.fract() == 0.0 && figure.value.abs() < 1e15 {
                format!("{}", figure.value as i64)
            } else {
                format!("{:.2}", figure.value)
            };
            let _ = writeln!(out, "  {:<34} {:>14} {}", figure.name, value, figure.unit);
        }
        if !self.latencies.is_empty() {
            let _ = writeln!(
                out,
                "  {:<34} {:>10} {:>9} {:>9} {:>9} {:>9}",
                "latency (ms)", "count", "p50", "p99", "p99.9", "max"
            );
            for l in &self.latencies {
                let _ = writeln!(
                    out,
                    "  {:<34} {:>10} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                    l.name, l.count, l.p50_ms, l.p99_ms, l.p999_ms, l.max_ms
                );
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        out
    }
}
