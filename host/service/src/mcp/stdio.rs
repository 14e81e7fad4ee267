//! `andon mcp`'s framing on stdio: one JSON-RPC message per line, with the
//! answers rmcp's own reader does not give.
//!
//! - A line that is not JSON gets a `-32700` parse error (id `null`) and a
//!   warning on stderr; the session goes on.
//! - A line longer than [`MAX_LINE_BYTES`] is discarded without being held in
//!   memory and gets a `-32600` error saying so, instead of silence (its id cannot
//!   be known, so a client waiting for that id learns from the error and the log).
//!
//! Everything else is handed to the MCP server unchanged, and everything the
//! server writes goes to the output unchanged, one whole line at a time.

use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader, DuplexStream};
use tokio::sync::mpsc;

/// The longest message line accepted on stdio (16 MiB, the size rmcp accepts).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Room for a few messages in each direction between the framing and the server.
const PIPE_BYTES: usize = 256 * 1024;

/// What one bounded read of a line gave.
enum Line {
    /// A whole line (without its newline) is in the buffer.
    Whole,
    /// The line passed the limit and was discarded up to its newline.
    TooLong,
    /// The input ended.
    End,
}

/// Reads one `\n`-terminated line into `buf`, never holding more than `max`
/// bytes of it.
async fn read_line<R: AsyncRead + Unpin>(input: &mut BufReader<R>, buf: &mut Vec<u8>, max: usize) -> Line {
    buf.clear();
    let mut discarding = false;
    loop {
        let available = match input.fill_buf().await {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::error!("cannot read standard input: {e}");
                return Line::End;
            }
        };
        if available.is_empty() {
            // An unterminated last line is still a message.
            return if discarding {
                Line::TooLong
            } else if buf.is_empty() {
                Line::End
            } else {
                Line::Whole
            };
        }
        let (chunk, done) = match memchr(available) {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if !discarding {
            if buf.len() + chunk.len() > max {
                discarding = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(available.len());
        input.consume(used);
        if done.is_some() {
            return if discarding { Line::TooLong } else { Line::Whole };
        }
    }
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'\n')
}

fn error_line(code: i64, message: String) -> Vec<u8> {
    let mut line = serde_json::to_vec(&json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    }))
    .expect("a JSON value serializes");
    line.push(b'\n');
    line
}

/// Frames `input`/`output` for the MCP server: returns the (read, write) pair to
/// serve on, and spawns the two tasks that move lines (on the current runtime).
pub fn transport<R, W>(input: R, output: W, max_line_bytes: usize) -> (DuplexStream, DuplexStream)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (mut to_server, server_reads) = tokio::io::duplex(PIPE_BYTES);
    let (server_writes, from_server) = tokio::io::duplex(PIPE_BYTES);
    let (errors, mut error_lines) = mpsc::channel::<Vec<u8>>(16);
    tokio::spawn(async move {
        let mut input = BufReader::new(input);
        let mut line = Vec::new();
        loop {
            match read_line(&mut input, &mut line, max_line_bytes).await {
                Line::End => break,
                Line::TooLong => {
                    tracing::warn!(limit = max_line_bytes, "discarded a message line longer than the limit");
                    let message = format!(
                        "Invalid Request: a message line longer than the limit of {max_line_bytes} bytes was discarded"
                    );
                    if errors.send(error_line(-32600, message)).await.is_err() {
                        break;
                    }
                }
                Line::Whole => {
                    let text = line.strip_suffix(b"\r").unwrap_or(&line);
                    if text.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(text)
                        && (e.is_syntax() || e.is_eof())
                    {
                        tracing::warn!("unparseable message line on stdin: {e}");
                        if errors.send(error_line(-32700, format!("Parse error: {e}"))).await.is_err() {
                            break;
                        }
                        continue;
                    }
                    let mut framed = text.to_vec();
                    framed.push(b'\n');
                    if to_server.write_all(&framed).await.is_err() {
                        break;
                    }
                }
            }
        }
        // End of input: the server sees the end of its stream and finishes.
        let _ = to_server.shutdown().await;
    });
    tokio::spawn(async move {
        let mut output = output;
        let mut from_server = BufReader::new(from_server);
        let mut server_open = true;
        let mut errors_open = true;
        let mut line = Vec::new();
        while server_open || errors_open {
            let next = tokio::select! {
                read = from_server.read_until(b'\n', &mut line), if server_open => match read {
                    Ok(0) | Err(_) => { server_open = false; None }
                    Ok(_) => Some(std::mem::take(&mut line)),
                },
                error = error_lines.recv(), if errors_open => match error {
                    None => { errors_open = false; None }
                    some => some,
                },
            };
            if let Some(bytes) = next
                && (output.write_all(&bytes).await.is_err() || output.flush().await.is_err())
            {
                break;
            }
        }
    });
    (server_reads, server_writes)
}
