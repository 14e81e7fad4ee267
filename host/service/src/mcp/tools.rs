//! The tools: thin async wrappers over the blocking [`Service`] calls.

use std::sync::Arc;

use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Json, RoleServer, tool, tool_router};
use serde_json::Value;

use andon_work::incident::ExecutionStatus;

use super::AndonMcp;
use super::params::{CloseArgs, IncidentArgs, NoArgs, OutcomeArgs, OutcomeStatus, ReplayArgs, SubmitArgs};
use super::progress::Progress;
use super::results::{
    BundleInfo, BundleList, ComponentInfo, Exported, IncidentStatus, RecipeInfo, RecipeList, Replayed, RouteInfo,
    Transition, Verified,
};
use crate::service::{Decided, ReceiptRef, Service, ServiceError};

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
        Fail::Tool(andon_core::errors::chain(&e))
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

/// Runs a service call on the blocking pool: service calls wait on fsyncs and
/// evaluations, which must not stall the async runtime's workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static) -> Result<T, Fail> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(Fail::from),
        Err(e) => Err(Fail::Tool(format!("internal failure: {e}"))),
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
        // What `tools/list` shows: the derived schemas, made portable.
        let tools: Vec<rmcp::model::Tool> = tool_router
            .list_all()
            .into_iter()
            .map(|mut tool| {
                let mut input = (*tool.input_schema).clone();
                super::schema::portable_input(&mut input);
                tool.input_schema = Arc::new(input);
                if let Some(output) = &tool.output_schema {
                    let mut output = (**output).clone();
                    super::schema::portable_output(&mut output);
                    tool.output_schema = Some(Arc::new(output));
                }
                tool
            })
            .collect();
        let inputs = tools
            .iter()
            .map(|tool| {
                let schema = Value::Object((*tool.input_schema).clone());
                // The schemas are derived by `schemars` from the argument types at
                // compile time, so a failure is a bug in this crate, not a runtime
                // condition a caller could handle; every MCP test builds a server.
                let validator = jsonschema::validator_for(&schema).expect("derived input schemas compile");
                (tool.name.to_string(), (validator, schema))
            })
            .collect();
        AndonMcp { service, tool_router, inputs: Arc::new(inputs), tools: Arc::new(tools) }
    }

    /// Lists the loaded, verified bundles with their components (content hashes)
    /// and routes, and the governance settings.
    #[tool(
        title = "List bundles",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
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
    #[tool(
        title = "List recipes",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
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
    /// the receipts written. With a `progressToken` the caller hears
    /// `notifications/progress` when the submission is queued, when its evaluation
    /// starts and when its decision is durable.
    // Appends receipts only (never rewrites the ledger): not destructive. A second
    // submission of the same incident is refused, so it is not idempotent.
    #[tool(
        title = "Submit an incident",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn submit_incident(
        &self,
        Parameters(args): Parameters<SubmitArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<Decided>, Fail> {
        let bytes = match (args.evidence, args.evidence_json) {
            (Some(object), None) => serde_json::to_vec(&Value::Object(object)).expect("a JSON object serializes"),
            (None, Some(text)) => text.into_bytes(),
            _ => {
                return Err(Fail::Tool(
                    "invalid arguments for `submit_incident`: give exactly one of `evidence` (an object) or \
                     `evidence_json` (JSON text)"
                        .into(),
                ));
            }
        };
        let principal = super::principal_of(&context);
        // The incident id, for following the submission's phase (only when asked).
        let progress = Progress::of(&context).map(|p| {
            let id = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("incident_id").and_then(Value::as_str).map(str::to_string));
            (p, id.unwrap_or_default())
        });
        let service = Arc::clone(&self.service);
        let bundle = args.bundle;
        let mode = args.evaluation_mode;
        let accepted = blocking(move || service.accept_by(&principal, &bytes, bundle.as_deref(), mode)).await?;
        match accepted {
            crate::service::Accepted::Overloaded(decided) => Ok(Json(*decided)),
            crate::service::Accepted::Queued(answer) => {
                let answer = match progress {
                    Some((progress, id)) => progress.follow(&self.service, &id, answer).await,
                    None => answer.await,
                };
                match answer {
                    Ok(Ok(decided)) => Ok(Json(decided)),
                    Ok(Err(message)) => Err(Fail::Tool(format!("the decision could not be recorded: {message}"))),
                    Err(_) => Err(Fail::Tool("the evaluator stopped before deciding".into())),
                }
            }
        }
    }

    /// An incident's status, decision, receipts and SLA figures.
    #[tool(
        title = "Incident status",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
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
    #[tool(
        title = "Record a plan's outcome",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn record_outcome(
        &self,
        Parameters(args): Parameters<OutcomeArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<Transition>, Fail> {
        let principal = super::principal_of(&context);
        let service = Arc::clone(&self.service);
        let status = match args.status {
            OutcomeStatus::Executed => ExecutionStatus::Executed,
            OutcomeStatus::Failed => ExecutionStatus::Failed,
        };
        let id = args.incident_id.clone();
        let receipt = blocking(move || service.record_outcome_by(&principal, &id, status, &args.note)).await?;
        let status = match args.status {
            OutcomeStatus::Executed => "executed",
            OutcomeStatus::Failed => "execution_failed",
        };
        Ok(Json(Transition { incident_id: args.incident_id, status: status.into(), receipt }))
    }

    /// Closes an incident with feedback (`closed` receipt). A planned incident
    /// needs its outcome first.
    // Closing is final, but it appends a receipt and erases nothing: not destructive.
    #[tool(
        title = "Close an incident",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn close_incident(
        &self,
        Parameters(args): Parameters<CloseArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<Transition>, Fail> {
        let principal = super::principal_of(&context);
        let service = Arc::clone(&self.service);
        let id = args.incident_id.clone();
        let receipt = blocking(move || service.close_by(&principal, &id, &args.feedback)).await?;
        Ok(Json(Transition { incident_id: args.incident_id, status: "closed".into(), receipt }))
    }

    /// Writes the signed evidence bundle of an incident (receipts, component
    /// hashes, outputs; auditable offline with `andon audit`) into the server's
    /// export directory and returns its (absolute) path and SHA-256.
    // It writes a file in the export directory (replacing an earlier export of the
    // same incident with one that covers more of its chain), never the ledger.
    #[tool(
        title = "Export an evidence bundle",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn export_incident(&self, Parameters(args): Parameters<IncidentArgs>) -> Result<Json<Exported>, Fail> {
        let service = Arc::clone(&self.service);
        let id = args.incident_id.clone();
        let (path, sha256, bytes) = blocking(move || service.export(&id)).await?;
        Ok(Json(Exported { incident_id: args.incident_id, path: path.display().to_string(), sha256, bytes }))
    }

    /// Verifies the whole ledger: hashes, chain links, HMACs, checkpoint signatures.
    #[tool(
        title = "Verify the ledger",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
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
    #[tool(
        title = "Replay a receipt",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
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
