//! `andon ledger checkpoint`, `andon ledger repair`.

use andon_ledger::keys;
use andon_ledger::ledger::{Ledger, Options};

use crate::cli::Format;
use crate::cli::ledger::{CheckpointArgs, LedgerArgs, LedgerCommand, RepairArgs};
use crate::exit::Exit;

pub fn run(args: &LedgerArgs) -> anyhow::Result<Exit> {
    match &args.command {
        LedgerCommand::Checkpoint(args) => checkpoint(args),
        LedgerCommand::Repair(args) => repair(args),
    }
}

fn checkpoint(args: &CheckpointArgs) -> anyhow::Result<Exit> {
    let key = keys::load_hmac_key(&args.key)?;
    let signing_key = keys::load_signing_key(&args.signing_key)?;
    let options = Options { signing_key: Some(signing_key), ..Options::default() };
    let mut ledger = Ledger::open(&args.ledger, key, options)?;
    let checkpoint = ledger.checkpoint()?;
    match args.format {
        // The canonical line, ready to be kept as a held checkpoint.
        Format::Json => crate::output::write_bytes(&checkpoint.to_line()),
        Format::Text => {
            outln!("seq        {}", checkpoint.seq);
            outln!("head hash  {}", checkpoint.head_hash);
            outln!("key id     {}", checkpoint.key_id);
            outln!("signature  {}", checkpoint.signature);
        }
    }
    Ok(Exit::Ok)
}

fn repair(args: &RepairArgs) -> anyhow::Result<Exit> {
    let key = keys::load_hmac_key(&args.key)?;
    let signing_key = keys::load_signing_key(&args.signing_key)?;
    let options = Options { signing_key: Some(signing_key), ..Options::default() };
    if !args.ledger.join(andon_ledger::ledger::RECEIPTS_FILE).is_file() {
        return Err(andon_ledger::ledger::LedgerError::NotALedger { path: args.ledger.clone() }.into());
    }
    let ledger = match args.cut_checkpointed_from {
        Some(seq) => Ledger::open_cutting_checkpointed(&args.ledger, key, options, seq)?,
        None => Ledger::open(&args.ledger, key, options)?,
    };
    let mut ledger = ledger;
    let tiles_rebuilt = ledger.rebuild_tiles()?;
    let repair = ledger.repaired();
    match args.format {
        Format::Json => crate::command::print_json(&serde_json::json!({
            "ledger": args.ledger.display().to_string(),
            "repaired": repair.is_some(),
            "repair": repair,
            "tiles_rebuilt": tiles_rebuilt,
            "head_seq": ledger.seq(),
            "head_hash": ledger.head_hash(),
        }))?,
        Format::Text => match repair {
            Some(r) => {
                outln!("repaired   {} bytes cut after seq {}: {}", r.bytes_removed, r.last_good_seq, r.reason);
                outln!("receipt    ledger_repaired at seq {} hash {}", ledger.seq(), ledger.head_hash());
            }
            None => outln!("ok         nothing to repair; head seq {} hash {}", ledger.seq(), ledger.head_hash()),
        },
    }
    if tiles_rebuilt && args.format == Format::Text {
        outln!("tiles      did not match the receipts: rebuilt (the old ones kept as tiles.superseded-<n>)");
    }
    Ok(Exit::Ok)
}
