//! Command handlers: call the library, print, return the exit code.

mod bundle;
mod demo;
mod eval;
mod incident;
mod inspect;
mod keys;
mod ledger;
mod log;
mod replay;
mod serve;
mod token;
mod verify;

use std::path::Path;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Eval(args) => eval::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Bundle(args) => bundle::run(&args),
        Command::Incident(args) => incident::run(&args),
        Command::Export(args) => incident::export_cmd(&args),
        Command::Audit(args) => incident::audit_cmd(&args),
        Command::Report(args) => incident::report_cmd(&args),
        Command::Keys(args) => keys::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Ledger(args) => ledger::run(&args),
        Command::Checkpoint(args) => log::checkpoint(&args),
        Command::Prove(args) => log::prove(&args),
        Command::Consistency(args) => log::consistency(&args),
        Command::Witness(args) => log::witness(&args),
        Command::Cosigned(args) => log::cosigned(&args),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "andon", &mut script);
            crate::output::write_bytes(&script);
            Ok(Exit::Ok)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)?;
            crate::output::write_bytes(&page);
            Ok(Exit::Ok)
        }
        Command::Mcp(args) => serve::mcp(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Token(args) => token::run(&args),
    }
}

/// Reads a file (or stdin for `-`), naming it in the error, and never more than
/// `limit` bytes (see `andon_core::evidence::read_capped`).
pub fn read_input(path: &Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        return Ok(andon_core::evidence::read_capped(std::io::stdin().lock(), "standard input", limit)?);
    }
    Ok(andon_core::evidence::read_file_capped(path, limit)?)
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints a decision for a person: a plan's recipe and every step with its
/// parameters, a refusal's reason, missing prerequisites, next lawful step and
/// policy, then every check analyzed (failed ones marked).
pub fn print_decision(decision: &andon_core::Decision) {
    use andon_core::Decision;
    match decision {
        Decision::Pass { .. } => {}
        Decision::Plan { plan } => {
            outln!("recipe     {}", plan.recipe_id);
            for (i, step) in plan.steps.iter().enumerate() {
                let params: Vec<String> = step.parameters.iter().map(|p| format!("{}={}", p.name, p.value)).collect();
                outln!("  step {}: {} {}", i + 1, step.action, params.join(" "));
            }
            for outcome in &plan.expected_outcomes {
                outln!("expect     {outcome}");
            }
            for check in &plan.quality_checks {
                outln!("quality    {check}");
            }
        }
        Decision::Refused { refusal } => {
            outln!("reason     {}", refusal.reason);
            for m in &refusal.missing {
                outln!("missing    {} ({})", m.name, m.status);
            }
            outln!("next step  {}", refusal.next_lawful_step);
            outln!("policy     {}", refusal.policy_reference);
        }
    }
    for check in decision.checks() {
        outln!("  [{}] {}: {}", if check.passed { "pass" } else { "FAIL" }, check.name, check.detail);
    }
}
