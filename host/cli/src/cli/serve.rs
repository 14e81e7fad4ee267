//! `andon mcp` and `andon serve` arguments.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// What both servers need: bundles, trust, ledger, keys and governance.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// A signed bundle directory or `.tar.gz` archive to serve (repeatable; a
    /// submission goes to the first bundle that routes its kind).
    #[arg(long = "bundle", required = true)]
    pub bundles: Vec<PathBuf>,
    /// The trust policy every bundle must satisfy.
    #[arg(long)]
    pub trust: PathBuf,
    /// The ledger directory.
    #[arg(long)]
    pub ledger: PathBuf,
    /// The key directory (`hmac.key`, `ed25519.key`).
    #[arg(long)]
    pub keys: PathBuf,
    /// Where `export_incident` writes evidence bundles (default: `<ledger>/exports`).
    #[arg(long)]
    pub export_dir: Option<PathBuf>,
    /// Evaluations allowed to run at once (the doctrine's WIP limit).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    pub wip_limit: u16,
    /// Submissions allowed to wait; beyond this they are refused as `overloaded`
    /// with a receipt.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub queue_capacity: u32,
    /// Decision deadline of a severity, e.g. `critical=3m`, `low=500ms` (repeatable;
    /// default critical=3m high=8m medium=15m low=30m). Units: ms, s, m, h.
    #[arg(long = "sla", value_name = "SEVERITY=DURATION", value_parser = parse_sla)]
    pub sla: Vec<(andon_core::Severity, Duration)>,
}

/// Arguments of `andon mcp` (MCP over stdio).
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Server settings.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Arguments of `andon serve` (MCP over streamable HTTP, and `/metrics`).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; port 0 picks a free port, printed on stderr).
    #[arg(long, default_value = "127.0.0.1:7766")]
    pub listen: SocketAddr,
    /// Server settings.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Parses `ms`, `s`, `m` or `h` durations such as `250ms` or `3m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration like 250ms, 30s, 3m or 1h"))?;
    let millis = match unit {
        "ms" => n,
        "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        _ => return Err(format!("`{text}`: the unit must be ms, s, m or h")),
    };
    if millis == 0 {
        return Err(format!("`{text}`: a deadline must be positive"));
    }
    Ok(Duration::from_millis(millis))
}

fn parse_sla(text: &str) -> Result<(andon_core::Severity, Duration), String> {
    let (severity, duration) = text.split_once('=').ok_or_else(|| format!("`{text}` is not SEVERITY=DURATION"))?;
    let severity = andon_core::Severity::parse(severity)
        .ok_or_else(|| format!("`{severity}` is not a severity (critical, high, medium, low)"))?;
    Ok((severity, parse_duration(duration)?))
}
