//! `andon serve` over real HTTPS: a test CA, a server certificate and a client
//! certificate made in the test with `rcgen`; a bearer-token session over TLS;
//! a client certificate (mTLS) mapped to a role and named in receipts; plaintext
//! on a non-loopback address refused without `--insecure-allow-plaintext`.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::auth::{approval, create_token};
use crate::http_client::{Client, Mcp};
use crate::mcp_http::Server;
use crate::support::{Host, andon};

/// A CA, a server certificate for localhost/127.0.0.1 and a client certificate,
/// written as PEM files into the host.
pub struct Pki {
    pub ca_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
    pub client_fingerprint: String,
}

impl Pki {
    pub fn new(host: &Host) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "Andon test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().unwrap();
        let mut server = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer).unwrap();

        let client_key = KeyPair::generate().unwrap();
        let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
        client.distinguished_name.push(DnType::CommonName, "operator-bot");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &issuer).unwrap();

        std::fs::write(host.path("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(host.path("server.pem"), server_cert.pem()).unwrap();
        std::fs::write(host.path("server.key"), server_key.serialize_pem()).unwrap();
        Pki {
            ca_pem: ca_cert.pem(),
            client_fingerprint: hex::encode(Sha256::digest(client_cert.der())),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        }
    }

    /// The `andon serve` options of TLS with this PKI.
    pub fn server_args(host: &Host) -> Vec<String> {
        ["--tls-cert", "server.pem", "--tls-key", "server.key"]
            .chunks(2)
            .flat_map(|p| [p[0].to_string(), host.path(p[1]).display().to_string()])
            .collect()
    }

    /// A client trusting only the test CA; with the client certificate when `mtls`.
    pub fn client_config(&self, mtls: bool) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).unwrap()).unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = if mtls {
            let chain = vec![CertificateDer::from_pem_slice(self.client_cert_pem.as_bytes()).unwrap()];
            let key = PrivateKeyDer::from_pem_slice(self.client_key_pem.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        } else {
            builder.with_no_client_auth()
        };
        Arc::new(config)
    }
}

fn start(host: &Host, extra: &[&str]) -> Server {
    let mut args: Vec<String> = Pki::server_args(host);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(host, &args)
}

#[test]
fn a_bearer_token_session_over_https_and_plain_http_is_not_answered() {
    let host = Host::new();
    let pki = Pki::new(&host);
    let (_, operator) = create_token(&host, "operator");
    let tokens = host.path("tokens.json");
    let server = start(&host, &["--tokens", tokens.to_str().unwrap()]);
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    let client = Client::new(&server.url, Some(pki.client_config(false)));
    let mut none = Mcp::new(client.clone(), None);
    assert_eq!(none.initialize().status, 401);
    let mut op = Mcp::new(client.clone(), Some(&operator));
    let init = op.initialize();
    assert_eq!(init.status, 200, "{init:?}");
    assert_eq!(init.answer()["result"]["serverInfo"]["name"], json!("andon"));
    let decided = op.ok("submit_incident", json!({"evidence": approval("TLS-1")}));
    assert_eq!(decided["status"], json!("planned"));
    // The same port does not speak plain HTTP.
    let plain = Client::new(&server.url.replace("https", "http"), None);
    let answered = plain.try_send("GET", "/healthz", &[], None).map(|r| r.status).unwrap_or(0);
    assert_ne!(answered, 200);
    // A client that does not trust the CA fails the handshake.
    let stranger = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    assert!(Client::new(&server.url, Some(Arc::new(stranger))).try_send("GET", "/healthz", &[], None).is_err());
}

#[test]
fn a_client_certificate_is_mapped_to_its_role_and_named_in_receipts() {
    let host = Host::new();
    let pki = Pki::new(&host);
    let role = format!("{}=operator", pki.client_fingerprint);
    let ca = host.path("ca.pem");
    let server = start(&host, &["--client-ca", ca.to_str().unwrap(), "--client-cert-role", &role]);
    let mut bot = Mcp::new(Client::new(&server.url, Some(pki.client_config(true))), None);
    assert_eq!(bot.initialize().status, 200);
    let decided = bot.ok("submit_incident", json!({"evidence": approval("MTLS-1")}));
    assert_eq!(decided["status"], json!("planned"), "{decided}");
    // Without a certificate (and without a token): 401.
    let mut anonymous = Mcp::new(Client::new(&server.url, Some(pki.client_config(false))), None);
    assert_eq!(anonymous.initialize().status, 401);
    drop(server);
    let reported: Value = host
        .ledger_text()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["kind"] == json!("reported"))
        .unwrap();
    let principal = &reported["annotation"]["principal"];
    assert_eq!(principal["method"], json!("mtls"));
    assert_eq!(principal["subject"], json!(format!("sha256:{}", pki.client_fingerprint)));
    assert_eq!(principal["roles"], json!(["operator"]));
}

#[test]
fn plaintext_on_a_non_loopback_address_is_refused_unless_explicitly_allowed() {
    let host = Host::new();
    let out = andon().args(["serve", "--listen", "0.0.0.0:0"]).args(host.server_args()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("refusing to listen on the non-loopback address 0.0.0.0:0 without TLS"), "{stderr}");
    // TLS alone is not enough: authentication too.
    Pki::new(&host);
    let out = andon()
        .args(["serve", "--listen", "0.0.0.0:0"])
        .args(Pki::server_args(&host))
        .args(host.server_args())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("without authentication"), "{stderr}");
    // With the flag it listens, loudly.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("andon"))
        .args(["serve", "--listen", "0.0.0.0:0", "--insecure-allow-plaintext"])
        .args(host.server_args())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() == 0 {
            break;
        }
        seen.push_str(&line);
        if line.starts_with("andon: listening on") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.contains("WARNING listening on 0.0.0.0:") && seen.contains("act in every role"), "{seen}");
    assert!(seen.contains("andon: listening on http://0.0.0.0:"), "{seen}");
}

#[test]
fn the_python_mcp_sdk_completes_a_session_over_https_with_a_bearer_token() {
    let python = crate::support::python();
    let host = Host::new();
    Pki::new(&host);
    let (_, admin) = create_token(&host, "admin");
    let tokens = host.path("tokens.json");
    let server = start(&host, &["--tokens", tokens.to_str().unwrap()]);
    // The Python client checks the certificate's name: localhost.
    let url = server.url.replace("127.0.0.1", "localhost");
    let out = std::process::Command::new(&python)
        .env_remove("PYTHONPATH")
        .arg(crate::support::root().join("tests/python/mcp_http_client.py"))
        .arg(&url)
        .arg(host.path("ca.pem"))
        .arg(&admin)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the Python MCP client failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["status"], json!("planned"), "{summary}");
}
