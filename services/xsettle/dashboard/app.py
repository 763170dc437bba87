"""The operations dashboard: its own consumer group on the result topic.

Serves a live page (``/``, pushed over server-sent events at ``/events``), the same
figures as JSON (``/api/figures``) and Prometheus metrics (``/metrics``).
"""

import asyncio
import json
from importlib import resources
from typing import Any

import faust
from aiohttp import web

from ..exchange.codec import AvroCodec, DecodeError
from ..exchange.faust_app import make_app, raw_topic
from ..exchange.health import add_health
from ..exchange.registry import registry_from_env
from ..exchange.topics import Topics
from ..pipeline.report import RegionNames
from ..reference import load_reference
from ..settings import Settings
from . import metrics
from .figures import Figures

PUSH_SECONDS = 1.0
STATIC = resources.files("xsettle") / "dashboard" / "static"


def build(settings: Settings) -> faust.App:
    app = make_app("dashboard", settings)
    codec = AvroCodec("settlement_result", registry_from_env())
    figures = Figures(RegionNames(load_reference(settings)))
    results = raw_topic(app, Topics(settings.namespace).results, settings.partitions)
    next_offsets: dict[Any, int] = {}

    @app.agent(results)
    async def watch(stream: faust.StreamT) -> None:
        async for events in stream.take_events(1000, within=0.2):
            for event in events:
                message = event.message
                next_offsets[message.tp] = message.offset + 1
                try:
                    figures.ingest(codec.decode(message.value))
                except DecodeError:
                    figures.undecodable += 1

    async def lag() -> int | None:
        if not next_offsets or app.consumer is None:
            return None
        ends = await app.consumer.highwaters(*next_offsets)
        return sum(max(0, ends[tp] - offset) for tp, offset in next_offsets.items())

    async def snapshot() -> dict[str, Any]:
        return figures.snapshot(await lag())

    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(
            text=(STATIC / "index.html").read_text("utf-8"), content_type="text/html"
        )

    async def figures_json(request: web.Request) -> web.StreamResponse:
        return web.json_response(await snapshot())

    async def prometheus(request: web.Request) -> web.StreamResponse:
        return web.Response(
            text=metrics.render(await snapshot()), content_type="text/plain", charset="utf-8"
        )

    async def events(request: web.Request) -> web.StreamResponse:
        """Server-sent events: the figures every second, until the browser leaves."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        try:
            while True:
                data = json.dumps(await snapshot(), ensure_ascii=False)
                await response.write(f"data: {data}\n\n".encode())
                await asyncio.sleep(PUSH_SECONDS)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    router = app.web.web_app.router
    router.add_get("/", page)
    router.add_get("/events", events)
    router.add_get("/api/figures", figures_json)
    router.add_get("/metrics", prometheus)
    app.web.add_static("/static/", str(STATIC))
    add_health(app)
    return app
