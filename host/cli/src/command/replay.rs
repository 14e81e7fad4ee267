//! `andon replay`: re-run recorded decisions from the component store and compare.

use andon_core::AndonEngine;
use andon_work::replay::{self, Selection, Status};

use super::print_json;
use crate::cli::Format;
use crate::cli::replay::ReplayArgs;
use crate::exit::Exit;

pub fn run(args: &ReplayArgs) -> anyhow::Result<Exit> {
    let selection = match (&args.seq, &args.incident) {
        (Some(seq), _) => Selection::Seq(*seq),
        (_, Some(id)) => Selection::Incident(id.clone()),
        _ => Selection::All,
    };
    let engine = AndonEngine::new()?;
    let report = replay::replay(&args.ledger, &selection, &engine)?;
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => {
            for receipt in &report.receipts {
                let status = match receipt.status {
                    Status::Matched => "matched",
                    Status::Mismatched => "MISMATCH",
                    Status::Skipped => "skipped",
                };
                let incident = receipt.incident_id.as_deref().unwrap_or("-");
                outln!("seq {:>6}  {status:<8}  {:<15} {incident}", receipt.seq, receipt.kind);
                for m in &receipt.mismatches {
                    outln!("            {}: {} (recorded {}, replayed {})", m.what, m.message, m.recorded, m.replayed);
                }
                for note in &receipt.notes {
                    outln!("            note: {note}");
                }
            }
            outln!(
                "{} selected: {} matched, {} mismatched, {} skipped",
                report.selected,
                report.matched,
                report.mismatched,
                report.skipped
            );
        }
    }
    Ok(if report.ok { Exit::Ok } else { Exit::ReplayMismatch })
}
