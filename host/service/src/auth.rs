//! Who is calling, and what they may do: the doctrine's roles on the network face.
//!
//! | role (scope) | may call |
//! |---|---|
//! | `operator` | `submit_incident`, `record_outcome`, `close_incident`, and everything read-only below |
//! | `auditor` | `export_incident`, `verify_ledger`, `replay_receipt`, and everything read-only below |
//! | `admin` | everything (governance) |
//! | any role | `list_bundles`, `list_recipes`, `incident_status`, receipt resources |
//!
//! A [`Principal`] is established per HTTP request by the authenticator (a static
//! token, a JWT access token, or a client certificate); `andon mcp` on stdio is
//! local and trusted ([`Principal::local`]). Every lifecycle receipt a principal
//! causes names it in `annotation.principal` ([`Principal::annotation`]).

pub mod jwt;
pub mod tokens;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A role, which is also the OAuth scope that grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Submits incidents, records outcomes, closes incidents.
    Operator,
    /// Reads, exports, replays and verifies; changes nothing.
    Auditor,
    /// Governs capacity and bundles; may call every tool.
    Admin,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 3] = [Role::Operator, Role::Auditor, Role::Admin];

    /// The role's name, which is its scope.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role a tool needs; `None` for the read-only tools every role may call.
pub fn required_role(tool: &str) -> Option<Role> {
    match tool {
        "submit_incident" | "record_outcome" | "close_incident" => Some(Role::Operator),
        "export_incident" | "verify_ledger" | "replay_receipt" => Some(Role::Auditor),
        _ => None,
    }
}

/// A call refused for want of a scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("insufficient scope: `{action}` needs the `{scope}` scope (role), which `{principal}` does not hold")]
pub struct MissingScope {
    /// What was attempted.
    pub action: String,
    /// The scope it needs.
    pub scope: Role,
    /// Who attempted it.
    pub principal: String,
}

/// How a principal was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// `andon mcp` on stdio: the local user who started the process.
    Local,
    /// HTTP without authentication (`andon serve` on loopback with no credentials configured).
    Unauthenticated,
    /// A static bearer token (`andon token create`).
    Token,
    /// A JWT access token of a configured issuer.
    Jwt,
    /// A TLS client certificate.
    Mtls,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// How it was established.
    pub method: Method,
    /// The issuer (JWT `iss`, or the client certificate's issuer); `None` for
    /// static tokens and local callers.
    pub issuer: Option<String>,
    /// Who: the JWT `sub`, the static token's id, the certificate's subject.
    pub subject: String,
    /// The roles it holds.
    pub roles: Vec<Role>,
}

impl Principal {
    /// The local, trusted caller of `andon mcp` on stdio: every role.
    pub fn local() -> Principal {
        Principal { method: Method::Local, issuer: None, subject: "stdio".into(), roles: Role::ALL.to_vec() }
    }

    /// Any caller of an `andon serve` that has no credentials configured (loopback
    /// only): every role, recorded as unauthenticated.
    pub fn unauthenticated() -> Principal {
        Principal {
            method: Method::Unauthenticated,
            issuer: None,
            subject: "anonymous".into(),
            roles: Role::ALL.to_vec(),
        }
    }

    /// Whether it holds `role` (an admin holds every role).
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role) || self.roles.contains(&Role::Admin)
    }

    /// A short name for messages and logs: `issuer#subject`, or the subject.
    pub fn name(&self) -> String {
        match &self.issuer {
            Some(issuer) => format!("{issuer}#{}", self.subject),
            None => self.subject.clone(),
        }
    }

    /// Whether it may call `tool`.
    ///
    /// # Errors
    /// [`MissingScope`] naming the scope the tool needs.
    pub fn allows_tool(&self, tool: &str) -> Result<(), MissingScope> {
        match required_role(tool) {
            Some(role) if !self.has(role) => {
                Err(MissingScope { action: tool.into(), scope: role, principal: self.name() })
            }
            Some(_) => Ok(()),
            None => self.allows_reading().map_err(|mut e| {
                e.action = tool.into();
                e
            }),
        }
    }

    /// Whether it may read (list tools, status, receipt resources): any role.
    ///
    /// # Errors
    /// [`MissingScope`] when it holds no role at all.
    pub fn allows_reading(&self) -> Result<(), MissingScope> {
        if self.roles.is_empty() {
            return Err(MissingScope { action: "read".into(), scope: Role::Auditor, principal: self.name() });
        }
        Ok(())
    }

    /// The `annotation.principal` member of the receipts it causes.
    pub fn annotation(&self) -> Value {
        json!({
            "method": self.method,
            "issuer": self.issuer,
            "subject": self.subject,
            "roles": self.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_auditor_reads_but_cannot_submit() {
        let auditor =
            Principal { method: Method::Token, issuer: None, subject: "t1".into(), roles: vec![Role::Auditor] };
        assert!(auditor.allows_tool("verify_ledger").is_ok());
        assert!(auditor.allows_tool("incident_status").is_ok());
        let denied = auditor.allows_tool("submit_incident").unwrap_err();
        assert_eq!(denied.scope, Role::Operator);
        assert!(denied.to_string().contains("`operator` scope"), "{denied}");
        let admin = Principal { roles: vec![Role::Admin], ..auditor };
        assert!(admin.allows_tool("submit_incident").is_ok());
    }
}
