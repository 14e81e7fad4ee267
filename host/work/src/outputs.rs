//! Per-incident outputs generated from receipts alone, deterministically: the same
//! receipts always give byte-identical documents.
//!
//! - `narrative.md`: id, severity, duration, root cause / recipe, action, status;
//! - `remediation.md`: the plan steps, or the refusal with its next lawful step;
//! - `runbook.md`: recognition pattern, standard recipe steps, success rate so far;
//! - `checklist.md`: the compliance checklist (every check analyzed, prerequisites);
//! - `policies.md`: every policy referenced;
//! - `sla.json`: time to decision and to outcome against the doctrine's targets.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use andon_core::decision::Decision;
use andon_core::evidence::Severity;
use andon_ledger::receipt::{Kind, StoredReceipt};

/// Milliseconds since the epoch of an RFC 3339 UTC timestamp written by the host
/// (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
pub fn parse_millis(ts: &str) -> Option<u64> {
    let b = ts.as_bytes();
    // ASCII only: the slices below must fall on character boundaries.
    if !ts.is_ascii() || b.len() < 20 || b[4] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |s: &str| s.parse::<i64>().ok();
    let (y, m, d) = (num(&ts[0..4])?, num(&ts[5..7])?, num(&ts[8..10])?);
    let (hh, mm, ss) = (num(&ts[11..13])?, num(&ts[14..16])?, num(&ts[17..19])?);
    let millis = if b.get(19) == Some(&b'.') { num(&ts[20..23]).unwrap_or(0) } else { 0 };
    // Days from civil (H. Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + millis).ok()
}

/// The names of the generated outputs, in the order [`documents`] returns them
/// (an evidence bundle holds exactly these besides its receipts and proofs).
pub const DOCUMENT_NAMES: [&str; 6] =
    ["narrative.md", "remediation.md", "runbook.md", "checklist.md", "policies.md", "sla.json"];

/// The lifecycle state of an incident, read from its receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Reported, not decided yet.
    Reported,
    /// A plan was decided and awaits execution.
    Planned,
    /// Refused.
    Refused,
    /// Refused by the server because its queue was full (or it was shutting
    /// down) before any evaluation; the same evidence may be submitted again.
    Overloaded,
    /// The plan was executed successfully.
    Executed,
    /// The plan's execution failed.
    ExecutionFailed,
    /// Closed.
    Closed,
}

/// Facts about one incident, gathered from its receipts.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentFacts {
    /// Incident id.
    pub incident_id: String,
    /// Incident kind.
    pub kind: String,
    /// Severity.
    pub severity: Severity,
    /// Current status.
    pub status: Status,
    /// Recipe of the route, if one ran or was routed.
    pub recipe: Option<String>,
    /// The final decision.
    pub decision: Option<Decision>,
    /// Reported at (RFC 3339).
    pub reported_at: String,
    /// Decided at.
    pub decided_at: Option<String>,
    /// Outcome recorded at.
    pub outcome_at: Option<String>,
    /// Closed at.
    pub closed_at: Option<String>,
    /// The outcome note.
    pub outcome_note: Option<String>,
    /// The closing feedback.
    pub feedback: Option<String>,
    /// Whether any receipt was made in evaluation mode.
    pub evaluation_mode: bool,
    /// Hashes of the incident's receipts, in order.
    pub receipt_hashes: Vec<String>,
    /// Bundle name, version and digest.
    pub bundle: Option<Value>,
    /// The decision deadline the deciding server ran under, in milliseconds, when
    /// its decision receipt records one (`annotation.governance.sla_ms`).
    pub sla_ms: Option<u64>,
}

fn annotation(r: &StoredReceipt, key: &str) -> Option<String> {
    r.body.annotation.as_ref().and_then(|a| a.get(key)).and_then(Value::as_str).map(str::to_string)
}

/// Gathers the facts of an incident from its receipts (in chain order).
pub fn facts(receipts: &[StoredReceipt]) -> Option<IncidentFacts> {
    let first = receipts.first()?;
    let doc = first.body.evidence.as_ref()?;
    let mut facts = IncidentFacts {
        incident_id: first.body.incident_id.clone()?,
        kind: doc["kind"].as_str().unwrap_or_default().to_string(),
        severity: doc["severity"].as_str().and_then(Severity::parse).unwrap_or(Severity::Low),
        status: Status::Reported,
        recipe: None,
        decision: None,
        reported_at: first.body.timestamp.clone(),
        decided_at: None,
        outcome_at: None,
        closed_at: None,
        outcome_note: None,
        feedback: None,
        evaluation_mode: false,
        receipt_hashes: Vec::new(),
        bundle: first.body.bundle.clone(),
        sla_ms: None,
    };
    for r in receipts {
        facts.receipt_hashes.push(r.hash.clone());
        facts.evaluation_mode |= r.body.evaluation_mode;
        if let Some(recipe) = annotation(r, "recipe") {
            facts.recipe = Some(recipe);
        }
        match r.body.kind {
            Kind::Reported => facts.status = Status::Reported,
            Kind::Overloaded => {
                facts.decision = r.body.decision.clone();
                facts.decided_at = Some(r.body.timestamp.clone());
                facts.status = Status::Overloaded;
            }
            Kind::Planned | Kind::Refused => {
                let governance = r.body.annotation.as_ref().map(|a| &a["governance"]);
                facts.sla_ms = governance.and_then(|g| g["sla_ms"].as_u64()).or(facts.sla_ms);
                facts.decision = r.body.decision.clone();
                facts.decided_at = Some(r.body.timestamp.clone());
                facts.status = if r.body.kind == Kind::Planned { Status::Planned } else { Status::Refused };
            }
            Kind::Executed => {
                facts.outcome_at = Some(r.body.timestamp.clone());
                facts.outcome_note = annotation(r, "note");
                facts.status = if annotation(r, "status").as_deref() == Some("failed") {
                    Status::ExecutionFailed
                } else {
                    Status::Executed
                };
            }
            Kind::Closed => {
                facts.closed_at = Some(r.body.timestamp.clone());
                facts.feedback = annotation(r, "feedback");
                facts.status = Status::Closed;
            }
            _ => {}
        }
    }
    Some(facts)
}

fn minutes_between(a: &str, b: &str) -> Option<f64> {
    Some((parse_millis(b)?.saturating_sub(parse_millis(a)?)) as f64 / 60_000.0)
}

/// SLA figures of one incident.
#[derive(Debug, Clone, Serialize)]
pub struct Sla {
    /// Severity.
    pub severity: Severity,
    /// The doctrine's target minutes to decision for the severity.
    pub target_minutes: u64,
    /// The target the decision is held to, in milliseconds: the deadline recorded
    /// by the deciding server when there is one, else the doctrine's.
    pub target_ms: u64,
    /// Minutes from report to decision.
    pub minutes_to_decision: Option<f64>,
    /// Minutes from report to outcome.
    pub minutes_to_outcome: Option<f64>,
    /// Whether the decision met the target.
    pub decision_within_target: Option<bool>,
}

/// SLA figures of an incident.
pub fn sla(facts: &IncidentFacts) -> Sla {
    let to_decision = facts.decided_at.as_deref().and_then(|d| minutes_between(&facts.reported_at, d));
    let target_ms = facts.sla_ms.unwrap_or(facts.severity.sla_minutes() * 60_000);
    Sla {
        severity: facts.severity,
        target_minutes: facts.severity.sla_minutes(),
        target_ms,
        minutes_to_decision: to_decision,
        minutes_to_outcome: facts.outcome_at.as_deref().and_then(|d| minutes_between(&facts.reported_at, d)),
        decision_within_target: to_decision.map(|m| m * 60_000.0 <= target_ms as f64),
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Reported => "reported",
        Status::Planned => "planned, awaiting execution",
        Status::Refused => "refused",
        Status::Overloaded => "refused: server overloaded",
        Status::Executed => "executed",
        Status::ExecutionFailed => "execution failed",
        Status::Closed => "closed",
    }
}

/// Every generated document, by file name, for one incident. `ledger` is every
/// receipt of the ledger up to the incident's last receipt (for the runbook's
/// success rate so far).
pub fn documents(receipts: &[StoredReceipt], ledger: &[StoredReceipt]) -> Vec<(String, Vec<u8>)> {
    let Some(f) = facts(receipts) else { return Vec::new() };
    let advisory = if f.evaluation_mode {
        "\n> **Evaluation mode: advisory only.** These receipts were produced with `evaluation_mode=true`; nothing here authorizes action.\n"
    } else {
        ""
    };
    let mut out = Vec::new();

    // Narrative.
    let mut n = format!("# Incident {}\n{advisory}\n", f.incident_id);
    n += &format!("- **Severity:** {}\n- **Kind:** {}\n", f.severity.as_str(), f.kind);
    n += &format!("- **Reported:** {}\n", f.reported_at);
    let end = f.closed_at.as_ref().or(f.outcome_at.as_ref()).or(f.decided_at.as_ref());
    if let Some(end) = end
        && let Some(m) = minutes_between(&f.reported_at, end)
    {
        n += &format!("- **Duration:** {m:.1} minutes (to {end})\n");
    }
    n += &format!("- **Root cause / recipe:** {}\n", f.recipe.as_deref().unwrap_or("no standard work matched"));
    match &f.decision {
        Some(Decision::Plan { plan }) => {
            let actions: Vec<&str> = plan.steps.iter().map(|s| s.action.as_str()).collect();
            n += &format!("- **Action:** plan of {} steps: {}\n", plan.steps.len(), actions.join(" → "));
        }
        Some(Decision::Refused { refusal }) => {
            n += &format!(
                "- **Action:** refused ({}); next lawful step: {}\n",
                refusal.reason, refusal.next_lawful_step
            );
        }
        _ => n += "- **Action:** none yet\n",
    }
    n += &format!("- **Status:** {}\n", status_word(f.status));
    if let Some(note) = &f.outcome_note {
        n += &format!("- **Outcome note:** {note}\n");
    }
    if let Some(feedback) = &f.feedback {
        n += &format!("- **Feedback:** {feedback}\n");
    }
    n += &format!("\nReceipts: {}\n", f.receipt_hashes.join(", "));
    out.push((DOCUMENT_NAMES[0].to_string(), n.into_bytes()));

    // Remediation recipe or refusal.
    let mut r = format!("# Remediation for {}\n{advisory}\n", f.incident_id);
    match &f.decision {
        Some(Decision::Plan { plan }) => {
            r += &format!("Recipe `{}`.\n\n", plan.recipe_id);
            for (i, step) in plan.steps.iter().enumerate() {
                let params: Vec<String> = step.parameters.iter().map(|p| format!("`{}`={}", p.name, p.value)).collect();
                r += &format!("{}. **{}** {}\n", i + 1, step.action, params.join(", "));
            }
            r += "\nExpected outcomes:\n";
            for o in &plan.expected_outcomes {
                r += &format!("- {o}\n");
            }
            r += "\nQuality checks:\n";
            for q in &plan.quality_checks {
                r += &format!("- {q}\n");
            }
        }
        Some(Decision::Refused { refusal }) => {
            r += &format!("**Refused:** `{}`\n\n", refusal.reason);
            for m in &refusal.missing {
                r += &format!("- missing prerequisite `{}`: {}\n", m.name, m.status);
            }
            r += &format!(
                "\n**Next lawful step:** {}\n\n**Policy:** {}\n",
                refusal.next_lawful_step, refusal.policy_reference
            );
        }
        _ => r += "No decision recorded.\n",
    }
    out.push((DOCUMENT_NAMES[1].to_string(), r.into_bytes()));

    // Runbook entry with success rate so far.
    let mut rb = format!("# Runbook: {}\n\n", f.kind);
    rb += &format!("- **Recognition pattern:** incident kind `{}`\n", f.kind);
    rb += &format!("- **Standard recipe:** {}\n", f.recipe.as_deref().unwrap_or("none (no standard work)"));
    if let Some(Decision::Plan { plan }) = &f.decision {
        rb += "- **Standard steps:**\n";
        for (i, step) in plan.steps.iter().enumerate() {
            rb += &format!("  {}. {}\n", i + 1, step.action);
        }
    }
    let (ok, total) = success_rate(ledger, f.recipe.as_deref());
    let rate = if total == 0 {
        "no executions yet".to_string()
    } else {
        format!("{ok}/{total} executions succeeded ({:.0}%)", 100.0 * ok as f64 / total as f64)
    };
    rb += &format!("- **Success rate so far:** {rate}\n");
    out.push((DOCUMENT_NAMES[2].to_string(), rb.into_bytes()));

    // Compliance checklist.
    let mut c = format!("# Compliance checklist: {}\n{advisory}\n", f.incident_id);
    if let Some(decision) = &f.decision {
        for check in decision.checks() {
            c += &format!("- [{}] `{}`: {}\n", if check.passed { "x" } else { " " }, check.name, check.detail);
        }
        if let Decision::Refused { refusal } = decision {
            for m in &refusal.missing {
                c += &format!("- [ ] prerequisite `{}` ({})\n", m.name, m.status);
            }
        }
    }
    c += &format!(
        "- [{}] decision recorded in a signed, hash-chained receipt\n",
        if f.decided_at.is_some() { "x" } else { " " }
    );
    c += &format!("- [{}] outcome recorded\n", if f.outcome_at.is_some() { "x" } else { " " });
    c += &format!("- [{}] incident closed with feedback\n", if f.closed_at.is_some() { "x" } else { " " });
    out.push((DOCUMENT_NAMES[3].to_string(), c.into_bytes()));

    // Policies.
    let mut policies = BTreeSet::new();
    if let Some(Decision::Refused { refusal }) = &f.decision {
        policies.insert(refusal.policy_reference.clone());
    }
    for r in receipts {
        if let Some(list) = r.body.annotation.as_ref().and_then(|a| a.get("policies")).and_then(Value::as_array) {
            policies.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
        }
    }
    let mut p = format!("# Policies referenced by {}\n\n", f.incident_id);
    for policy in &policies {
        p += &format!("- {policy}\n");
    }
    out.push((DOCUMENT_NAMES[4].to_string(), p.into_bytes()));

    // SLA.
    let mut sla_json = serde_json::to_vec_pretty(&sla(&f)).expect("sla serializes");
    sla_json.push(b'\n');
    out.push((DOCUMENT_NAMES[5].to_string(), sla_json));
    out
}

/// Executions of `recipe` in `ledger` that succeeded, and all executions.
pub fn success_rate(ledger: &[StoredReceipt], recipe: Option<&str>) -> (u64, u64) {
    let Some(recipe) = recipe else { return (0, 0) };
    let mut ok = 0;
    let mut total = 0;
    for r in ledger.iter().filter(|r| r.body.kind == Kind::Executed) {
        if annotation(r, "recipe").as_deref() == Some(recipe) {
            total += 1;
            if annotation(r, "status").as_deref() == Some("executed") {
                ok += 1;
            }
        }
    }
    (ok, total)
}
