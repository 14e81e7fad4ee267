//! Policy gate `evidence-level`: the evidence must be collected at a level at least
//! as high as required (policy `POL-EVD-001`). Levels rank low < medium < high < critical.
//!
//! Evidence: `{"evidence_level": "high"}` (case-insensitive). The required level is the
//! route setting `{"minimum_level": "critical"}` when present, else the incident severity.

use andon_guest_sdk::EVIDENCE_CONTRACT_POLICY;
use andon_guest_sdk::gate::{Check, Gate, GateVerdict, Refusal, Request, Severity};
use serde::Deserialize;

/// The policy this gate enforces.
pub const POLICY: &str = "POL-EVD-001";

#[derive(Deserialize)]
struct Evidence {
    evidence_level: Option<String>,
}

#[derive(Deserialize)]
struct Settings {
    minimum_level: Option<String>,
}

/// The `evidence-level` gate.
pub struct EvidenceLevel;

impl Gate for EvidenceLevel {
    fn check(request: Request) -> GateVerdict {
        match judge(&request) {
            Ok(checks) => GateVerdict::Pass(checks),
            Err(refusal) => GateVerdict::Refuse(refusal),
        }
    }
}

fn judge(request: &Request) -> Result<Vec<Check>, Refusal> {
    let settings: Settings = request.settings()?;
    let minimum = match settings.minimum_level {
        None => request.envelope.severity,
        Some(name) => Severity::parse(&name).ok_or_else(|| {
            Refusal::new("settings_invalid")
                .check(Check::fail("minimum_level_known", format!("unknown minimum_level {name:?}")))
                .next_lawful_step("set minimum_level to low, medium, high or critical in the bundle manifest")
                .policy(EVIDENCE_CONTRACT_POLICY)
        })?,
    };
    let evidence: Evidence = request.evidence()?;
    let Some(level) = evidence.evidence_level.as_deref().and_then(Severity::parse) else {
        let detail = match evidence.evidence_level {
            None => String::from("no evidence_level in the evidence"),
            Some(name) => {
                format!("unknown evidence_level {name:?} (expected low, medium, high or critical)")
            }
        };
        return Err(Refusal::new("evidence_level_missing")
            .check(Check::fail("evidence_level_sufficient", detail))
            .missing("evidence_level", "not_found")
            .next_lawful_step(format!(
                "record the evidence level (at least {}) and resubmit the incident",
                minimum.as_str()
            ))
            .policy(POLICY));
    };
    if level.rank() >= minimum.rank() {
        return Ok(vec![Check::pass(
            "evidence_level_sufficient",
            format!("{} >= {}", level.as_str(), minimum.as_str()),
        )]);
    }
    Err(Refusal::new("evidence_level_insufficient")
        .check(Check::fail("evidence_level_sufficient", format!("{} < {}", level.as_str(), minimum.as_str())))
        .missing("evidence_level", "insufficient")
        .next_lawful_step(format!("collect evidence at level {} or higher and resubmit the incident", minimum.as_str()))
        .policy(POLICY))
}

andon_guest_sdk::export_gate!(EvidenceLevel);

#[cfg(test)]
mod tests {
    use super::*;

    fn run(severity: Severity, evidence: &str, settings: &str) -> GateVerdict {
        EvidenceLevel::check(Request::for_test("INC-1", "field_work", severity, evidence).with_settings(settings))
    }

    fn refusal(severity: Severity, evidence: &str, settings: &str) -> Refusal {
        match run(severity, evidence, settings) {
            GateVerdict::Refuse(refusal) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn level_at_or_above_the_severity_passes() {
        let GateVerdict::Pass(checks) = run(Severity::Medium, r#"{"evidence_level":"HIGH"}"#, "{}") else { panic!() };
        assert_eq!(
            (checks[0].name.as_str(), checks[0].detail.as_str()),
            ("evidence_level_sufficient", "high >= medium")
        );
        let GateVerdict::Pass(checks) = run(Severity::High, r#"{"evidence_level":"high"}"#, "{}") else { panic!() };
        assert_eq!(checks[0].detail, "high >= high");
    }

    #[test]
    fn the_minimum_level_setting_overrides_the_severity() {
        let refusal = refusal(Severity::Low, r#"{"evidence_level":"high"}"#, r#"{"minimum_level":"critical"}"#);
        assert_eq!(refusal.reason, "evidence_level_insufficient");
        assert_eq!(refusal.checks[0].detail, "high < critical");
        assert_eq!(
            (refusal.missing[0].name.as_str(), refusal.missing[0].status.as_str()),
            ("evidence_level", "insufficient")
        );
        assert!(refusal.next_lawful_step.starts_with("collect evidence at level critical"));
        assert_eq!(refusal.policy_reference, POLICY);
        let lenient = run(Severity::Critical, r#"{"evidence_level":"low"}"#, r#"{"minimum_level":"Low"}"#);
        assert!(matches!(lenient, GateVerdict::Pass(_)));
    }

    #[test]
    fn level_below_the_severity_refuses() {
        let refusal = refusal(Severity::Critical, r#"{"evidence_level":"medium"}"#, "{}");
        assert_eq!(refusal.reason, "evidence_level_insufficient");
        assert!(refusal.next_lawful_step.contains("critical"));
    }

    #[test]
    fn missing_or_unknown_level_refuses() {
        for evidence in ["{}", r#"{"evidence_level":null}"#, r#"{"evidence_level":"extreme"}"#] {
            let refusal = refusal(Severity::Low, evidence, "{}");
            assert_eq!(refusal.reason, "evidence_level_missing");
            assert_eq!(
                (refusal.missing[0].name.as_str(), refusal.missing[0].status.as_str()),
                ("evidence_level", "not_found")
            );
        }
    }

    #[test]
    fn bad_settings_and_evidence_refuse() {
        assert_eq!(refusal(Severity::Low, "{}", r#"{"minimum_level":"huge"}"#).reason, "settings_invalid");
        assert_eq!(refusal(Severity::Low, "{}", r#"{"minimum_level":3}"#).reason, "settings_unreadable");
        assert_eq!(refusal(Severity::Low, r#"{"evidence_level":2}"#, "{}").reason, "evidence_unreadable");
    }
}
