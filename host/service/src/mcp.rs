//! The Model Context Protocol face of the [`Service`]: `andon mcp` (stdio) and
//! `andon serve` (streamable HTTP, plus Prometheus `/metrics`).
//!
//! Every tool has an input and an output JSON Schema and returns structured
//! content. A policy refusal (and a capacity refusal) is a *successful* result
//! whose `status` says `refused` (or `overloaded`); a tool error (`isError`) means
//! a genuine failure — bad evidence, an unknown incident, an illegal transition, a
//! ledger failure; unknown tools and malformed arguments are protocol errors.
//! Receipts are resources: `andon://receipts/<seq>`. See `docs/mcp.md`.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, Implementation, ListResourceTemplatesResult, ListResourcesResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Json, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::service::{Decided, GovernanceStatus, ReceiptRef, Service, ServiceError};
use andon_work::incident::ExecutionStatus;

/// How many receipts `resources/list` lists (the newest); older ones are read by URI.
pub const LISTED_RECEIPTS: usize = 100;

/// A tool's failure: a tool error (`isError: true`, text naming the problem) or a
/// protocol error.
#[derive(Debug)]
pub enum Fail {
    /// A genuine failure of the operation, reported as a tool error.
    Tool(String),
    /// A protocol error (malformed arguments).
    Protocol(ErrorData),
}

impl From<ServiceError> for Fail {
    fn from(e: ServiceError) -> Fail {
        Fail::Tool(e.to_string())
    }
}

impl IntoCallToolResult for Fail {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        match self {
            Fail::Tool(message) => Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into()),
            Fail::Protocol(error) => Err(error),
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static) -> Result<T, Fail> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(Fail::from),
        Err(e) => Err(Fail::Tool(format!("internal failure: {e}"))),
    }
}

/// `list_bundles` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BundleList {
    /// The loaded, verified bundles.
    pub bundles: Vec<BundleInfo>,
    /// Governance settings and state.
    pub governance: GovernanceStatus,
}

/// One loaded bundle.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BundleInfo {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// SHA-256 digest of the signed manifest.
    pub digest: String,
    /// Key id of the signer.
    pub signer: Option<String>,
    /// Components with their content hashes.
    pub components: Vec<ComponentInfo>,
    /// Routes: incident kind → gates → recipe.
    pub routes: Vec<RouteInfo>,
}

/// One component of a bundle.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ComponentInfo {
    /// Component id.
    pub id: String,
    /// `gate` or `recipe`.
    pub role: String,
    /// SHA-256 of the component bytes.
    pub sha256: String,
    /// Policies it enforces.
    pub policies: Vec<String>,
}

/// One route.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RouteInfo {
    /// Incident kind.
    pub kind: String,
    /// Gate ids, in order.
    pub gates: Vec<String>,
    /// Recipe id.
    pub recipe: String,
}

/// `list_recipes` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RecipeList {
    /// Every routed recipe.
    pub recipes: Vec<RecipeInfo>,
}

/// One routed recipe.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RecipeInfo {
    /// Recipe id.
    pub id: String,
    /// Bundle name.
    pub bundle: String,
    /// Incident kind it handles.
    pub kind: String,
    /// Gates that run before it.
    pub gates: Vec<String>,
    /// SHA-256 of the recipe component.
    pub sha256: String,
    /// Policies.
    pub policies: Vec<String>,
}

/// `submit_incident` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitArgs {
    /// The incident document: `{"incident_id", "kind", "severity", "evidence": {…}}`.
    /// Give this or `evidence_json`.
    pub evidence: Option<Map<String, Value>>,
    /// The incident document as JSON text (parsed strictly: duplicate keys refused).
    pub evidence_json: Option<String>,
    /// Name of the bundle to decide with; default: the first that routes the kind.
    pub bundle: Option<String>,
    /// Evaluation (dry-run) mode: receipts are marked advisory.
    #[serde(default)]
    pub evaluation_mode: bool,
}

/// Arguments naming an incident.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentArgs {
    /// Incident id.
    pub incident_id: String,
}

/// How the plan's execution went.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// Executed; the quality checks hold.
    Executed,
    /// Execution failed.
    Failed,
}

/// `record_outcome` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeArgs {
    /// Incident id.
    pub incident_id: String,
    /// `executed` or `failed`.
    pub status: OutcomeStatus,
    /// What happened (redacted before it is recorded).
    #[serde(default)]
    pub note: String,
}

/// `close_incident` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseArgs {
    /// Incident id.
    pub incident_id: String,
    /// Closing feedback (kaizen; redacted before it is recorded).
    #[serde(default)]
    pub feedback: String,
}

/// `replay_receipt` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayArgs {
    /// Ledger sequence number of the receipt.
    pub seq: u64,
}

/// Arguments of the tools that take none (`list_bundles`, `list_recipes`, `verify_ledger`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// `incident_status` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IncidentStatus {
    /// Incident id.
    pub incident_id: String,
    /// `queued`, `evaluating`, `reported`, `planned`, `refused`, `overloaded`,
    /// `executed`, `execution_failed` or `closed`.
    pub status: String,
    /// Severity.
    pub severity: String,
    /// Incident kind.
    pub kind: String,
    /// Routed recipe.
    pub recipe: Option<String>,
    /// The final decision, once decided.
    pub decision: Option<andon_core::decision::Decision>,
    /// Every receipt of the incident, in chain order.
    pub receipts: Vec<ReceiptRef>,
    /// SLA figures against the doctrine's targets (`sla.json` of the export).
    pub sla: Value,
    /// This server's decision deadline for the incident's severity (`--sla`), in ms.
    pub deadline_ms: f64,
}

/// Result of `record_outcome` and `close_incident`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Transition {
    /// Incident id.
    pub incident_id: String,
    /// The new status.
    pub status: String,
    /// The receipt written.
    pub receipt: ReceiptRef,
}

/// `export_incident` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Exported {
    /// Incident id.
    pub incident_id: String,
    /// Path of the evidence bundle (`.tar.gz`) on the server's machine.
    pub path: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

/// `verify_ledger` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Verified {
    /// True when no problem was found.
    pub ok: bool,
    /// Receipts verified.
    pub receipts: u64,
    /// Seq of the head.
    pub head_seq: u64,
    /// Hash of the head.
    pub head_hash: String,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// The full report (see `docs/ledger.md`).
    pub report: Value,
}

/// `replay_receipt` result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Replayed {
    /// The receipt's seq.
    pub seq: u64,
    /// True when the replay gave the same decision bytes and fuel.
    pub matches: bool,
    /// `matched`, `mismatched` or `skipped` (nothing ran).
    pub status: String,
    /// The full report (see `docs/receipts.md`).
    pub report: Value,
}

/// The MCP server over a shared [`Service`].
#[derive(Clone)]
pub struct AndonMcp {
    service: Arc<Service>,
    tool_router: ToolRouter<AndonMcp>,
    /// Each tool's compiled input schema: arguments are checked against the schema
    /// the tool declares before it runs, and a violation is a protocol error
    /// (`-32602`) naming the member.
    inputs: Arc<std::collections::HashMap<String, jsonschema::Validator>>,
}

impl std::fmt::Debug for AndonMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AndonMcp").field("service", &self.service).finish_non_exhaustive()
    }
}

fn role_name(role: andon_work::bundle::Role) -> String {
    match role {
        andon_work::bundle::Role::Gate => "gate".into(),
        andon_work::bundle::Role::Recipe => "recipe".into(),
    }
}

#[tool_router]
impl AndonMcp {
    /// An MCP server over `service`.
    pub fn new(service: Arc<Service>) -> AndonMcp {
        let tool_router = Self::tool_router();
        let inputs = tool_router
            .list_all()
            .into_iter()
            .map(|tool| {
                let schema = Value::Object((*tool.input_schema).clone());
                let validator = jsonschema::validator_for(&schema).expect("derived input schemas compile");
                (tool.name.to_string(), validator)
            })
            .collect();
        AndonMcp { service, tool_router, inputs: Arc::new(inputs) }
    }

    /// Lists the loaded, verified bundles with their components (content hashes)
    /// and routes, and the governance settings.
    #[tool(annotations(read_only_hint = true))]
    async fn list_bundles(&self, Parameters(_): Parameters<NoArgs>) -> Result<Json<BundleList>, Fail> {
        let bundles = self
            .service
            .bundles()
            .iter()
            .map(|b| BundleInfo {
                name: b.manifest.name.clone(),
                version: b.manifest.version.to_string(),
                digest: b.digest.clone(),
                signer: b.signer.clone(),
                components: b
                    .manifest
                    .components
                    .iter()
                    .map(|c| ComponentInfo {
                        id: c.id.clone(),
                        role: role_name(c.role),
                        sha256: c.sha256.clone(),
                        policies: c.policies.clone(),
                    })
                    .collect(),
                routes: b
                    .manifest
                    .routes
                    .iter()
                    .map(|r| RouteInfo {
                        kind: r.kind.clone(),
                        gates: r.gates.iter().map(|g| g.component.clone()).collect(),
                        recipe: r.recipe.clone(),
                    })
                    .collect(),
            })
            .collect();
        Ok(Json(BundleList { bundles, governance: self.service.status() }))
    }

    /// Lists every routed recipe: the incident kind it handles, its gates, its
    /// content hash and policies.
    #[tool(annotations(read_only_hint = true))]
    async fn list_recipes(&self, Parameters(_): Parameters<NoArgs>) -> Result<Json<RecipeList>, Fail> {
        let mut recipes = Vec::new();
        for b in self.service.bundles() {
            for r in &b.manifest.routes {
                let entry = b.manifest.component(&r.recipe);
                recipes.push(RecipeInfo {
                    id: r.recipe.clone(),
                    bundle: b.manifest.name.clone(),
                    kind: r.kind.clone(),
                    gates: r.gates.iter().map(|g| g.component.clone()).collect(),
                    sha256: entry.map(|e| e.sha256.clone()).unwrap_or_default(),
                    policies: entry.map(|e| e.policies.clone()).unwrap_or_default(),
                });
            }
        }
        Ok(Json(RecipeList { recipes }))
    }

    /// Submits an incident and waits for its decision. Queued by severity under
    /// the WIP limit; returns the plan or the refusal (a refusal is a successful
    /// result with status `refused`; a full queue gives status `overloaded`) and
    /// the receipts written.
    #[tool]
    async fn submit_incident(&self, Parameters(args): Parameters<SubmitArgs>) -> Result<Json<Decided>, Fail> {
        let bytes = match (args.evidence, args.evidence_json) {
            (Some(object), None) => serde_json::to_vec(&Value::Object(object)).expect("a JSON object serializes"),
            (None, Some(text)) => text.into_bytes(),
            _ => {
                return Err(Fail::Protocol(ErrorData::invalid_params(
                    "give exactly one of `evidence` (an object) or `evidence_json` (JSON text)",
                    None,
                )));
            }
        };
        let service = Arc::clone(&self.service);
        let bundle = args.bundle;
        let mode = args.evaluation_mode;
        let accepted = blocking(move || service.accept(&bytes, bundle.as_deref(), mode)).await?;
        match accepted {
            crate::service::Accepted::Overloaded(decided) => Ok(Json(*decided)),
            crate::service::Accepted::Queued(answer) => match answer.await {
                Ok(Ok(decided)) => Ok(Json(decided)),
                Ok(Err(message)) => Err(Fail::Tool(format!("the decision could not be recorded: {message}"))),
                Err(_) => Err(Fail::Tool("the evaluator stopped before deciding".into())),
            },
        }
    }

    /// An incident's status, decision, receipts and SLA figures.
    #[tool(annotations(read_only_hint = true))]
    async fn incident_status(&self, Parameters(args): Parameters<IncidentArgs>) -> Result<Json<IncidentStatus>, Fail> {
        let service = Arc::clone(&self.service);
        let id = args.incident_id;
        let status = blocking(move || {
            let receipts = service.receipts_of(&id)?;
            let facts = andon_work::outputs::facts(&receipts)
                .ok_or_else(|| ServiceError::Incident(andon_work::incident::IncidentError::NotFound(id.clone())))?;
            let phase = service.phase(&id);
            let status = match phase.as_deref() {
                Some(p @ ("queued" | "evaluating")) => p.to_string(),
                _ => serde_json::to_value(facts.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            };
            Ok(IncidentStatus {
                incident_id: id,
                status,
                severity: facts.severity.as_str().into(),
                kind: facts.kind.clone(),
                recipe: facts.recipe.clone(),
                decision: facts.decision.clone(),
                receipts: receipts.iter().map(ReceiptRef::of).collect(),
                sla: serde_json::to_value(andon_work::outputs::sla(&facts)).unwrap_or(Value::Null),
                deadline_ms: service.governance().deadline(facts.severity).as_secs_f64() * 1000.0,
            })
        })
        .await?;
        Ok(Json(status))
    }

    /// Records how the plan's execution went (`executed` receipt). Only a planned
    /// incident takes an outcome.
    #[tool]
    async fn record_outcome(&self, Parameters(args): Parameters<OutcomeArgs>) -> Result<Json<Transition>, Fail> {
        let service = Arc::clone(&self.service);
        let status = match args.status {
            OutcomeStatus::Executed => ExecutionStatus::Executed,
            OutcomeStatus::Failed => ExecutionStatus::Failed,
        };
        let id = args.incident_id.clone();
        let receipt = blocking(move || service.record_outcome(&id, status, &args.note)).await?;
        let status = match args.status {
            OutcomeStatus::Executed => "executed",
            OutcomeStatus::Failed => "execution_failed",
        };
        Ok(Json(Transition { incident_id: args.incident_id, status: status.into(), receipt }))
    }

    /// Closes an incident with feedback (`closed` receipt). A planned incident
    /// needs its outcome first.
    #[tool]
    async fn close_incident(&self, Parameters(args): Parameters<CloseArgs>) -> Result<Json<Transition>, Fail> {
        let service = Arc::clone(&self.service);
        let id = args.incident_id.clone();
        let receipt = blocking(move || service.close(&id, &args.feedback)).await?;
        Ok(Json(Transition { incident_id: args.incident_id, status: "closed".into(), receipt }))
    }

    /// Writes the signed evidence bundle of an incident (receipts, component
    /// hashes, outputs; auditable offline with `andon audit`) into the server's
    /// export directory and returns its path and SHA-256.
    #[tool]
    async fn export_incident(&self, Parameters(args): Parameters<IncidentArgs>) -> Result<Json<Exported>, Fail> {
        let service = Arc::clone(&self.service);
        let id = args.incident_id.clone();
        let (path, sha256, bytes) = blocking(move || service.export(&id)).await?;
        Ok(Json(Exported { incident_id: args.incident_id, path: path.display().to_string(), sha256, bytes }))
    }

    /// Verifies the whole ledger: hashes, chain links, HMACs, checkpoint signatures.
    #[tool(annotations(read_only_hint = true))]
    async fn verify_ledger(&self, Parameters(_): Parameters<NoArgs>) -> Result<Json<Verified>, Fail> {
        let service = Arc::clone(&self.service);
        let report = blocking(move || service.verify()).await?;
        Ok(Json(Verified {
            ok: report.ok,
            receipts: report.receipts,
            head_seq: report.head_seq,
            head_hash: report.head_hash.clone(),
            checkpoints: report.ledger_checkpoints,
            report: serde_json::to_value(&report).unwrap_or(Value::Null),
        }))
    }

    /// Re-runs the components a receipt names, from the content-addressed store,
    /// on a fresh engine, and compares decision bytes and fuel.
    #[tool(annotations(read_only_hint = true))]
    async fn replay_receipt(&self, Parameters(args): Parameters<ReplayArgs>) -> Result<Json<Replayed>, Fail> {
        let service = Arc::clone(&self.service);
        let seq = args.seq;
        let report = blocking(move || service.replay(seq)).await?;
        let status =
            report.receipts.first().map_or(Value::Null, |r| serde_json::to_value(r.status).unwrap_or(Value::Null));
        Ok(Json(Replayed {
            seq,
            matches: report.ok && report.matched == 1,
            status: status.as_str().unwrap_or("skipped").to_string(),
            report: serde_json::to_value(&report).unwrap_or(Value::Null),
        }))
    }
}

/// The HTTP routes of `andon serve`: MCP streamable HTTP at `/mcp`, Prometheus
/// `/metrics` and `/healthz`. Cancelling `cancel` ends the MCP sessions.
pub fn router(service: Arc<Service>, cancel: tokio_util::sync::CancellationToken) -> axum::Router {
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
    let mut config = StreamableHttpServerConfig::default().with_sse_keep_alive(None);
    config.cancellation_token = cancel;
    // One server (tool router, compiled input schemas) shared by every session.
    let server = AndonMcp::new(Arc::clone(&service));
    let factory = move || Ok(server.clone());
    let mcp = StreamableHttpService::new(factory, Arc::new(LocalSessionManager::default()), config);
    let metrics = move || {
        let body = service.metrics().encode();
        async move {
            ([(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body)
        }
    };
    axum::Router::new()
        .nest_service("/mcp", mcp)
        .route("/metrics", axum::routing::get(metrics))
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
}

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
