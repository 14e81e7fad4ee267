//! A small HTTP/1.1 client over TCP or TLS (rustls, the test CA as the only root),
//! and an MCP session over it: enough to see exactly what `andon serve` answers
//! (status, `WWW-Authenticate`, `Retry-After`, bodies), no mocks.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Response {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The JSON-RPC messages of the body (plain JSON, or `data:` lines of an event stream).
    pub fn messages(&self) -> Vec<Value> {
        if let Ok(value) = serde_json::from_str::<Value>(&self.body) {
            return vec![value];
        }
        self.body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    }

    /// The message that answers a request (has an id and a result or error).
    pub fn answer(&self) -> Value {
        self.messages()
            .into_iter()
            .find(|m| m.get("id").is_some() && (m.get("result").is_some() || m.get("error").is_some()))
            .unwrap_or_else(|| panic!("no JSON-RPC answer in: {} {}\n{}", self.status, self.head, self.body))
    }
}

/// Where to send requests.
#[derive(Clone)]
pub struct Client {
    /// `host:port`.
    pub authority: String,
    /// TLS, when the server is HTTPS.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

impl Client {
    /// A client of `url` (`http://…` or `https://…`; the path is ignored).
    pub fn new(url: &str, tls: Option<Arc<rustls::ClientConfig>>) -> Client {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split('/').next().unwrap().to_string();
        Client { authority, tls }
    }

    /// One request; `Err` when the connection fails (refused, TLS handshake).
    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> std::io::Result<Response> {
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.authority);
        if let Some(body) = body {
            request.push_str(&format!(
                "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body.unwrap_or_default());
        let tcp = TcpStream::connect(&self.authority)?;
        tcp.set_read_timeout(Some(Duration::from_secs(120)))?;
        let mut raw = Vec::new();
        match &self.tls {
            None => {
                let mut tcp = tcp;
                tcp.write_all(request.as_bytes())?;
                tcp.read_to_end(&mut raw)?;
            }
            Some(config) => {
                let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
                let connection =
                    rustls::ClientConnection::new(Arc::clone(config), name).map_err(std::io::Error::other)?;
                let mut stream = rustls::StreamOwned::new(connection, tcp);
                stream.write_all(request.as_bytes())?;
                stream.flush()?;
                match stream.read_to_end(&mut raw) {
                    Ok(_) => {}
                    // A server that closes without close_notify after a full response.
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body =
            if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.into() };
        Ok(Response { status, head: head.to_string(), body })
    }

    /// One request that must get a response.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Response {
        self.try_send(method, path, headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }
}

/// An MCP session over streamable HTTP, with an optional bearer token.
pub struct Mcp {
    pub client: Client,
    pub token: Option<String>,
    session: Option<String>,
    next_id: u64,
}

impl Mcp {
    /// A session that has not initialized yet.
    pub fn new(client: Client, token: Option<&str>) -> Mcp {
        Mcp { client, token: token.map(str::to_string), session: None, next_id: 0 }
    }

    /// POSTs one JSON-RPC message to `/mcp`.
    pub fn post(&mut self, message: &Value) -> Response {
        let bearer = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(b) = &bearer {
            headers.push(("Authorization", b));
        }
        if let Some(s) = &self.session {
            headers.push(("Mcp-Session-Id", s));
            headers.push(("MCP-Protocol-Version", "2025-11-25"));
        }
        let response = self.client.send("POST", "/mcp", &headers, Some(&message.to_string()));
        if let Some(session) = response.header("mcp-session-id") {
            self.session = Some(session);
        }
        response
    }

    /// Initializes; the `initialize` response.
    pub fn initialize(&mut self) -> Response {
        let response = self.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}),
        );
        if response.status == 200 {
            let r = self.post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
            assert!(r.status < 300, "notifications/initialized: {r:?}");
        }
        response
    }

    /// One request.
    pub fn request(&mut self, method: &str, params: Value) -> Response {
        self.next_id += 1;
        self.post(&json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}))
    }

    /// One tool call.
    pub fn call(&mut self, tool: &str, arguments: Value) -> Response {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// One tool call that must succeed; its structured content.
    pub fn ok(&mut self, tool: &str, arguments: Value) -> Value {
        let response = self.call(tool, arguments);
        assert_eq!(response.status, 200, "{tool}: {response:?}");
        let answer = response.answer();
        assert_ne!(answer["result"]["isError"], json!(true), "{tool}: {answer}");
        answer["result"]["structuredContent"].clone()
    }
}
