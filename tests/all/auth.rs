//! Authentication and roles of `andon serve` over real HTTP: static tokens (stored
//! as hashes) and JWT access tokens validated offline against an issuer's JWKS;
//! 401 with the RFC 9728 metadata pointer; 403 naming the missing scope; every
//! lifecycle receipt names its principal, in the ledger and in the export, and
//! `andon audit` still passes.

use std::io::Read as _;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::http_client::{Client, Mcp};
use crate::mcp_http::Server;
use crate::support::{Host, andon};

pub const ISSUER: &str = "https://issuer.test";

/// An Ed25519 JWT issuer made in the test: its JWKS file and a minting key.
pub struct Issuer {
    kid: String,
    pkcs8: Vec<u8>,
}

impl Issuer {
    pub fn new(seed: u8, kid: &str) -> Issuer {
        let seed = [seed; 32];
        let mut pkcs8 = hex::decode("302e020100300506032b657004220420").unwrap();
        pkcs8.extend_from_slice(&seed);
        Issuer { kid: kid.into(), pkcs8 }
    }

    pub fn jwks(&self) -> Value {
        let seed: [u8; 32] = self.pkcs8[16..].try_into().unwrap();
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public);
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]})
    }

    /// A signed token with `claims` merged over sensible ones (`exp` in an hour).
    pub fn token(&self, audience: &str, subject: &str, scope: &str, extra: Value) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let mut claims =
            json!({"iss": ISSUER, "sub": subject, "aud": audience, "scope": scope, "iat": now, "exp": now + 3600});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_ed_der(&self.pkcs8)).unwrap()
    }
}

/// Creates a token of `role` in the host's tokens file; (id, token).
pub fn create_token(host: &Host, role: &str) -> (String, String) {
    let out = andon()
        .args(["token", "create", "--role", role, "--label", "test", "--tokens"])
        .arg(host.path("tokens.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    (created["id"].as_str().unwrap().into(), created["token"].as_str().unwrap().into())
}

/// Writes the issuer's JWKS into the host and returns the `--jwt-issuer` value.
pub fn issuer_arg(host: &Host, issuer: &Issuer) -> String {
    let path = host.path("jwks.json");
    std::fs::write(&path, issuer.jwks().to_string()).unwrap();
    format!("{ISSUER}={}", path.display())
}

const APPROVAL: &str = r#"{"incident_id":"ID","kind":"approval_request","severity":"high","evidence":{"request":{"amount":1200000,"currency":"USD","threshold":1000000},"authorities":{"cfo_available":false,"board_available":true}}}"#;

pub fn approval(id: &str) -> Value {
    serde_json::from_str(&APPROVAL.replace("\"ID\"", &format!("\"{id}\""))).unwrap()
}

#[test]
fn the_tokens_file_keeps_only_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let out = andon()
        .args(["token", "create", "--role", "auditor", "--tokens"])
        .arg(dir.path().join("t.json"))
        .output()
        .unwrap();
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = created["token"].as_str().unwrap();
    let file = std::fs::read_to_string(dir.path().join("t.json")).unwrap();
    assert!(!file.contains(token) && file.contains("\"sha256\""), "{file}");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(dir.path().join("t.json")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn without_credentials_a_request_gets_401_pointing_at_the_metadata() {
    let host = Host::new();
    create_token(&host, "operator");
    let issuer = Issuer::new(7, "k1");
    let tokens = host.path("tokens.json");
    let server =
        Server::start(&host, &["--tokens", tokens.to_str().unwrap(), "--jwt-issuer", &issuer_arg(&host, &issuer)]);
    let client = Client::new(&server.url, None);
    let metadata_url = format!("{}/.well-known/oauth-protected-resource", server.base);
    let mut anonymous = Mcp::new(client.clone(), None);
    let r = anonymous.initialize();
    assert_eq!(r.status, 401, "{r:?}");
    let challenge = r.header("www-authenticate").unwrap();
    assert_eq!(challenge, format!("Bearer resource_metadata=\"{metadata_url}\""));
    assert_eq!(client.send("GET", "/metrics", &[], None).status, 401);
    assert_eq!(client.send("GET", "/healthz", &[], None).status, 200);
    let metadata = client.send("GET", "/.well-known/oauth-protected-resource", &[], None);
    assert_eq!(metadata.status, 200);
    let metadata: Value = serde_json::from_str(&metadata.body).unwrap();
    assert_eq!(metadata["resource"], json!(server.url));
    assert_eq!(metadata["authorization_servers"], json!([ISSUER]));
    assert_eq!(metadata["scopes_supported"], json!(["operator", "auditor", "admin"]));

    let mut unknown = Mcp::new(client, Some("andon_0000_not-a-token"));
    let r = unknown.initialize();
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().contains("error=\"invalid_token\""), "{r:?}");
}

#[test]
fn expired_wrong_audience_bad_signature_and_unknown_issuer_jwts_get_401() {
    let host = Host::new();
    let issuer = Issuer::new(7, "k1");
    let server = Server::start(&host, &["--jwt-issuer", &issuer_arg(&host, &issuer)]);
    let client = Client::new(&server.url, None);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let forger = Issuer::new(8, "k1");
    let cases = [
        ("expired", issuer.token(&server.url, "alice", "operator", json!({"exp": now - 3600})), "expired"),
        ("wrong audience", issuer.token("https://other.example/mcp", "alice", "operator", json!({})), "audience"),
        ("bad signature", forger.token(&server.url, "alice", "operator", json!({})), "signature"),
        (
            "unknown issuer",
            issuer.token(&server.url, "alice", "operator", json!({"iss": "https://evil.test"})),
            "not trusted",
        ),
        ("unknown key", Issuer::new(7, "k2").token(&server.url, "alice", "operator", json!({})), "no key"),
    ];
    for (what, token, why) in cases {
        let r = Mcp::new(client.clone(), Some(&token)).initialize();
        assert_eq!(r.status, 401, "{what}: {r:?}");
        let challenge = r.header("www-authenticate").unwrap();
        assert!(challenge.contains("error=\"invalid_token\"") && challenge.contains(why), "{what}: {challenge}");
        assert!(challenge.contains("resource_metadata="), "{what}: {challenge}");
    }
    let good = issuer.token(&server.url, "alice", "operator", json!({}));
    assert_eq!(Mcp::new(client, Some(&good)).initialize().status, 200);
}

#[test]
fn roles_hold_and_every_lifecycle_receipt_names_its_principal_through_export_and_audit() {
    let host = Host::new();
    let (operator_id, operator) = create_token(&host, "operator");
    let (_, auditor) = create_token(&host, "auditor");
    let issuer = Issuer::new(7, "k1");
    let tokens = host.path("tokens.json");
    let server =
        Server::start(&host, &["--tokens", tokens.to_str().unwrap(), "--jwt-issuer", &issuer_arg(&host, &issuer)]);
    let client = Client::new(&server.url, None);

    // The auditor reads but cannot submit: 403 naming the scope.
    let mut audit = Mcp::new(client.clone(), Some(&auditor));
    assert_eq!(audit.initialize().status, 200);
    let denied = audit.call("submit_incident", json!({"evidence": approval("ROLE-1")}));
    assert_eq!(denied.status, 403, "{denied:?}");
    let challenge = denied.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"operator\""),
        "{challenge}"
    );
    assert!(denied.body.contains("`operator` scope"), "{}", denied.body);
    for tool in ["record_outcome", "close_incident"] {
        assert_eq!(audit.call(tool, json!({"incident_id": "ROLE-1", "status": "executed"})).status, 403, "{tool}");
    }

    // The operator submits and records the outcome; a JWT operator closes.
    let mut op = Mcp::new(client.clone(), Some(&operator));
    assert_eq!(op.initialize().status, 200);
    let decided = op.ok("submit_incident", json!({"evidence": approval("ROLE-1")}));
    assert_eq!(decided["status"], json!("planned"), "{decided}");
    op.ok("record_outcome", json!({"incident_id": "ROLE-1", "status": "executed", "note": "done"}));
    // An operator cannot export: that is the auditor's.
    assert_eq!(op.call("export_incident", json!({"incident_id": "ROLE-1"})).status, 403);
    let jwt = issuer.token(&server.url, "carol@example", "operator", json!({}));
    let mut carol = Mcp::new(client.clone(), Some(&jwt));
    assert_eq!(carol.initialize().status, 200);
    carol.ok("close_incident", json!({"incident_id": "ROLE-1", "feedback": "worked"}));

    // The auditor reads, verifies and exports.
    let status = audit.ok("incident_status", json!({"incident_id": "ROLE-1"}));
    assert_eq!(status["status"], json!("closed"));
    assert_eq!(audit.ok("verify_ledger", json!({}))["ok"], json!(true));
    let exported = audit.ok("export_incident", json!({"incident_id": "ROLE-1"}));
    let path = std::path::PathBuf::from(exported["path"].as_str().unwrap());
    drop(server);

    let receipts: Vec<Value> =
        host.ledger_text().lines().filter(|l| l.starts_with('{')).map(|l| serde_json::from_str(l).unwrap()).collect();
    let by_kind = |kind: &str| receipts.iter().find(|r| r["kind"] == json!(kind)).unwrap_or_else(|| panic!("{kind}"));
    for kind in ["reported", "evaluated", "planned", "executed"] {
        let p = &by_kind(kind)["annotation"]["principal"];
        assert_eq!(p["method"], json!("token"), "{kind}: {p}");
        assert_eq!(p["subject"], json!(operator_id), "{kind}: {p}");
        assert_eq!(p["roles"], json!(["operator"]), "{kind}: {p}");
    }
    let closed = &by_kind("closed")["annotation"]["principal"];
    assert_eq!(closed["method"], json!("jwt"));
    assert_eq!(closed["issuer"], json!(ISSUER));
    assert_eq!(closed["subject"], json!("carol@example"));

    // The export carries the same receipts, and the audit passes.
    host.audit(&path).success().stdout(predicates::str::contains("verdict    PASS"));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()));
    let mut chain = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().ends_with("receipt-chain.jsonl") {
            entry.read_to_string(&mut chain).unwrap();
        }
    }
    assert!(chain.contains(&format!("\"subject\":\"{operator_id}\"")) && chain.contains("carol@example"), "{chain}");
}

/// One stateless (2026-07-28) tool call: no session, the method in headers.
fn stateless_call(client: &Client, token: &str, tool: &str, arguments: Value) -> crate::http_client::Response {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
    "name": tool, "arguments": arguments,
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }}});
    let bearer = format!("Bearer {token}");
    let headers = [
        ("Authorization", bearer.as_str()),
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", tool),
    ];
    client.send("POST", "/mcp", &headers, Some(&body.to_string()))
}

#[test]
fn roles_hold_on_the_stateless_protocol_revision_too() {
    let host = Host::new();
    let (operator_id, operator) = create_token(&host, "operator");
    let (_, auditor) = create_token(&host, "auditor");
    let tokens = host.path("tokens.json");
    let server = Server::start(&host, &["--tokens", tokens.to_str().unwrap()]);
    let client = Client::new(&server.url, None);
    let denied = stateless_call(&client, &auditor, "submit_incident", json!({"evidence": approval("SL-1")}));
    assert_eq!(denied.status, 403, "{denied:?}");
    let done = stateless_call(&client, &operator, "submit_incident", json!({"evidence": approval("SL-1")}));
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.answer()["result"]["structuredContent"]["status"], json!("planned"), "{done:?}");
    drop(server);
    let planned: Value = host
        .ledger_text()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["kind"] == json!("planned"))
        .unwrap();
    assert_eq!(planned["annotation"]["principal"]["subject"], json!(operator_id));
}
