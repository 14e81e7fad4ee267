//! Static bearer tokens for small deployments, stored only as SHA-256 hashes.
//!
//! `andon token create --role operator --tokens tokens.json` draws 32 random
//! bytes, prints the token `andon_<id>_<secret>` once and stores
//! `{"id", "role", "sha256", "label"}`; the token itself is never written. A
//! request's token is found by its id and accepted when the SHA-256 of the whole
//! token matches (hashes are compared, so comparison time reveals nothing about
//! the token). The file (`andon.tokens/1`) is written atomically with mode 0600.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{Method, Principal, Role};

/// The `format` member of a tokens file.
pub const FORMAT: &str = "andon.tokens/1";

/// The largest tokens file read (bytes).
pub const MAX_TOKENS_FILE_BYTES: usize = 1024 * 1024;

/// A tokens file problem.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read or written.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a tokens file.
    #[error("{path} is not an {FORMAT} file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No random bytes.
    #[error("cannot draw random bytes: {0}")]
    Random(String),
    /// No token has this id.
    #[error("no token has the id `{0}`")]
    NoSuchToken(String),
}

/// One stored token: never the token, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// The token's id (also the first part of the token).
    pub id: String,
    /// The role it grants.
    pub role: Role,
    /// Hex SHA-256 of the whole token text.
    pub sha256: String,
    /// A free-form label (who holds it).
    #[serde(default)]
    pub label: String,
}

/// A tokens file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Always [`FORMAT`].
    pub format: String,
    /// The tokens.
    pub tokens: Vec<StoredToken>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn random(n: usize) -> Result<Vec<u8>, TokenError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(bytes)
}

impl Tokens {
    /// Reads a tokens file; a missing file is an empty set.
    ///
    /// # Errors
    /// [`TokenError::Io`] when it cannot be read, [`TokenError::Invalid`] when it
    /// is not a tokens file (or is over [`MAX_TOKENS_FILE_BYTES`]).
    pub fn load(path: &Path) -> Result<Tokens, TokenError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Tokens { format: FORMAT.into(), tokens: Vec::new() });
            }
            Err(source) => return Err(TokenError::Io { action: "read", path: path.into(), source }),
        };
        let invalid = |reason: String| TokenError::Invalid { path: path.into(), reason };
        if bytes.len() > MAX_TOKENS_FILE_BYTES {
            return Err(invalid(format!("over the limit of {MAX_TOKENS_FILE_BYTES} bytes")));
        }
        let tokens: Tokens = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        if tokens.format != FORMAT {
            return Err(invalid(format!("format is `{}`", tokens.format)));
        }
        Ok(tokens)
    }

    /// Writes the file atomically (temp file, fsync, rename), mode 0600.
    ///
    /// # Errors
    /// [`TokenError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), TokenError> {
        let io = |source| TokenError::Io { action: "write", path: path.into(), source };
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        let mut bytes = serde_json::to_vec_pretty(self).expect("tokens serialize");
        bytes.push(b'\n');
        std::io::Write::write_all(&mut file, &bytes).map_err(io)?;
        file.as_file().sync_all().map_err(io)?;
        file.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Adds a token for `role`; returns the token text, which is stored nowhere.
    ///
    /// # Errors
    /// [`TokenError::Random`].
    pub fn create(&mut self, role: Role, label: &str) -> Result<(StoredToken, String), TokenError> {
        let id = hex::encode(random(6)?);
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random(32)?);
        let token = format!("andon_{id}_{secret}");
        let stored = StoredToken { id, role, sha256: sha256_hex(token.as_bytes()), label: label.into() };
        self.format = FORMAT.into();
        self.tokens.push(stored.clone());
        Ok((stored, token))
    }

    /// Removes the token `id`.
    ///
    /// # Errors
    /// [`TokenError::NoSuchToken`].
    pub fn revoke(&mut self, id: &str) -> Result<StoredToken, TokenError> {
        let at = self.tokens.iter().position(|t| t.id == id).ok_or_else(|| TokenError::NoSuchToken(id.into()))?;
        Ok(self.tokens.remove(at))
    }

    /// The principal a presented token stands for, if it is one of these.
    pub fn authenticate(&self, token: &str) -> Option<Principal> {
        let id = token.strip_prefix("andon_")?.split('_').next()?;
        let hash = sha256_hex(token.as_bytes());
        let stored = self.tokens.iter().find(|t| t.id == id && t.sha256 == hash)?;
        Some(Principal { method: Method::Token, issuer: None, subject: stored.id.clone(), roles: vec![stored.role] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_token_authenticates_and_only_its_hash_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let mut tokens = Tokens::load(&path).unwrap();
        let (stored, token) = tokens.create(Role::Auditor, "ci").unwrap();
        tokens.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&token) && !text.contains(token.rsplit('_').next().unwrap()));
        let tokens = Tokens::load(&path).unwrap();
        let principal = tokens.authenticate(&token).unwrap();
        assert_eq!(
            (principal.subject.as_str(), principal.roles.as_slice()),
            (stored.id.as_str(), &[Role::Auditor][..])
        );
        assert!(tokens.authenticate(&format!("{token}x")).is_none());
        assert!(tokens.authenticate("andon_nope_x").is_none());
    }
}
