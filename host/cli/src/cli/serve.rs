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
    /// A `Host` this server answers to besides loopback names: `name` (any port) or
    /// `name:port` (repeatable). Every other Host gets 403 (DNS-rebinding guard).
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,
    /// A browser `Origin` allowed besides loopback origins: `scheme://host`,
    /// `scheme://host:port` or `scheme://host:*` (repeatable). A request carrying
    /// any other Origin gets 403; requests without Origin pass.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Static bearer tokens (`andon token create`); stored as SHA-256 hashes.
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// A trusted OAuth issuer and its JSON Web Key Set file (repeatable): JWT
    /// access tokens it signs, for this server's audience (`--resource`), are accepted.
    #[arg(long = "jwt-issuer", value_name = "ISSUER=JWKS_FILE", value_parser = parse_issuer)]
    pub jwt_issuers: Vec<(String, PathBuf)>,
    /// This server's canonical MCP URL: the audience JWTs must carry, and the
    /// `resource` of /.well-known/oauth-protected-resource (default:
    /// `<scheme>://<listen address>/mcp`).
    #[arg(long, value_name = "URL")]
    pub resource: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (with `--tls-key`).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert`.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require TLS client certificates issued by this PEM CA (mTLS).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// The role of a client certificate, by the hex SHA-256 of its DER bytes
    /// (repeatable). A verified certificate that is not listed holds no role.
    #[arg(long = "client-cert-role", value_name = "SHA256=ROLE", value_parser = parse_cert_role)]
    pub client_cert_roles: Vec<(String, andon_service::auth::Role)>,
    /// Allow listening on a non-loopback address without TLS and authentication.
    /// Anyone who reaches the port can then act as every role: never in production.
    #[arg(long)]
    pub insecure_allow_plaintext: bool,
    /// Connections served at once; more are closed on accept.
    #[arg(long, default_value_t = andon_service::listener::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Time allowed for the TLS handshake and for each request head (slowloris guard).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// Time allowed for a request body once its head has arrived.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub body_timeout: Duration,
    /// Requests per second per principal, sustained (0: no limit); beyond it, 429.
    #[arg(long, default_value_t = andon_service::mcp::DEFAULT_RATE_PER_SECOND)]
    pub rate_limit: u32,
    /// Requests a principal may send at once above `--rate-limit`.
    #[arg(long, default_value_t = andon_service::mcp::DEFAULT_BURST)]
    pub rate_burst: u32,
    /// Server settings.
    #[command(flatten)]
    pub server: ServerArgs,
}

fn parse_issuer(text: &str) -> Result<(String, PathBuf), String> {
    let (issuer, path) = text.rsplit_once('=').ok_or_else(|| format!("`{text}` is not ISSUER=JWKS_FILE"))?;
    if issuer.is_empty() || path.is_empty() {
        return Err(format!("`{text}` is not ISSUER=JWKS_FILE"));
    }
    Ok((issuer.to_string(), PathBuf::from(path)))
}

fn parse_cert_role(text: &str) -> Result<(String, andon_service::auth::Role), String> {
    let (fingerprint, role) = text.split_once('=').ok_or_else(|| format!("`{text}` is not SHA256=ROLE"))?;
    if fingerprint.len() != 64 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("`{fingerprint}` is not a hex SHA-256"));
    }
    let role = andon_service::auth::Role::parse(role)
        .ok_or_else(|| format!("`{role}` is not a role (operator, auditor, admin)"))?;
    Ok((fingerprint.to_ascii_lowercase(), role))
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
