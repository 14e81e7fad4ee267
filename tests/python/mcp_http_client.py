"""Drives `andon serve` over HTTPS with a bearer token using the official Python MCP
SDK (streamable HTTP transport). Used by tests/all/tls.rs.

usage: mcp_http_client.py URL CA_PEM TOKEN

Checks: the server names itself; every tool has a title and annotations; a
submission reports progress and is planned; outcome, close, export and verify
succeed. Prints one JSON summary line on success; exits 1 naming the first failure.
"""

from __future__ import annotations

import json
import ssl
import sys
from typing import Any

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

APPROVAL = {
    "incident_id": "PY-TLS-1",
    "kind": "approval_request",
    "severity": "high",
    "evidence": {
        "request": {"amount": 1200000, "currency": "USD", "threshold": 1000000},
        "authorities": {"cfo_available": False, "board_available": True},
    },
}


def require(condition: bool, what: str, detail: Any = None) -> None:
    if not condition:
        raise SystemExit(f"FAIL: {what}: {detail!r}")


async def main(url: str, ca: str, token: str) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=ca)
    client = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {token}"},
        verify=context,
        timeout=httpx2.Timeout(30, read=300),
    )
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with client:
        async with streamable_http_client(url, http_client=client) as (read_stream, write_stream):
            async with ClientSession(read_stream, write_stream) as session:
                init = await session.initialize()
                require(init.server_info.name == "andon", "serverInfo.name", init.server_info)
                tools = (await session.list_tools()).tools
                names = [t.name for t in tools]
                require(names == sorted(names) and len(names) == 9, "nine tools in name order", names)
                for tool in tools:
                    require(bool(tool.title), f"{tool.name} has a title", tool)
                    a = tool.annotations
                    require(a is not None and a.destructive_hint is not None, f"{tool.name} annotations", a)
                submitted = await session.call_tool(
                    "submit_incident", {"evidence": APPROVAL}, progress_callback=on_progress
                )
                require(not submitted.is_error, "submit_incident succeeds", submitted)
                content = submitted.structured_content or {}
                require(content.get("status") == "planned", "the incident is planned", content)
                require(progress and progress[-1] == 3, "progress reaches 3 of 3", progress)
                for name, args in (
                    ("record_outcome", {"incident_id": "PY-TLS-1", "status": "executed", "note": "ok"}),
                    ("close_incident", {"incident_id": "PY-TLS-1", "feedback": "ok"}),
                    ("export_incident", {"incident_id": "PY-TLS-1"}),
                    ("verify_ledger", {}),
                ):
                    result = await session.call_tool(name, args)
                    require(not result.is_error, f"{name} succeeds", result)
                bad = await session.call_tool("record_outcome", {"incident_id": "PY-TLS-1", "status": "done"})
                require(bad.is_error, "a bad status is a tool error", bad)
    return {"tools": len(names), "progress": progress, "status": content.get("status")}


if __name__ == "__main__":
    summary = anyio.run(main, sys.argv[1], sys.argv[2], sys.argv[3])
    print(json.dumps(summary), flush=True)
