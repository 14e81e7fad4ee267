//! Authentication and scopes on HTTP: who calls (`Authorization: Bearer`, or a
//! TLS client certificate), and whether their role allows the call.
//!
//! - No credentials on a protected route: `401` with
//!   `WWW-Authenticate: Bearer resource_metadata="…"` pointing at the RFC 9728
//!   metadata (`/.well-known/oauth-protected-resource`).
//! - A token that is not accepted: `401` with `error="invalid_token"` and why.
//! - A `tools/call` (or resource read) the principal's role does not allow: `403`
//!   with `error="insufficient_scope"` and the `scope` needed, body naming it.
//!
//! `/healthz` and the metadata are public. The principal is attached to the
//! request, and the MCP handler records it in every lifecycle receipt.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

use crate::auth::jwt::Verifier;
use crate::auth::tokens::Tokens;
use crate::auth::{MissingScope, Principal, Role};

/// The largest request body read before the scope check (bytes); larger bodies get
/// `413`. (An MCP message carries at most one 1 MiB evidence document.)
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The principal a verified TLS client certificate stands for, attached by the
/// TLS server to every request of the connection.
#[derive(Debug, Clone)]
pub struct ClientCertificate(pub Option<Principal>);

/// What `andon serve` accepts as credentials.
#[derive(Debug)]
pub struct Authenticator {
    /// Static tokens (hashes only).
    pub tokens: Option<Tokens>,
    /// JWT issuers.
    pub jwt: Option<Verifier>,
    /// This server's resource URL (the `/mcp` endpoint; the JWT audience).
    pub resource: String,
}

impl Authenticator {
    /// The URL of the protected-resource metadata: the resource's origin +
    /// `/.well-known/oauth-protected-resource`.
    pub fn metadata_url(&self) -> String {
        let origin = self.resource.split('/').take(3).collect::<Vec<_>>().join("/");
        format!("{origin}/.well-known/oauth-protected-resource")
    }

    /// The RFC 9728 metadata document.
    pub fn metadata(&self) -> Value {
        json!({
            "resource": self.resource,
            "authorization_servers": self.jwt.iter().flat_map(Verifier::issuers).collect::<Vec<_>>(),
            "scopes_supported": Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "bearer_methods_supported": ["header"],
            "resource_name": "Andon",
        })
    }

    fn challenge(&self, error: Option<(&str, &str)>, status: StatusCode, body: String) -> Response {
        let mut value = format!("Bearer resource_metadata=\"{}\"", self.metadata_url());
        if let Some((code, description)) = error {
            let description = description.replace(['"', '\\'], "'");
            value.push_str(&format!(", error=\"{code}\", error_description=\"{description}\""));
        }
        let mut response = (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }

    /// The principal of a request, or the 401 to answer.
    fn authenticate(&self, request: &Request) -> Result<Principal, Box<Response>> {
        let bearer = request.headers().get(header::AUTHORIZATION).map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .map(str::trim)
                .unwrap_or_default()
                .to_string()
        });
        let Some(token) = bearer else {
            if let Some(ClientCertificate(Some(principal))) = request.extensions().get::<ClientCertificate>() {
                return Ok(principal.clone());
            }
            return Err(Box::new(self.challenge(
                None,
                StatusCode::UNAUTHORIZED,
                "authentication required: send Authorization: Bearer <token>\n".into(),
            )));
        };
        if let Some(principal) = self.tokens.as_ref().and_then(|t| t.authenticate(&token)) {
            return Ok(principal);
        }
        let why = match &self.jwt {
            Some(verifier) if token.matches('.').count() == 2 => match verifier.verify(&token) {
                Ok(principal) => return Ok(principal),
                Err(rejected) => rejected.0,
            },
            _ => "the token is not known here".into(),
        };
        Err(Box::new(self.challenge(
            Some(("invalid_token", &why)),
            StatusCode::UNAUTHORIZED,
            format!("invalid token: {why}\n"),
        )))
    }

    fn insufficient(&self, missing: &MissingScope) -> Response {
        let mut response = self.challenge(
            Some(("insufficient_scope", &missing.to_string())),
            StatusCode::FORBIDDEN,
            format!("{missing}\n"),
        );
        let value = response.headers().get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).map(str::to_string);
        if let Some(value) =
            value.and_then(|v| HeaderValue::from_str(&format!("{v}, scope=\"{}\"", missing.scope)).ok())
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// What a JSON-RPC message asks that needs a role: the tool it calls, or reading.
fn needs(message: &Value) -> Option<String> {
    let method = message.get("method")?.as_str()?;
    match method {
        "tools/call" => Some(message.get("params")?.get("name")?.as_str()?.to_string()),
        "resources/read" | "resources/list" | "resources/templates/list" => Some(String::new()),
        _ => None,
    }
}

/// The middleware: public routes pass; others need a principal, and an MCP call
/// needs the role of the tool it calls.
pub(crate) async fn authenticate(auth: Option<Arc<Authenticator>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    // The log's checkpoint and tiles hold only hashes and signed notes: public, so
    // any monitor or witness can follow the log (docs/log.md).
    if path == "/healthz" || path.starts_with("/.well-known/") || path == "/checkpoint" || path.starts_with("/tile/") {
        return next.run(request).await;
    }
    let Some(auth) = auth else {
        let mut request = request;
        request.extensions_mut().insert(Principal::unauthenticated());
        return next.run(request).await;
    };
    let principal = match auth.authenticate(&request) {
        Ok(principal) => principal,
        Err(response) => return *response,
    };
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is over {MAX_BODY_BYTES} bytes\n"))
                .into_response();
        }
    };
    if !bytes.is_empty() {
        let messages = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Array(items)) => items,
            Ok(one) => vec![one],
            Err(_) => Vec::new(),
        };
        for message in &messages {
            let allowed = match needs(message) {
                Some(tool) if tool.is_empty() => principal.allows_reading(),
                Some(tool) => principal.allows_tool(&tool),
                None => Ok(()),
            };
            if let Err(missing) = allowed {
                tracing::warn!(principal = %principal.name(), "{missing}");
                return auth.insufficient(&missing);
            }
        }
    }
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(principal);
    next.run(request).await
}
