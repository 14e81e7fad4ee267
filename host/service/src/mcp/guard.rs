//! The `Host` and `Origin` checks of every HTTP route (`/mcp`, `/metrics`,
//! `/healthz`, and any route added later): DNS-rebinding protection. A request
//! whose `Host` is not allowed, or that carries an `Origin` that is not allowed,
//! gets `403 Forbidden` naming the header; a request without `Origin` (any
//! non-browser client) passes the Origin check, as the MCP specification asks.

use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse as _, Response};

/// The allow-lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// Allowed `Host` values: `name` (any port) or `name:port`.
    pub hosts: Vec<String>,
    /// Allowed `Origin` values: `scheme://host` (the scheme's default port),
    /// `scheme://host:port`, `scheme://host:*` (any port), or `null`.
    pub origins: Vec<String>,
}

/// The loopback names a local server answers to.
const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl Default for Guard {
    /// Loopback only: `Host` localhost, 127.0.0.1 or [::1] (any port), and the
    /// `http`/`https` origins of those names on any port.
    fn default() -> Guard {
        Guard {
            hosts: LOOPBACK.iter().map(|h| (*h).to_string()).collect(),
            origins: ["http", "https"]
                .iter()
                .flat_map(|scheme| LOOPBACK.iter().map(move |h| format!("{scheme}://{h}:*")))
                .collect(),
        }
    }
}

/// `host[:port]` → (lowercase host, port).
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let authority = authority.trim();
    if authority.is_empty() || authority.contains(['/', '@', ' ']) {
        return None;
    }
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        match rest.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if rest.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((host.to_ascii_lowercase(), port))
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl Guard {
    /// Whether a `Host` value is allowed.
    pub fn host_allowed(&self, value: &str) -> bool {
        let Some((host, port)) = split_authority(value) else { return false };
        self.hosts.iter().any(|allowed| match split_authority(allowed) {
            Some((name, None)) => name == host,
            Some((name, Some(p))) => name == host && port == Some(p),
            None => false,
        })
    }

    /// Whether an `Origin` value is allowed.
    pub fn origin_allowed(&self, value: &str) -> bool {
        if value == "null" {
            return self.origins.iter().any(|o| o == "null");
        }
        let Some((scheme, rest)) = value.split_once("://") else { return false };
        let scheme = scheme.to_ascii_lowercase();
        let Some((host, port)) = split_authority(rest) else { return false };
        let Some(port) = port.or_else(|| default_port(&scheme)) else { return false };
        self.origins.iter().any(|allowed| {
            let Some((s, rest)) = allowed.split_once("://") else { return false };
            if !s.eq_ignore_ascii_case(&scheme) {
                return false;
            }
            if let Some(name) = rest.strip_suffix(":*") {
                return name.eq_ignore_ascii_case(&host);
            }
            match split_authority(rest) {
                Some((name, p)) => name == host && p.or_else(|| default_port(&scheme)) == Some(port),
                None => false,
            }
        })
    }

    /// `Err(403)` naming the header when the request may not be served.
    pub(crate) fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Box<Response>> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| uri.authority().map(|a| a.as_str().to_string()));
        match host {
            Some(host) if self.host_allowed(&host) => {}
            Some(host) => {
                return Err(forbidden(format!(
                    "Host `{host}` is not allowed (this server answers to: {}; see --allow-host)",
                    self.hosts.join(", ")
                )));
            }
            None => return Err(forbidden("the request has no Host".into())),
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("<not text>");
            if !self.origin_allowed(origin) {
                return Err(forbidden(format!("Origin `{origin}` is not allowed (see --allow-origin)")));
            }
        }
        Ok(())
    }
}

fn forbidden(message: String) -> Box<Response> {
    Box::new(
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("forbidden: {message}\n"),
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_and_origins_pass_by_default_and_others_do_not() {
        let guard = Guard::default();
        for ok in ["localhost:7766", "127.0.0.1:1", "[::1]:80", "LOCALHOST"] {
            assert!(guard.host_allowed(ok), "{ok}");
        }
        for bad in ["evil.example:7766", "127.0.0.2", "", "[::1", "localhost:x"] {
            assert!(!guard.host_allowed(bad), "{bad}");
        }
        for ok in ["http://localhost:3000", "https://127.0.0.1", "http://[::1]:6274"] {
            assert!(guard.origin_allowed(ok), "{ok}");
        }
        for bad in ["http://evil.example", "null", "localhost:3000", "ftp://localhost:21"] {
            assert!(!guard.origin_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn explicit_ports_and_the_scheme_default_port() {
        let guard = Guard {
            hosts: vec!["andon.example:443".into()],
            origins: vec!["https://app.example".into(), "http://ops.example:8080".into()],
        };
        assert!(guard.host_allowed("andon.example:443"));
        assert!(!guard.host_allowed("andon.example:8443"));
        assert!(guard.origin_allowed("https://app.example"));
        assert!(guard.origin_allowed("https://app.example:443"));
        assert!(!guard.origin_allowed("https://app.example:444"));
        assert!(guard.origin_allowed("http://ops.example:8080"));
        assert!(!guard.origin_allowed("http://ops.example"));
    }
}
