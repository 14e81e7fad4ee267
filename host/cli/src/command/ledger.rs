//! `andon ledger checkpoint`.

use andon_ledger::keys;
use andon_ledger::ledger::{Ledger, Options};

use crate::cli::Format;
use crate::cli::ledger::{CheckpointArgs, LedgerArgs, LedgerCommand};
use crate::exit::Exit;

pub fn run(args: &LedgerArgs) -> anyhow::Result<Exit> {
    match &args.command {
        LedgerCommand::Checkpoint(args) => checkpoint(args),
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
