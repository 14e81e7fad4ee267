//! The kaizen report: what the ledger says about the standard work so far.
//!
//! Per recipe: incidents, approvals (plans), refusals by reason, and the execution
//! success rate; recurring incident kinds and refusal reasons within a window; time
//! to decision by severity against the doctrine's targets (3 / 8 / 15 / 30 minutes).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::outputs::{self, Status};
use andon_core::decision::Decision;
use andon_core::evidence::Severity;
use andon_ledger::receipt::StoredReceipt;

/// Figures of one recipe.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecipeFigures {
    /// Incidents routed to it.
    pub incidents: u64,
    /// Plans produced.
    pub approvals: u64,
    /// Refusals by reason.
    pub refusals: BTreeMap<String, u64>,
    /// Executions recorded.
    pub executions: u64,
    /// Executions that succeeded.
    pub executed_ok: u64,
    /// `executed_ok / executions`, when any.
    pub success_rate: Option<f64>,
}

/// Time to decision of one severity.
#[derive(Debug, Clone, Serialize)]
pub struct SeverityFigures {
    /// Target minutes.
    pub target_minutes: u64,
    /// Decisions.
    pub decisions: u64,
    /// Decisions within the target.
    pub within_target: u64,
    /// Median minutes to decision.
    pub median_minutes: Option<f64>,
    /// Worst minutes to decision.
    pub max_minutes: Option<f64>,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Incidents considered (reported within the window).
    pub incidents: u64,
    /// The window's start (RFC 3339), if any.
    pub since: Option<String>,
    /// Per recipe (`(no standard work)` for unrouted kinds).
    pub recipes: BTreeMap<String, RecipeFigures>,
    /// Incident kinds seen more than once, with counts.
    pub recurring_kinds: BTreeMap<String, u64>,
    /// Refusal reasons seen more than once, with counts.
    pub recurring_refusals: BTreeMap<String, u64>,
    /// Time to decision by severity.
    pub sla: BTreeMap<String, SeverityFigures>,
}

/// Builds the report from every receipt of a ledger (in order), keeping incidents
/// reported at or after `since` (RFC 3339) when given.
pub fn build(receipts: &[StoredReceipt], since: Option<&str>) -> Report {
    let since_ms = since.and_then(outputs::parse_millis);
    let mut by_incident: BTreeMap<String, Vec<StoredReceipt>> = BTreeMap::new();
    for r in receipts {
        if let Some(id) = &r.body.incident_id {
            by_incident.entry(id.clone()).or_default().push(r.clone());
        }
    }
    let mut report = Report {
        incidents: 0,
        since: since.map(str::to_string),
        recipes: BTreeMap::new(),
        recurring_kinds: BTreeMap::new(),
        recurring_refusals: BTreeMap::new(),
        sla: BTreeMap::new(),
    };
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let mut minutes: BTreeMap<Severity, Vec<f64>> = BTreeMap::new();
    for chain in by_incident.values() {
        let Some(facts) = outputs::facts(chain) else { continue };
        if let (Some(since), Some(at)) = (since_ms, outputs::parse_millis(&facts.reported_at))
            && at < since
        {
            continue;
        }
        report.incidents += 1;
        *kinds.entry(facts.kind.clone()).or_default() += 1;
        let figures =
            report.recipes.entry(facts.recipe.clone().unwrap_or_else(|| "(no standard work)".into())).or_default();
        figures.incidents += 1;
        match &facts.decision {
            Some(Decision::Plan { .. }) => figures.approvals += 1,
            Some(Decision::Refused { refusal }) => {
                *figures.refusals.entry(refusal.reason.clone()).or_default() += 1;
                *reasons.entry(refusal.reason.clone()).or_default() += 1;
            }
            _ => {}
        }
        if facts.outcome_at.is_some() {
            figures.executions += 1;
            if matches!(facts.status, Status::Executed)
                || (facts.status == Status::Closed && facts.outcome_note.is_some())
            {
                figures.executed_ok += u64::from(facts.status != Status::ExecutionFailed);
            }
        }
        let sla = outputs::sla(&facts);
        if let Some(m) = sla.minutes_to_decision {
            minutes.entry(facts.severity).or_default().push(m);
        }
    }
    for figures in report.recipes.values_mut() {
        figures.success_rate = (figures.executions > 0).then(|| figures.executed_ok as f64 / figures.executions as f64);
    }
    report.recurring_kinds = kinds.into_iter().filter(|(_, n)| *n > 1).collect();
    report.recurring_refusals = reasons.into_iter().filter(|(_, n)| *n > 1).collect();
    for severity in Severity::ALL {
        let mut list = minutes.remove(&severity).unwrap_or_default();
        list.sort_by(f64::total_cmp);
        let target = severity.sla_minutes();
        report.sla.insert(
            severity.as_str().to_string(),
            SeverityFigures {
                target_minutes: target,
                decisions: list.len() as u64,
                within_target: list.iter().filter(|m| **m <= target as f64).count() as u64,
                median_minutes: list.get(list.len() / 2).copied(),
                max_minutes: list.last().copied(),
            },
        );
    }
    report
}

/// The report as a readable table.
pub fn table(report: &Report) -> String {
    let mut out = format!("kaizen report: {} incidents", report.incidents);
    if let Some(since) = &report.since {
        out += &format!(" since {since}");
    }
    out += "\n\nrecipe                          incidents  plans  refusals  executed  success\n";
    for (recipe, f) in &report.recipes {
        let refusals: u64 = f.refusals.values().sum();
        let rate = f.success_rate.map_or("-".to_string(), |r| format!("{:.0}%", r * 100.0));
        out += &format!(
            "{recipe:<32}{:>9}{:>7}{:>10}{:>10}{:>9}\n",
            f.incidents, f.approvals, refusals, f.executions, rate
        );
        for (reason, n) in &f.refusals {
            out += &format!("    refused {n} × {reason}\n");
        }
    }
    out += "\nrecurring incident kinds\n";
    for (kind, n) in &report.recurring_kinds {
        out += &format!("  {kind:<30} {n}\n");
    }
    out += "\nrecurring refusal reasons\n";
    for (reason, n) in &report.recurring_refusals {
        out += &format!("  {reason:<30} {n}\n");
    }
    out += "\ntime to decision      target  decisions  within  median min  max min\n";
    for severity in Severity::ALL.map(Severity::as_str) {
        let s = &report.sla[severity];
        let fmt = |v: Option<f64>| v.map_or("-".to_string(), |m| format!("{m:.2}"));
        out += &format!(
            "  {severity:<18}{:>6}m{:>11}{:>8}{:>12}{:>9}\n",
            s.target_minutes,
            s.decisions,
            s.within_target,
            fmt(s.median_minutes),
            fmt(s.max_minutes)
        );
    }
    out
}
