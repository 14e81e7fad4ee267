//! Prometheus metrics of the decision service (served on `/metrics` by
//! `andon serve`), in the OpenMetrics text format.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `andon_queue_depth` | gauge | `severity` |
//! | `andon_evaluations_in_flight` | gauge | |
//! | `andon_evaluations_in_flight_max` | gauge (high-water mark) | |
//! | `andon_wip_limit` | gauge | |
//! | `andon_queue_capacity` | gauge | |
//! | `andon_submissions_total` | counter | `severity` |
//! | `andon_decisions_total` | counter | `outcome` = `planned` / `refused` / `overloaded` |
//! | `andon_fuel_consumed_total` | counter | |
//! | `andon_time_to_decision_seconds` | histogram | `severity` |
//! | `andon_queue_wait_seconds` | histogram | `severity` |
//! | `andon_sla_breaches_total` | counter | `severity` |
//! | `andon_receipts_total` | counter | |

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use andon_core::evidence::Severity;

/// A `severity` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeverityLabel {
    /// `critical`, `high`, `medium` or `low`.
    pub severity: &'static str,
}

/// An `outcome` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `planned`, `refused` or `overloaded`.
    pub outcome: &'static str,
}

type HistogramFamily = Family<SeverityLabel, Histogram, fn() -> Histogram>;

fn seconds_histogram() -> Histogram {
    // 100 µs … about 1.9 h (the SLAs are 3 to 30 minutes).
    Histogram::new(exponential_buckets(0.0001, 2.0, 27))
}

/// The service's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Queued submissions by severity.
    pub queue_depth: Family<SeverityLabel, Gauge>,
    /// Evaluations running now.
    pub in_flight: Gauge,
    /// The most evaluations ever running at once.
    pub in_flight_max: Gauge,
    /// Accepted or refused submissions by severity.
    pub submissions: Family<SeverityLabel, Counter>,
    /// Decisions by outcome.
    pub decisions: Family<OutcomeLabel, Counter>,
    /// Fuel consumed by every component run.
    pub fuel: Counter,
    /// From acceptance to the durable decision.
    pub time_to_decision: HistogramFamily,
    /// From acceptance to the start of evaluation.
    pub queue_wait: HistogramFamily,
    /// SLA breaches by severity.
    pub sla_breaches: Family<SeverityLabel, Counter>,
    /// Receipts appended by the service.
    pub receipts: Counter,
}

/// The label of a severity.
pub fn severity(s: Severity) -> SeverityLabel {
    SeverityLabel { severity: s.as_str() }
}

impl Metrics {
    /// Registers every metric; `wip_limit` and `queue_capacity` are exported as
    /// constant gauges.
    pub fn new(wip_limit: usize, queue_capacity: usize) -> Metrics {
        let mut registry = Registry::with_prefix("andon");
        let m = Metrics {
            queue_depth: Family::default(),
            in_flight: Gauge::default(),
            in_flight_max: Gauge::default(),
            submissions: Family::default(),
            decisions: Family::default(),
            fuel: Counter::default(),
            time_to_decision: Family::new_with_constructor(seconds_histogram),
            queue_wait: Family::new_with_constructor(seconds_histogram),
            sla_breaches: Family::default(),
            receipts: Counter::default(),
            registry: Registry::default(),
        };
        let wip = Gauge::<i64>::default();
        wip.set(i64::try_from(wip_limit).unwrap_or(i64::MAX));
        let capacity = Gauge::<i64>::default();
        capacity.set(i64::try_from(queue_capacity).unwrap_or(i64::MAX));
        registry.register("queue_depth", "Submissions waiting for evaluation", m.queue_depth.clone());
        registry.register("evaluations_in_flight", "Evaluations running now", m.in_flight.clone());
        registry.register(
            "evaluations_in_flight_max",
            "Most evaluations ever running at once",
            m.in_flight_max.clone(),
        );
        registry.register("wip_limit", "Configured limit of concurrent evaluations", wip);
        registry.register("queue_capacity", "Configured bound of the submission queue", capacity);
        registry.register("submissions", "Submissions received", m.submissions.clone());
        registry.register("decisions", "Decisions recorded, by outcome", m.decisions.clone());
        registry.register("fuel_consumed", "Fuel consumed by component runs", m.fuel.clone());
        // With a unit: the name gets `_seconds` and the exposition a `# UNIT` line.
        registry.register_with_unit(
            "time_to_decision",
            "Time from acceptance to the durable decision",
            Unit::Seconds,
            m.time_to_decision.clone(),
        );
        registry.register_with_unit(
            "queue_wait",
            "Time from acceptance to the start of evaluation",
            Unit::Seconds,
            m.queue_wait.clone(),
        );
        registry.register("sla_breaches", "Decision deadlines missed", m.sla_breaches.clone());
        registry.register("receipts", "Receipts appended by the service", m.receipts.clone());
        // Every series exists from the start, so a scrape never misses a zero.
        for s in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low] {
            m.queue_depth.get_or_create(&severity(s)).set(0);
            m.submissions.get_or_create(&severity(s)).inc_by(0);
            m.sla_breaches.get_or_create(&severity(s)).inc_by(0);
            drop(m.time_to_decision.get_or_create(&severity(s)));
            drop(m.queue_wait.get_or_create(&severity(s)));
        }
        for outcome in ["planned", "refused", "overloaded"] {
            m.decisions.get_or_create(&OutcomeLabel { outcome }).inc_by(0);
        }
        Metrics { registry, ..m }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
