//! The MCP handler: every tool call's arguments are checked against the tool's
//! input schema first; receipts are served as resources.

use std::sync::Arc;

use rmcp::model::{
    CallToolResponse, Implementation, ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams,
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

#[tool_handler(router = self.tool_router)]
impl ServerHandler for AndonMcp {
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if let Some(validator) = self.inputs.get(request.name.as_ref()) {
            let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
            let problems: Vec<String> = validator
                .iter_errors(&arguments)
                .map(|e| {
                    let at = e.instance_path().to_string();
                    format!("{}: {e}", if at.is_empty() { "arguments".to_string() } else { format!("arguments{at}") })
                })
                .collect();
            if !problems.is_empty() {
                return Err(ErrorData::invalid_params(
                    format!("invalid arguments for `{}`: {}", request.name, problems.join("; ")),
                    None,
                ));
            }
        }
        let call = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
        self.tool_router.call(call).await
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::from_build_env())
            .with_instructions(
                "Andon decides incidents with content-hashed, sandboxed policy components and records every \
                 decision as a signed, hash-chained receipt. Submit an incident with submit_incident; a refusal \
                 is a lawful answer, not an error. Receipts are resources andon://receipts/<seq>.",
            )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let service = Arc::clone(&self.service);
        let recent = tokio::task::spawn_blocking(move || service.recent_receipts(LISTED_RECEIPTS))
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(ListResourcesResult::with_all_items(
            recent
                .into_iter()
                .map(|r| {
                    Resource::new(r.uri.clone(), format!("receipt {} ({})", r.seq, r.kind))
                        .with_description(format!("receipt seq {} hash {}", r.seq, r.hash))
                        .with_mime_type("application/json")
                })
                .collect(),
        ))
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
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let Some(seq) = parse_receipt_uri(&request.uri) else {
            return Err(ErrorData::resource_not_found(
                format!("unknown resource `{}`; receipts are andon://receipts/<seq>", request.uri),
                None,
            ));
        };
        let service = Arc::clone(&self.service);
        let line = tokio::task::spawn_blocking(move || service.receipt(seq))
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let Some(line) = line else {
            return Err(ErrorData::resource_not_found(format!("no receipt with seq {seq}"), None));
        };
        let text = String::from_utf8(line).map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let contents = match ResourceContents::text(text, request.uri) {
            ResourceContents::TextResourceContents { uri, text, meta, .. } => {
                ResourceContents::TextResourceContents { uri, mime_type: Some("application/json".into()), text, meta }
            }
            other => other,
        };
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}
