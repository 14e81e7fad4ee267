//! `andon keys generate`: a fresh HMAC key and Ed25519 key pair.

use andon_ledger::keys;

use super::print_json;
use crate::cli::Format;
use crate::cli::keys::{KeysArgs, KeysCommand};
use crate::exit::Exit;

pub fn run(args: &KeysArgs) -> anyhow::Result<Exit> {
    match &args.command {
        KeysCommand::Generate(args) => {
            let generated = keys::generate(&args.out)?;
            match args.format {
                Format::Json => print_json(&generated)?,
                Format::Text => {
                    outln!("hmac key     {} ({})", generated.hmac_key_id, generated.hmac_path.display());
                    outln!("ed25519 key  {} ({})", generated.ed25519_key_id, generated.signing_path.display());
                    outln!("public key   {}", generated.public_path.display());
                }
            }
            Ok(Exit::Ok)
        }
    }
}
