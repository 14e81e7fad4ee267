//! `andon verify`: hashes, links, MACs and checkpoint signatures of a ledger.

use std::io::IsTerminal as _;

use andon_ledger::checkpoint::Checkpoint;
use andon_ledger::keys;
use andon_ledger::ledger::verify::{self, VerifyOptions};
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use super::print_json;
use crate::cli::Format;
use crate::cli::verify::VerifyArgs;
use crate::exit::Exit;

pub fn run(args: &VerifyArgs) -> anyhow::Result<Exit> {
    let keys = args.key.iter().map(|path| keys::load_hmac_key(path)).collect::<Result<Vec<_>, _>>()?;
    let public_key = args.public_key.as_deref().map(keys::load_verifying_key).transpose()?;
    let mut held = Vec::new();
    for path in &args.checkpoint {
        let bytes = andon_core::evidence::read_file_capped(path, andon_ledger::checkpoint::MAX_CHECKPOINT_BYTES)?;
        held.push(Checkpoint::parse(&bytes).with_context(|| format!("held checkpoint {}", path.display()))?);
    }
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("verifying {bar:40} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec})")
            .expect("the template is valid"),
    );
    let mut since = Vec::new();
    for path in &args.since {
        since.push(andon_core::evidence::read_file_capped(path, andon_ledger::note::MAX_NOTE_BYTES)?);
    }
    let options = VerifyOptions { keys, public_key, held, since };
    let report = verify::verify(&args.ledger, &options, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => {
            if report.ok {
                outln!("ok         {} receipts, {} bytes", report.receipts, report.bytes);
            } else {
                outln!("FAILED     first bad seq {}", report.first_bad_seq.map_or("-".into(), |s| s.to_string()));
            }
            outln!("head       seq {} hash {}", report.head_seq, report.head_hash);
            outln!("macs       {}", if report.macs_checked { "checked" } else { "not checked (no --key)" });
            outln!(
                "checkpoints {} in ledger, {} held, signatures {}",
                report.ledger_checkpoints,
                report.held_checkpoints,
                if report.checkpoint_signatures_checked { "checked" } else { "not checked (no --public-key)" }
            );
            let log = &report.log;
            outln!(
                "log        {}: {} tiles, {} notes checked ({} incident index), signatures {}, {} held notes consistent",
                log.origin.as_deref().unwrap_or("(no checkpoint note yet)"),
                log.tiles_checked,
                log.notes_checked,
                log.indexes_checked,
                if log.note_signatures_checked { "checked" } else { "not checked (no --public-key)" },
                log.since_checked
            );
            if report.superseded_checkpoints > 0 {
                outln!(
                    "superseded {} checkpoints whose receipts an operator cut (not compared)",
                    report.superseded_checkpoints
                );
            }
            if report.writer_active {
                outln!("writer     active ({} bytes in flight ignored)", report.in_flight_bytes);
            }
            for problem in &report.problems {
                let line = problem.line.map_or(String::new(), |l| format!(" line {l}"));
                outln!("problem    seq {}{line}: {:?}: {}", problem.seq, problem.kind, problem.message);
            }
        }
    }
    Ok(if report.ok { Exit::Ok } else { Exit::VerifyFailed })
}
