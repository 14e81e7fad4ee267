//! Policy gate `insurance-active`: field work may proceed only under an active,
//! unexpired insurance certificate (policy `POL-OPS-INS-001`).
//!
//! Evidence: `{"insurance": {"certificate_id", "status", "expires_on"}, "as_of"}`.
//! Guests have no clock, so the evidence carries `as_of`. Dates are ISO `YYYY-MM-DD`
//! strings, validated first and then compared lexicographically.

use andon_guest_sdk::EVIDENCE_CONTRACT_POLICY;
use andon_guest_sdk::gate::{Check, Gate, GateVerdict, Refusal, Request};
use serde::Deserialize;

/// The policy this gate enforces.
pub const POLICY: &str = "POL-OPS-INS-001";

#[derive(Deserialize)]
struct Evidence {
    insurance: Option<Insurance>,
    as_of: Option<String>,
}

#[derive(Deserialize)]
struct Insurance {
    #[serde(default)]
    certificate_id: String,
    status: String,
    expires_on: String,
}

/// The `insurance-active` gate.
pub struct InsuranceActive;

impl Gate for InsuranceActive {
    fn check(request: Request) -> GateVerdict {
        match judge(&request) {
            Ok(checks) => GateVerdict::Pass(checks),
            Err(refusal) => GateVerdict::Refuse(refusal),
        }
    }
}

fn judge(request: &Request) -> Result<Vec<Check>, Refusal> {
    let evidence: Evidence = request.evidence()?;
    let Some(cert) = evidence.insurance.filter(|c| !c.certificate_id.trim().is_empty()) else {
        return Err(Refusal::new("insurance_certificate_missing")
            .check(Check::fail("insurance_cert_present", "no insurance certificate in the evidence"))
            .missing("insurance_cert", "not_found")
            .next_lawful_step("obtain a valid insurance certificate and resubmit the incident with its certificate id")
            .policy(POLICY));
    };
    let present = Check::pass("insurance_cert_present", format!("certificate {} on file", cert.certificate_id));
    let as_of = evidence.as_of.unwrap_or_default();
    if !is_iso_date(&as_of) || !is_iso_date(&cert.expires_on) {
        return Err(Refusal::new("evidence_invalid")
            .check(present)
            .check(Check::fail(
                "insurance_dates_valid",
                format!("expires_on {:?} and as_of {:?} must both be YYYY-MM-DD dates", cert.expires_on, as_of),
            ))
            .next_lawful_step("resubmit the incident with expires_on and as_of as YYYY-MM-DD dates")
            .policy(EVIDENCE_CONTRACT_POLICY));
    }
    let active = Check::new(
        "insurance_cert_active",
        cert.status == "active",
        format!("certificate {} status is {:?}", cert.certificate_id, cert.status),
    );
    let unexpired = cert.expires_on >= as_of;
    let not_expired = Check::new(
        "insurance_cert_not_expired",
        unexpired,
        format!("expires on {} {} as of {}", cert.expires_on, if unexpired { ">=" } else { "<" }, as_of),
    );
    if active.passed && not_expired.passed {
        return Ok(vec![present, active, not_expired]);
    }
    Err(Refusal::new("insurance_expired")
        .checks([present, active, not_expired])
        .missing("insurance_cert", "expired")
        .next_lawful_step(
            "renew the insurance certificate (or obtain a valid one) and resubmit the incident with the new certificate id",
        )
        .policy(POLICY))
}

/// Whether `text` is a real calendar date written `YYYY-MM-DD`.
fn is_iso_date(text: &str) -> bool {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == b'-' } else { c.is_ascii_digit() });
    if !shaped {
        return false;
    }
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    (1..=days).contains(&day)
}

andon_guest_sdk::export_gate!(InsuranceActive);

#[cfg(test)]
mod tests {
    use super::*;
    use andon_guest_sdk::Severity;

    fn run(evidence: &str) -> GateVerdict {
        InsuranceActive::check(Request::for_test("INC-1", "field_work", Severity::High, evidence))
    }

    fn refusal(evidence: &str) -> Refusal {
        match run(evidence) {
            GateVerdict::Refuse(refusal) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn cert(status: &str, expires_on: &str, as_of: &str) -> String {
        format!(
            r#"{{"insurance":{{"certificate_id":"INS-77","status":"{status}","expires_on":"{expires_on}"}},"as_of":"{as_of}"}}"#
        )
    }

    #[test]
    fn active_unexpired_certificate_passes() {
        let GateVerdict::Pass(checks) = run(&cert("active", "2027-03-31", "2026-11-20")) else { panic!("no pass") };
        let names: Vec<_> = checks.iter().map(|c| (c.name.as_str(), c.passed)).collect();
        assert_eq!(
            names,
            [("insurance_cert_present", true), ("insurance_cert_active", true), ("insurance_cert_not_expired", true)]
        );
        assert!(matches!(run(&cert("active", "2026-11-20", "2026-11-20")), GateVerdict::Pass(_)));
    }

    #[test]
    fn expired_or_inactive_certificate_refuses_with_every_check() {
        for evidence in [cert("active", "2026-03-31", "2026-11-20"), cert("suspended", "2027-03-31", "2026-11-20")] {
            let refusal = refusal(&evidence);
            assert_eq!(refusal.reason, "insurance_expired");
            assert_eq!(refusal.checks.len(), 3);
            assert_eq!(refusal.checks.iter().filter(|c| !c.passed).count(), 1);
            assert_eq!(
                (refusal.missing[0].name.as_str(), refusal.missing[0].status.as_str()),
                ("insurance_cert", "expired")
            );
            assert!(refusal.next_lawful_step.starts_with("renew the insurance certificate"));
            assert_eq!(refusal.policy_reference, POLICY);
        }
    }

    #[test]
    fn missing_certificate_refuses() {
        for evidence in [
            r#"{"as_of":"2026-11-20"}"#,
            r#"{"insurance":null}"#,
            &cert("active", "2027-03-31", "2026-11-20").replace("INS-77", " "),
        ] {
            let refusal = refusal(evidence);
            assert_eq!(refusal.reason, "insurance_certificate_missing");
            assert_eq!(
                (refusal.missing[0].name.as_str(), refusal.missing[0].status.as_str()),
                ("insurance_cert", "not_found")
            );
        }
    }

    #[test]
    fn malformed_dates_and_evidence_refuse() {
        for evidence in [
            cert("active", "2027-02-29", "2026-11-20"),
            cert("active", "2027-3-31", "2026-11-20"),
            cert("active", "2027-03-31", "20261120"),
            r#"{"insurance":{"certificate_id":"INS-77","status":"active","expires_on":"2027-03-31"}}"#.to_string(),
        ] {
            assert_eq!(refusal(&evidence).reason, "evidence_invalid", "{evidence}");
        }
        assert_eq!(refusal(r#"{"insurance":{"status":1}}"#).reason, "evidence_unreadable");
        assert_eq!(refusal("[]").reason, "evidence_unreadable");
    }

    #[test]
    fn iso_dates_are_checked_against_the_calendar() {
        assert!(is_iso_date("2028-02-29") && is_iso_date("2000-02-29") && is_iso_date("2026-12-31"));
        assert!(!is_iso_date("1900-02-29") && !is_iso_date("2026-13-01") && !is_iso_date("2026-04-31"));
        assert!(!is_iso_date("2026-00-10") && !is_iso_date("2026-01-00") && !is_iso_date("２０２６-01-01"));
    }
}
