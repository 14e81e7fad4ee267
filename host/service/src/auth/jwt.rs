//! OAuth 2.1 access tokens as JWTs, validated offline against the JSON Web Key
//! Sets of configured issuers (read from files at start).
//!
//! A token is accepted when: its header names a `kid` found in the JWKS of the
//! issuer its `iss` claim names; its algorithm is asymmetric (RS*, PS*, ES*,
//! EdDSA; HMAC is refused) and fits the key; the signature verifies; `aud`
//! contains this server's resource URL; `exp` has not passed (60 s leeway) and
//! `nbf`, when present, has. Its roles are the recognised names in its `scope`
//! (space-separated) or `scp` (array) claim.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::{Method, Principal, Role};

/// The largest JWKS file read (bytes).
pub const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// A configuration problem (at start).
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The JWKS file could not be read.
    #[error("cannot read the JWKS of issuer `{issuer}` at {path}")]
    Io {
        /// The issuer.
        issuer: String,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a JWKS.
    #[error("the JWKS of issuer `{issuer}` at {path} is invalid: {reason}")]
    Invalid {
        /// The issuer.
        issuer: String,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Why a presented JWT was not accepted (said in `WWW-Authenticate`'s
/// `error_description`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

struct Issuer {
    keys: Vec<(Option<String>, DecodingKey, Option<Algorithm>)>,
}

/// The configured issuers and the audience tokens must carry.
pub struct Verifier {
    audience: String,
    issuers: BTreeMap<String, Issuer>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("audience", &self.audience)
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Unverified {
    iss: Option<String>,
}

impl Verifier {
    /// A verifier for tokens whose audience is `audience` (this server's resource
    /// URL), from `(issuer, JWKS file)` pairs.
    ///
    /// # Errors
    /// [`JwksError`] when a JWKS cannot be read or holds no usable key.
    pub fn load(audience: &str, issuers: &[(String, PathBuf)]) -> Result<Verifier, JwksError> {
        let mut map = BTreeMap::new();
        for (issuer, path) in issuers {
            map.insert(issuer.clone(), Self::issuer(issuer, path)?);
        }
        Ok(Verifier { audience: audience.into(), issuers: map })
    }

    fn issuer(issuer: &str, path: &Path) -> Result<Issuer, JwksError> {
        let invalid = |reason: String| JwksError::Invalid { issuer: issuer.into(), path: path.into(), reason };
        let bytes =
            std::fs::read(path).map_err(|source| JwksError::Io { issuer: issuer.into(), path: path.into(), source })?;
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(invalid(format!("over the limit of {MAX_JWKS_BYTES} bytes")));
        }
        let set: JwkSet = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(e.to_string()))?;
            let alg = jwk.common.key_algorithm.and_then(|a| a.to_string().parse::<Algorithm>().ok());
            keys.push((jwk.common.key_id.clone(), key, alg));
        }
        if keys.is_empty() {
            return Err(invalid("it holds no key".into()));
        }
        Ok(Issuer { keys })
    }

    /// The issuers, for the protected-resource metadata.
    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        self.issuers.keys().map(String::as_str)
    }

    /// Validates a presented token.
    ///
    /// # Errors
    /// [`Rejected`] saying why.
    pub fn verify(&self, token: &str) -> Result<Principal, Rejected> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| Rejected(format!("not a JWT: {e}")))?;
        if matches!(header.alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            return Err(Rejected("HMAC-signed tokens are not accepted".into()));
        }
        // Which issuer's keys to use: the (not yet verified) `iss` only selects the
        // key set; the signature and the `iss` check below decide.
        let unverified: Unverified = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|e| Rejected(format!("unreadable claims: {e}")))?;
        let iss = unverified.iss.ok_or_else(|| Rejected("the token has no `iss`".into()))?;
        let issuer = self.issuers.get(&iss).ok_or_else(|| Rejected(format!("issuer `{iss}` is not trusted here")))?;
        let candidates: Vec<&(Option<String>, DecodingKey, Option<Algorithm>)> = match &header.kid {
            Some(kid) => issuer.keys.iter().filter(|(id, _, _)| id.as_deref() == Some(kid.as_str())).collect(),
            None => issuer.keys.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(Rejected(format!("issuer `{iss}` has no key `{}`", header.kid.unwrap_or_default())));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&iss]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let mut last = Rejected("no key verified the token".into());
        for (_, key, alg) in candidates {
            if alg.is_some_and(|a| a != header.alg) {
                continue;
            }
            match jsonwebtoken::decode::<Claims>(token, key, &validation) {
                Ok(data) => return Ok(principal(data.claims)),
                Err(e) => last = Rejected(describe(&e)),
            }
        }
        Err(last)
    }
}

fn describe(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::InvalidAudience => "the token's audience is not this server".into(),
        ErrorKind::InvalidIssuer => "the token's issuer does not match".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no `{claim}`"),
        other => format!("invalid token: {other:?}"),
    }
}

fn principal(claims: Claims) -> Principal {
    let names: Vec<String> = match (claims.scope, claims.scp) {
        (Some(scope), _) => scope.split_whitespace().map(str::to_string).collect(),
        (None, Some(scp)) => scp,
        (None, None) => Vec::new(),
    };
    let mut roles: Vec<Role> = names.iter().filter_map(|n| Role::parse(n)).collect();
    roles.sort();
    roles.dedup();
    Principal { method: Method::Jwt, issuer: Some(claims.iss), subject: claims.sub, roles }
}
