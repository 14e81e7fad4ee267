//! `andon token create | list | revoke`.

use andon_service::auth::Role;
use andon_service::auth::tokens::Tokens;
use serde_json::json;

use super::print_json;
use crate::cli::token::{RoleArg, TokenArgs, TokenCommand};
use crate::exit::Exit;

fn role(arg: RoleArg) -> Role {
    match arg {
        RoleArg::Operator => Role::Operator,
        RoleArg::Auditor => Role::Auditor,
        RoleArg::Admin => Role::Admin,
    }
}

pub fn run(args: &TokenArgs) -> anyhow::Result<Exit> {
    match &args.command {
        TokenCommand::Create(args) => {
            let path = &args.file.tokens;
            let mut tokens = Tokens::load(path)?;
            let (stored, token) = tokens.create(role(args.role), &args.label)?;
            tokens.save(path)?;
            print_json(&json!({ "id": stored.id, "role": stored.role, "label": stored.label, "token": token }))?;
            eprintln!("andon: the token is shown once; {} keeps only its SHA-256", path.display());
        }
        TokenCommand::List(args) => {
            let tokens = Tokens::load(&args.tokens)?;
            let listed: Vec<_> =
                tokens.tokens.iter().map(|t| json!({ "id": t.id, "role": t.role, "label": t.label })).collect();
            print_json(&json!({ "tokens": listed }))?;
        }
        TokenCommand::Revoke(args) => {
            let mut tokens = Tokens::load(&args.file.tokens)?;
            let revoked = tokens.revoke(&args.id)?;
            tokens.save(&args.file.tokens)?;
            print_json(&json!({ "revoked": revoked.id, "role": revoked.role }))?;
        }
    }
    Ok(Exit::Ok)
}
