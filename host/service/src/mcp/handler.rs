//! The MCP handler: every tool call's arguments are checked against the tool's
//! input schema first (a violation is a tool error naming the member, so a model
//! can correct itself); a malformed `tools/call` and an unknown tool are protocol
//! errors (`-32602`) naming the problem; receipts are served as resources, newest
//! first, with cursor pagination.

use std::sync::Arc;

use rmcp::model::{
    CacheScope, CallToolResponse, CallToolResult, ContentBlock, CustomRequest, CustomResult, ErrorCode, Implementation,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProtocolVersion,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, tool_handler};
use serde_json::Value;

use super::{AndonMcp, LISTED_RECEIPTS};

fn parse_receipt_uri(uri: &str) -> Option<u64> {
    uri.strip_prefix("andon://receipts/")?.parse().ok()
}

/// The opaque cursor of the `resources/list` page that starts below receipt `seq`.
fn cursor_for(seq: u64) -> String {
    format!("receipts-before-{seq}")
}

/// The receipt sequence number a cursor of [`cursor_for`] names; `None` for
/// anything this server did not hand out.
fn parse_cursor(cursor: &str) -> Option<u64> {
    let seq: u64 = cursor.strip_prefix("receipts-before-")?.parse().ok()?;
    (seq >= 2 && cursor == cursor_for(seq)).then_some(seq)
}

/// One problem of a schema violation, with the valid values when the failing
/// part of the schema enumerates them (`enum`, or `oneOf`/`anyOf` of `const`s).
fn describe(schema: &Value, error: &jsonschema::ValidationError<'_>) -> String {
    let at = error.instance_path().to_string();
    let at = if at.is_empty() { "arguments".to_string() } else { format!("arguments{at}") };
    let values = resolve(schema, &error.schema_path().to_string()).map(enumerated).unwrap_or_default();
    if values.is_empty() {
        format!("{at}: {error}")
    } else {
        format!("{at}: {} is not one of the valid values {}", error.instance(), values.join(", "))
    }
}

/// The schema node at a validation error's schema path, following local `$ref`s.
fn resolve<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = root;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment == "$ref" {
            let target = node.get("$ref")?.as_str()?.strip_prefix('#')?;
            node = root.pointer(target)?;
            continue;
        }
        node = match node {
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            other => other.get(segment.replace("~1", "/").replace("~0", "~"))?,
        };
    }
    Some(node)
}

/// The values a schema node allows, when it enumerates them.
fn enumerated(node: &Value) -> Vec<String> {
    let alternatives = match node {
        Value::Array(items) => items.clone(),
        Value::Object(map) => match (map.get("enum"), map.get("oneOf").or_else(|| map.get("anyOf"))) {
            (Some(Value::Array(values)), _) => return values.iter().map(Value::to_string).collect(),
            (_, Some(Value::Array(items))) => items.clone(),
            _ => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    let mut values = Vec::new();
    for item in &alternatives {
        match (item.get("const"), item.get("enum")) {
            (Some(value), _) => values.push(value.to_string()),
            (None, Some(Value::Array(all))) => values.extend(all.iter().map(Value::to_string)),
            _ => return Vec::new(),
        }
    }
    values
}

/// Why the parameters of a `tools/call` did not make a call request.
fn malformed_call(params: Option<&Value>) -> String {
    let Some(params) = params else {
        return "tools/call needs params with a tool `name` (a string) and `arguments` (an object)".into();
    };
    let Some(object) = params.as_object() else {
        return format!("tools/call params must be an object, not {}", kind_of(params));
    };
    match object.get("name") {
        None => return "tools/call params have no tool `name`".into(),
        Some(Value::String(_)) => {}
        Some(other) => return format!("the tool `name` must be a string, not {}", kind_of(other)),
    }
    match object.get("arguments") {
        Some(Value::Object(_)) | Some(Value::Null) | None => "tools/call params are malformed".into(),
        Some(other) => format!("tool `arguments` must be an object, not {}", kind_of(other)),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn internal(e: impl std::fmt::Display) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for AndonMcp {
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some((validator, schema)) = self.inputs.get(request.name.as_ref()) else {
            let names: Vec<String> = self.tool_router.list_all().into_iter().map(|t| t.name.to_string()).collect();
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{}`; this server's tools are: {}", request.name, names.join(", ")),
                None,
            ));
        };
        let principal = super::principal_of(&context);
        if let Err(missing) = principal.allows_tool(request.name.as_ref()) {
            return Err(ErrorData::invalid_request(missing.to_string(), None));
        }
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        let problems: Vec<String> = validator.iter_errors(&arguments).map(|e| describe(schema, &e)).collect();
        if !problems.is_empty() {
            // Input validation failures are tool results (SEP-1303), so a model
            // sees them and can correct the call; nothing ran.
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "invalid arguments for `{}`: {}",
                request.name,
                problems.join("; ")
            ))])
            .into());
        }
        // One span per call, named after the MCP semantic conventions, carrying the
        // caller's W3C trace context from `_meta` (SEP-414) so logs join its trace.
        let span = tracing::info_span!(
            "mcp.tools.call",
            "mcp.method.name" = "tools/call",
            "gen_ai.tool.name" = %request.name,
            "enduser.id" = %principal.name(),
            traceparent = context.meta.get_traceparent().unwrap_or_default(),
        );
        let call = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
        tracing::Instrument::instrument(self.tool_router.call(call), span).await
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        // A `tools/call` whose params do not make a call request (no name, arguments
        // not an object) lands here rather than in `call_tool`.
        if request.method == "tools/call" {
            return Err(ErrorData::invalid_params(malformed_call(request.params.as_ref()), None));
        }
        Err(ErrorData::new(ErrorCode::METHOD_NOT_FOUND, format!("method not found: `{}`", request.method), None))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let cache_hints = context.protocol_version().is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        let mut result = ListToolsResult::with_all_items((*self.tools).clone());
        if cache_hints {
            result.ttl_ms = Some(0);
            result.cache_scope = Some(CacheScope::Public);
        }
        Ok(result)
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(
                Implementation::new("andon", env!("CARGO_PKG_VERSION"))
                    .with_title("Andon")
                    .with_description("Provable remediation: sandboxed, content-hashed WebAssembly policy components"),
            )
            .with_instructions(
                "Andon decides incidents with content-hashed, sandboxed policy components and records every \
                 decision as a signed, hash-chained receipt. Submit an incident with submit_incident; a refusal \
                 is a lawful answer, not an error. Receipts are resources andon://receipts/<seq>.",
            )
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        super::principal_of(&context).allows_reading().map_err(|e| ErrorData::invalid_request(e.to_string(), None))?;
        let before = match request.and_then(|r| r.cursor) {
            None => None,
            Some(cursor) => Some(parse_cursor(&cursor).ok_or_else(|| {
                ErrorData::invalid_params(
                    format!("invalid cursor `{cursor}`: use a nextCursor this server returned"),
                    None,
                )
            })?),
        };
        let service = Arc::clone(&self.service);
        let (page, next) = tokio::task::spawn_blocking(move || service.receipts_page(before, LISTED_RECEIPTS))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        // A cursor this server handed out names the seq just above the page it
        // starts (seqs run 1, 2, 3 … without gaps).
        if let Some(before) = before
            && page.first().map(|r| r.seq + 1) != Some(before)
        {
            return Err(ErrorData::invalid_params(
                format!("invalid cursor `{}`: use a nextCursor this server returned", cursor_for(before)),
                None,
            ));
        }
        let mut result = ListResourcesResult::with_all_items(
            page.into_iter()
                .map(|r| {
                    Resource::new(r.uri.clone(), format!("receipt {} ({})", r.seq, r.kind))
                        .with_description(format!("receipt seq {} hash {}", r.seq, r.hash))
                        .with_mime_type("application/json")
                })
                .collect(),
        );
        result.next_cursor = next.map(cursor_for);
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new("andon://receipts/{seq}", "receipt")
                .with_description("One receipt of the ledger by sequence number, as its canonical JSON line")
                .with_mime_type("application/json"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        super::principal_of(&context).allows_reading().map_err(|e| ErrorData::invalid_request(e.to_string(), None))?;
        let Some(seq) = parse_receipt_uri(&request.uri) else {
            return Err(ErrorData::resource_not_found(
                format!("unknown resource `{}`; receipts are andon://receipts/<seq>", request.uri),
                None,
            ));
        };
        let service = Arc::clone(&self.service);
        let line =
            tokio::task::spawn_blocking(move || service.receipt(seq)).await.map_err(internal)?.map_err(internal)?;
        let Some(line) = line else {
            return Err(ErrorData::resource_not_found(format!("no receipt with seq {seq}"), None));
        };
        let text = String::from_utf8(line).map_err(internal)?;
        let contents = match ResourceContents::text(text, request.uri) {
            ResourceContents::TextResourceContents { uri, text, meta, .. } => {
                ResourceContents::TextResourceContents { uri, mime_type: Some("application/json".into()), text, meta }
            }
            other => other,
        };
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bogus_ones_are_refused() {
        assert_eq!(parse_cursor(&cursor_for(42)), Some(42));
        for bogus in ["", "abc", "receipts-before-", "receipts-before-1", "receipts-before-007", "receipts-before--3"] {
            assert_eq!(parse_cursor(bogus), None, "{bogus}");
        }
    }

    #[test]
    fn a_malformed_call_is_named() {
        assert!(malformed_call(Some(&serde_json::json!({"arguments": {}}))).contains("no tool `name`"));
        assert!(malformed_call(Some(&serde_json::json!({"name": "x", "arguments": 5}))).contains("not a number"));
        assert!(malformed_call(Some(&serde_json::json!([1]))).contains("not an array"));
    }
}
