//! The governed service in process: SLA breach receipts, duplicate and bad
//! submissions, the WIP limit under a burst, and the drain on shutdown.

use std::sync::Arc;
use std::time::Duration;

use andon_core::AndonEngine;
use andon_ledger::keys;
use andon_service::service::{self, Accepted, Governance, Service, ServiceError};
use andon_work::bundle::build;
use andon_work::bundle::load::{Bundle, LoadOptions};
use serde_json::{Value, json};

fn bundle(engine: &AndonEngine) -> Bundle {
    let (_, files) =
        build::build(&crate::support::root().join("recipes-wasm"), &build::shipped(), build::UNSIGNED_KEY_ID).unwrap();
    Bundle::load(engine, &files, LoadOptions::default()).unwrap()
}

fn start(dir: &std::path::Path, governance: Governance) -> Service {
    let keys_dir = dir.join("keys");
    if !keys_dir.exists() {
        keys::generate(&keys_dir).unwrap();
    }
    let engine = Arc::new(AndonEngine::new().unwrap());
    Service::start(service::Config {
        ledger_dir: dir.join("ledger"),
        hmac_key: keys::load_hmac_key(&keys_dir.join("hmac.key")).unwrap(),
        signing_key: keys::load_signing_key(&keys_dir.join("ed25519.key")).unwrap(),
        bundles: vec![bundle(&engine)],
        export_dir: dir.join("exports"),
        governance,
        engine,
    })
    .unwrap()
}

fn approval(id: &str, severity: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "incident_id": id, "kind": "approval_request", "severity": severity,
        "evidence": {"request": {"amount": 1_200_000, "currency": "USD", "threshold": 1_000_000},
                     "authorities": {"cfo_available": false, "board_available": true}}
    }))
    .unwrap()
}

fn receipts(dir: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("ledger/receipts.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_incident_still_undecided_at_its_deadline_gets_an_sla_breached_receipt_on_its_chain() {
    let dir = tempfile::tempdir().unwrap();
    // One evaluator and a 1 ms deadline for low: a burst of 40 queues up behind it.
    let mut governance = Governance { wip_limit: 1, ..Governance::default() };
    governance.sla[service::rank(andon_core::Severity::Low)] = Duration::from_millis(1);
    let service = start(dir.path(), governance);
    let answers: Vec<_> = (0..40)
        .map(|i| match service.accept(&approval(&format!("SLA-{i:02}"), "low"), None, false).unwrap() {
            Accepted::Queued(answer) => answer,
            Accepted::Overloaded(d) => panic!("not overloaded: {d:?}"),
        })
        .collect();
    let decided: Vec<_> = answers.into_iter().map(|a| a.blocking_recv().unwrap().unwrap()).collect();
    let breached_answers = decided.iter().filter(|d| d.sla_breached).count();
    assert!(breached_answers > 0, "40 incidents behind one evaluator with a 1 ms deadline");
    let metric = service.metrics().encode();
    drop(service);

    let all = receipts(dir.path());
    let breaches: Vec<&Value> = all.iter().filter(|r| r["kind"] == json!("sla_breached")).collect();
    assert_eq!(breaches.len(), breached_answers, "one breach receipt per late incident");
    for b in &breaches {
        let id = b["incident_id"].as_str().unwrap();
        assert_eq!(b["annotation"]["severity"], json!("low"));
        assert_eq!(b["annotation"]["sla_ms"].as_f64(), Some(1.0));
        assert!(b["annotation"]["waited_ms"].as_f64().unwrap() >= 1.0);
        assert!(b["incident_prev_hash"].is_string(), "on the incident's chain: {b}");
        assert!(decided.iter().any(|d| d.incident_id == id && d.sla_breached));
    }
    assert!(metric.contains(&format!("andon_sla_breaches_total{{severity=\"low\"}} {breached_answers}")), "{metric}");
}

#[test]
fn duplicates_and_bad_evidence_are_errors_that_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path(), Governance::default());
    let first = service.submit(&approval("DUP-1", "high"), None, false).unwrap();
    assert_eq!(first.status, "planned");
    assert_eq!(
        first.receipts.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
        ["reported", "evaluated", "planned"]
    );
    let again = service.submit(&approval("DUP-1", "high"), None, false).unwrap_err();
    assert!(matches!(again, ServiceError::AlreadyExists(_)), "{again}");

    let duplicate_key =
        br#"{"incident_id":"BAD-1","incident_id":"BAD-2","kind":"approval_request","severity":"low","evidence":{}}"#;
    let err = service.submit(duplicate_key, None, false).unwrap_err();
    assert!(andon_core::errors::chain(&err).contains("duplicate"), "{err}");
    let err = service.submit(b"{not json", None, false).unwrap_err();
    assert!(matches!(err, ServiceError::Input(_)), "{err}");
    let err = service.submit(&approval("B-1", "high"), Some("no-such-bundle"), false).unwrap_err();
    assert!(err.to_string().contains("no-such-bundle"), "{err}");
    drop(service);
    let ids: Vec<Value> = receipts(dir.path()).iter().map(|r| r["incident_id"].clone()).collect();
    assert!(ids.iter().all(|id| id == &json!("DUP-1")), "only DUP-1 was recorded: {ids:?}");
}

#[test]
fn a_burst_never_runs_more_evaluations_than_the_wip_limit() {
    let dir = tempfile::tempdir().unwrap();
    let service = Arc::new(start(dir.path(), Governance { wip_limit: 2, ..Governance::default() }));
    std::thread::scope(|s| {
        for t in 0..8 {
            let service = Arc::clone(&service);
            s.spawn(move || {
                for i in 0..10 {
                    let severity = ["critical", "high", "medium", "low"][(t + i) % 4];
                    service.submit(&approval(&format!("WIP-{t}-{i}"), severity), None, false).unwrap();
                }
            });
        }
    });
    let status = service.status();
    assert!(status.max_in_flight <= 2 && status.max_in_flight >= 1, "{status:?}");
    assert_eq!(status.queue_depth, [0, 0, 0, 0]);
    drop(service);
    let wips: Vec<u64> = receipts(dir.path())
        .iter()
        .filter(|r| r["kind"] == json!("planned"))
        .map(|r| r["annotation"]["governance"]["wip_in_flight"].as_u64().unwrap())
        .collect();
    assert_eq!(wips.len(), 80);
    assert!(wips.iter().all(|w| (1..=2).contains(w)), "{wips:?}");
}

#[test]
fn after_shutdown_a_submission_is_refused_with_an_overloaded_receipt_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let service = start(dir.path(), Governance::default());
    service.shutdown();
    let decided = service.submit(&approval("LATE-1", "critical"), None, false).unwrap();
    assert_eq!(decided.status, "overloaded");
    let andon_core::Decision::Refused { refusal } = &decided.decision else { panic!("{decided:?}") };
    assert_eq!(refusal.reason, service::SHUTTING_DOWN);
    assert!(refusal.next_lawful_step.contains("again"));
    let all = receipts(dir.path());
    let last = all.last().unwrap();
    assert_eq!(last["kind"], json!("overloaded"));
    assert_eq!(last["incident_id"], json!("LATE-1"));
    assert_eq!(last["decision"]["refusal"]["reason"], json!("shutting_down"));

    // Closing a capacity-refused incident makes it final: no resubmission after.
    let closed = service.close("LATE-1", "withdrawn by the operator").unwrap();
    assert_eq!(closed.kind, "closed");
    let again = service.submit(&approval("LATE-1", "critical"), None, false).unwrap_err();
    assert!(matches!(again, ServiceError::AlreadyExists(_)), "{again}");
    // An outcome for an incident that was never planned is an illegal transition,
    // and leaves its phase as it was.
    let err = service.record_outcome("LATE-1", andon_work::incident::ExecutionStatus::Executed, "x").unwrap_err();
    assert!(err.to_string().contains("illegal transition"), "{err}");
}

#[test]
fn racing_lifecycle_steps_on_one_incident_record_exactly_one_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let service = Arc::new(start(dir.path(), Governance::default()));
    for round in 0..10 {
        let id = format!("RACE-{round}");
        assert_eq!(service.submit(&approval(&id, "high"), None, false).unwrap().status, "planned");
        let outcomes: Vec<Result<_, _>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let service = Arc::clone(&service);
                    let id = id.clone();
                    s.spawn(move || {
                        service.record_outcome(&id, andon_work::incident::ExecutionStatus::Executed, "done")
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(outcomes.iter().filter(|r| r.is_ok()).count(), 1, "{outcomes:?}");
        for err in outcomes.iter().filter_map(|r| r.as_ref().err()) {
            let text = err.to_string();
            assert!(text.contains("illegal transition") || text.contains("already queued"), "{text}");
        }
        service.close(&id, "ok").unwrap();
    }
    drop(service);
    let executed = receipts(dir.path()).iter().filter(|r| r["kind"] == json!("executed")).count();
    assert_eq!(executed, 10);
}

#[test]
fn outputs_hold_a_decision_to_the_deadline_the_server_ran_under_not_the_fixed_table() {
    let dir = tempfile::tempdir().unwrap();
    // A server started with `--sla high=2m` (the doctrine says 8 minutes).
    let mut governance = Governance::default();
    governance.sla[service::rank(andon_core::Severity::High)] = Duration::from_secs(120);
    let service = start(dir.path(), governance);
    match service.accept(&approval("SLA-OWN-1", "high"), None, false).unwrap() {
        Accepted::Queued(answer) => answer.blocking_recv().unwrap().unwrap(),
        Accepted::Overloaded(d) => panic!("not overloaded: {d:?}"),
    };
    drop(service);
    let receipts = andon_ledger::ledger::receipts_of(&dir.path().join("ledger"), "SLA-OWN-1").unwrap();
    let facts = andon_work::outputs::facts(&receipts).unwrap();
    let sla = andon_work::outputs::sla(&facts);
    assert_eq!(sla.target_ms, 120_000, "the deadline recorded in the decision receipt");
    assert_eq!(sla.target_minutes, 8, "the doctrine's figure is still shown beside it");
    let history = andon_ledger::ledger::all_receipts(&dir.path().join("ledger")).unwrap();
    let documents = andon_work::outputs::documents(&receipts, &history);
    let (_, sla_json) = documents.iter().find(|(name, _)| name == "sla.json").unwrap();
    let sla_json: Value = serde_json::from_slice(sla_json).unwrap();
    assert_eq!(sla_json["target_ms"], json!(120_000));
}
