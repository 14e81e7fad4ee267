"""Drives `andon mcp` over stdio with the official MCP Python SDK (PyPI `mcp`).

Usage: python mcp_stdio_client.py ANDON_BINARY [ARG...]

Starts `ANDON_BINARY mcp ARG...` through the SDK's stdio transport, then walks the
approval-rule incident through its whole life: initialize, list the tools, submit
(a plan and a refusal), read the status and one receipt as a resource, record the
outcome, close, the illegal transitions and malformed calls, export, verify and
replay. Receipt and evidence hashes are recomputed here, independently, with a small
RFC 8785 canonicalizer.

The approval-request scenarios are read from `recipes-wasm/scenarios/approval_request`
(or the directory in `ANDON_SCENARIOS`). On success prints one JSON line on stdout:
`{"export_path": ..., "incident_id": ..., "checks": N}`; on any failed check prints
`FAIL: ...` on stderr and exits 1. Used by `tests/all/mcp_stdio.rs`.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client

TOOLS = (
    "list_bundles",
    "list_recipes",
    "submit_incident",
    "incident_status",
    "record_outcome",
    "close_incident",
    "export_incident",
    "verify_ledger",
    "replay_receipt",
)

# JSON-RPC codes a server answers a bad tools/call with. Timeouts (-32001) and a
# closed connection (-32000) are MCPErrors too, but never count as the expected error.
PROTOCOL_ERROR_CODES = (-32601, -32602)

# Generous: a debug build evaluates a few wasm components per submit.
READ_TIMEOUT_SECONDS = 120.0

HEX = set("0123456789abcdef")


class CheckFailed(Exception):
    pass


class Checks:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, condition: bool, what: str, detail: Any = None) -> None:
        self.count += 1
        if not condition:
            message = what if detail is None else f"{what}: {_show(detail)}"
            raise CheckFailed(message)

    def equal(self, actual: Any, expected: Any, what: str) -> None:
        self(actual == expected, what, f"expected {_show(expected)}, got {_show(actual)}")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        text = json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 4000 else text[:4000] + "..."


# --- RFC 8785 -------------------------------------------------------------------


def jcs(value: Any) -> bytes:
    """RFC 8785 bytes of a parsed JSON value."""
    return _jcs(value).encode("utf-8")


def _jcs(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > 2**53:
            raise CheckFailed(f"integer {value} beyond 2^53 cannot be canonicalized")
        return str(value)
    if isinstance(value, float):
        return _es_number(value)
    if isinstance(value, str):
        # Only `"`, `\`, and the control characters are escaped (lowercase \u00xx).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(_jcs(item) for item in value) + "]"
    if isinstance(value, dict):
        members = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(_jcs(k) + ":" + _jcs(v) for k, v in members) + "}"
    raise CheckFailed(f"not a JSON value: {value!r}")


def _es_number(x: float) -> str:
    """ECMAScript Number.prototype.toString of a finite double."""
    if x != x or x in (float("inf"), float("-inf")):
        raise CheckFailed("NaN or infinity cannot be canonicalized")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    parsed = decimal.Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, parsed.digits))
    n = len(digits) + int(parsed.exponent)
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return sign + mantissa + "e" + ("+" if e > 0 else "-") + str(abs(e))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_hex64(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= HEX


# --- the session ------------------------------------------------------------------


def texts(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content if getattr(block, "type", "") == "text")


def dump(result: Any) -> str:
    return result.model_dump_json(by_alias=True, exclude_none=True)


class Run:
    def __init__(self, session: ClientSession, check: Checks) -> None:
        self.session = session
        self.check = check

    async def ok(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Calls a tool that must succeed; returns its structured content.

        The SDK has already validated the structured content against the tool's
        declared output schema (call_tool raises RuntimeError otherwise).
        """
        result = await self.session.call_tool(name, arguments)
        self.check(not result.is_error, f"{name} {_show(arguments)} succeeds", dump(result))
        content = result.structured_content
        self.check(isinstance(content, dict), f"{name} returns a structured JSON object", dump(result))
        # Spec: a tool returning structured content SHOULD also return it serialized in
        # a text block; when it does, the two must agree.
        text = texts(result)
        if text:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                self.check.equal(parsed, content, f"{name}: text content agrees with structured content")
        return content

    async def tool_error(self, name: str, arguments: dict[str, Any]) -> str:
        """Calls a tool that must answer with a tool error (isError); returns its text."""
        result = await self.session.call_tool(name, arguments)
        self.check(result.is_error, f"{name} {_show(arguments)} is a tool error (isError)", dump(result))
        return texts(result) + _show(result.structured_content or "")

    async def protocol_error(self, name: str, arguments: dict[str, Any], what: str) -> MCPError:
        """Calls a tool that must be answered with a JSON-RPC error, not a result."""
        try:
            result = await self.session.call_tool(name, arguments)
        except MCPError as error:
            self.check(
                error.code in PROTOCOL_ERROR_CODES,
                f"{what}: a JSON-RPC error {PROTOCOL_ERROR_CODES}",
                f"code {error.code}: {error.message}",
            )
            return error
        raise CheckFailed(f"{what}: expected a JSON-RPC error, got a result: {dump(result)}")

    async def rejected(self, name: str, arguments: dict[str, Any], what: str) -> None:
        """Calls a tool with arguments its input schema refuses: Andon checks arguments
        against the declared inputSchema before the tool runs and answers a tool error
        (isError) naming the problem, so a model can correct the call (MCP 2025-11-25,
        SEP-1303); the tool never runs."""
        text = await self.tool_error(name, arguments)
        self.check("invalid arguments" in text, f"{what}: the tool error says the arguments are invalid", text)


def load_scenario(directory: Path, name: str) -> dict[str, Any]:
    return json.loads((directory / name).read_text(encoding="utf-8"))


def stage_matches(stage: Any, expected: str) -> bool:
    """The scenarios name a stage "recipe" or "gate:<id>"; the host serializes the pipeline's
    stage as {"recipe": id} / {"gate": id} (or the string "recipe:<id>" / "gate:<id>")."""
    if isinstance(stage, dict) and len(stage) == 1:
        ((key, value),) = stage.items()
        stage = f"{key}:{value}"
    if not isinstance(stage, str):
        return False
    if expected == "recipe":
        return stage == "recipe" or stage.startswith("recipe:")
    return stage == expected


def check_receipt_refs(check: Checks, receipts: Any, what: str) -> None:
    check(isinstance(receipts, list) and receipts, f"{what}: receipts listed", receipts)
    for receipt in receipts:
        check(isinstance(receipt.get("seq"), int) and receipt["seq"] >= 1, f"{what}: receipt seq", receipt)
        check(is_hex64(receipt.get("hash")), f"{what}: receipt hash is 64 hex", receipt)
        check(receipt.get("uri") == f"andon://receipts/{receipt['seq']}", f"{what}: receipt uri", receipt)
        check(isinstance(receipt.get("kind"), str), f"{what}: receipt kind", receipt)


async def scenario(session: ClientSession, scenarios: Path) -> dict[str, Any]:
    check = Checks()
    run = Run(session, check)

    # Tools: every tool is there, each declaring an input and an output schema.
    listing = await session.list_tools()
    tools = {tool.name: tool for tool in listing.tools}
    for name in TOOLS:
        check(name in tools, f"tools/list offers {name}", sorted(tools))
        tool = tools[name]
        check(
            isinstance(tool.input_schema, dict) and tool.input_schema.get("type") == "object",
            f"{name} declares an object inputSchema",
            tool.input_schema,
        )
        check(
            isinstance(tool.output_schema, dict) and tool.output_schema.get("type") == "object",
            f"{name} declares an object outputSchema",
            tool.output_schema,
        )

    bundles = await run.ok("list_bundles", {})
    names = [bundle.get("name") for bundle in bundles.get("bundles", [])]
    check("tai-standard-work" in names, "list_bundles lists the loaded bundle", bundles)
    recipes = await run.ok("list_recipes", {})
    check(
        any(recipe.get("kind") == "approval_request" for recipe in recipes.get("recipes", [])),
        "list_recipes has a recipe for approval_request",
        recipes,
    )

    # The approval rule: the CFO is absent, the board decides.
    planned_case = load_scenario(scenarios, "cfo_absent_escalates_to_board.json")
    incident = planned_case["incident"]
    incident_id = incident["incident_id"]
    submitted = await run.ok("submit_incident", {"evidence": incident})
    check.equal(submitted.get("incident_id"), incident_id, "submit: incident_id")
    check.equal(submitted.get("status"), "planned", "submit: status")
    plan = (submitted.get("decision") or {}).get("plan")
    check(isinstance(plan, dict), "submit: the decision is a plan", submitted.get("decision"))
    actions = [step.get("action") for step in plan.get("steps", [])]
    check.equal(actions, planned_case["expect"]["actions"], "submit: plan step actions")
    check(stage_matches(submitted.get("stage"), planned_case["expect"]["stage"]), "submit: stage", submitted)
    check.equal(submitted.get("evidence_sha256"), sha256_hex(jcs(incident)), "submit: evidence_sha256 (RFC 8785)")
    check_receipt_refs(check, submitted.get("receipts"), "submit")
    planned_refs = [r for r in submitted["receipts"] if r["kind"] == "planned"]
    check(len(planned_refs) == 1, "submit: exactly one planned receipt", submitted["receipts"])
    planned_ref = planned_refs[0]

    # A policy refusal is a successful call whose result is a refusal.
    refused_case = load_scenario(scenarios, "neither_authority_refuses.json")
    refused = await run.ok("submit_incident", {"evidence": refused_case["incident"]})
    check.equal(refused.get("status"), "refused", "refusal: status")
    refusal = (refused.get("decision") or {}).get("refusal")
    check(isinstance(refusal, dict), "refusal: the decision is a refusal", refused.get("decision"))
    check.equal(refusal.get("reason"), refused_case["expect"]["reason"], "refusal: reason")
    check(stage_matches(refused.get("stage"), refused_case["expect"]["stage"]), "refusal: stage", refused)
    check.equal(
        [missing.get("name") for missing in refusal.get("missing", [])],
        refused_case["expect"]["missing"],
        "refusal: missing prerequisites",
    )
    for member in ("checks", "next_lawful_step", "policy_reference"):
        check(refusal.get(member), f"refusal: {member} present", refusal)
    check_receipt_refs(check, refused.get("receipts"), "refusal")

    # Submitting the same incident id again is an illegal transition: a tool error.
    text = await run.tool_error("submit_incident", {"evidence": incident})
    check(incident_id in text or "exist" in text.lower(), "resubmit: the error names the incident", text)

    # Status of the planned incident, and one receipt read back as a resource.
    status = await run.ok("incident_status", {"incident_id": incident_id})
    check.equal(status.get("status"), "planned", "status: status")
    check.equal(status.get("kind"), incident["kind"], "status: kind")
    check.equal(status.get("severity"), incident["severity"], "status: severity")
    check_receipt_refs(check, status.get("receipts"), "status")
    check.equal(
        [r["kind"] for r in status["receipts"]], [r["kind"] for r in submitted["receipts"]], "status: receipt kinds"
    )
    check(planned_ref in status["receipts"], "status: lists the planned receipt", status["receipts"])

    read = await session.read_resource(planned_ref["uri"])
    check(len(read.contents) == 1, "resources/read: one content", read.contents)
    content = read.contents[0]
    check.equal(content.uri, planned_ref["uri"], "resources/read: uri")
    check.equal(content.mime_type, "application/json", "resources/read: mimeType")
    receipt = json.loads(content.text)
    check.equal(receipt.get("hash"), planned_ref["hash"], "resources/read: the receipt's hash")
    check.equal(receipt.get("seq"), planned_ref["seq"], "resources/read: the receipt's seq")
    check.equal(receipt.get("kind"), "planned", "resources/read: the receipt's kind")
    check.equal(receipt.get("incident_id"), incident_id, "resources/read: the receipt's incident")
    body = {key: value for key, value in receipt.items() if key not in ("hash", "signature")}
    check.equal(sha256_hex(jcs(body)), receipt["hash"], "resources/read: hash = SHA-256 of the RFC 8785 body")
    check.equal(receipt.get("decision"), submitted["decision"], "resources/read: the receipt holds the decision")
    check.equal(
        receipt.get("decision_sha256"), sha256_hex(jcs(submitted["decision"])), "receipt decision_sha256 (RFC 8785)"
    )
    check.equal(receipt.get("evidence_sha256"), submitted["evidence_sha256"], "receipt evidence_sha256")

    # An unknown receipt is not a resource.
    try:
        missing = await session.read_resource("andon://receipts/999999")
    except MCPError:
        check(True, "resources/read of an unknown receipt is an error")
    else:
        raise CheckFailed(f"resources/read of an unknown receipt returned {dump(missing)}")

    # Outcome, close, and closing twice.
    outcome = await run.ok(
        "record_outcome", {"incident_id": incident_id, "status": "executed", "note": "board approved on call"}
    )
    check.equal(outcome.get("incident_id"), incident_id, "outcome: incident_id")
    check.equal(outcome.get("status"), "executed", "outcome: status")
    check_receipt_refs(check, [outcome.get("receipt") or {}], "outcome")
    check.equal(outcome["receipt"]["kind"], "executed", "outcome: receipt kind")

    closed = await run.ok("close_incident", {"incident_id": incident_id, "feedback": "threshold rule worked"})
    check.equal(closed.get("status"), "closed", "close: status")
    check_receipt_refs(check, [closed.get("receipt") or {}], "close")
    check.equal(closed["receipt"]["kind"], "closed", "close: receipt kind")

    text = await run.tool_error("close_incident", {"incident_id": incident_id, "feedback": "again"})
    check("illegal transition" in text.lower(), "close twice: the error names an illegal transition", text)

    # A tool that does not exist is a protocol error (-32602) naming it.
    error = await run.protocol_error("no_such_tool", {}, "an unknown tool")
    check.equal(error.code, -32602, "an unknown tool: invalid params")
    check("no_such_tool" in error.message, "an unknown tool: the error names it", error.message)
    # Arguments that do not fit the input schema are tool errors (isError), never run:
    # Andon validates them against the tool's declared inputSchema before dispatch.
    stray = dict(incident, incident_id="INC-2026-0099")
    for name, arguments, what in (
        ("submit_incident", {"evaluation_mode": False}, "submit_incident without evidence"),
        ("submit_incident", {"evidence": 5}, "submit_incident with evidence 5"),
        ("submit_incident", {"evidence": stray, "bogus": True}, "submit_incident with a stray member"),
        ("record_outcome", {"incident_id": incident_id, "status": 7, "note": "x"}, "record_outcome with status 7"),
        ("record_outcome", {"incident_id": incident_id, "status": "done"}, "record_outcome with status done"),
        ("replay_receipt", {"seq": "one"}, "replay_receipt with a string seq"),
    ):
        await run.rejected(name, arguments, what)
    # Nothing of the rejected calls was recorded.
    await run.tool_error("incident_status", {"incident_id": stray["incident_id"]})

    # The session survives the errors: export, verify, replay.
    exported = await run.ok("export_incident", {"incident_id": incident_id})
    check.equal(exported.get("incident_id"), incident_id, "export: incident_id")
    path = Path(exported.get("path", ""))
    check(path.is_absolute() and path.is_file(), "export: path is an existing absolute file", exported)
    data = path.read_bytes()
    check.equal(sha256_hex(data), exported.get("sha256"), "export: sha256 of the file")
    check.equal(len(data), exported.get("bytes"), "export: bytes")

    verified = await run.ok("verify_ledger", {})
    check.equal(verified.get("ok"), True, "verify_ledger: ok")
    check(
        isinstance(verified.get("receipts"), int) and verified["receipts"] >= closed["receipt"]["seq"],
        "verify_ledger: counts every receipt",
        verified,
    )

    replayed = await run.ok("replay_receipt", {"seq": planned_ref["seq"]})
    check.equal(replayed.get("seq"), planned_ref["seq"], "replay: seq")
    check.equal(replayed.get("matches"), True, "replay: matches")

    return {"export_path": str(path), "incident_id": incident_id, "checks": check.count}


async def main(binary: str, args: list[str], scenarios: Path) -> dict[str, Any]:
    transport_faults: list[BaseException] = []

    async def on_message(message: Any) -> None:
        # The transport hands anything on stdout that is not a JSON-RPC message here.
        if isinstance(message, Exception):
            transport_faults.append(message)

    server = StdioServerParameters(command=binary, args=["mcp", *args], env={"RUST_BACKTRACE": "1"})
    async with stdio_client(server) as (read_stream, write_stream):
        async with ClientSession(
            read_stream, write_stream, read_timeout_seconds=READ_TIMEOUT_SECONDS, message_handler=on_message
        ) as session:
            init = await session.initialize()
            if init.server_info.name != "andon":
                raise CheckFailed(f"serverInfo names {init.server_info.name!r}, not andon: {dump(init)}")
            if init.capabilities.tools is None or init.capabilities.resources is None:
                raise CheckFailed(f"server does not announce tools and resources: {dump(init)}")
            summary = await scenario(session, scenarios)
            summary["checks"] += 1
    if transport_faults:
        raise CheckFailed(f"the server wrote non-JSON-RPC output on stdout: {transport_faults!r}")
    return summary


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups raised by the task groups."""
    nested = getattr(error, "exceptions", None)
    if not nested:
        return [error]
    return [leaf for inner in nested for leaf in leaves(inner)]


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: mcp_stdio_client.py ANDON_BINARY [ARG...]")
    default_scenarios = Path(__file__).resolve().parents[2] / "recipes-wasm/scenarios/approval_request"
    scenarios = Path(os.environ.get("ANDON_SCENARIOS", default_scenarios))
    try:
        summary = anyio.run(main, sys.argv[1], sys.argv[2:], scenarios)
    except BaseException as error:  # noqa: BLE001 - report whatever ended the run, then fail
        for leaf in leaves(error):
            if isinstance(leaf, CheckFailed):
                print(f"FAIL: {leaf}", file=sys.stderr)
            elif isinstance(leaf, MCPError):
                print(f"FAIL: unexpected MCP error {leaf.code}: {leaf.message} {leaf.data!r}", file=sys.stderr)
            else:
                import traceback

                traceback.print_exception(type(leaf), leaf, leaf.__traceback__, file=sys.stderr)
                print(f"FAIL: {type(leaf).__name__}: {leaf}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(summary), flush=True)
