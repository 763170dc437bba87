"""The operations dashboard: the figures of the whole result topic, rebuilt on every start.

Serves a live page (``/``, pushed over server-sent events at ``/events``), the same
figures as JSON (``/api/figures``), the clearing view (``/api/clearing``, see
:mod:`.clearing`), Prometheus metrics (``/metrics``), ``/health`` and ``/ready``.

Why it keeps its figures only in memory and still survives a restart: the result topic
already is the durable, replayable record of every result (retained four weeks). Each
dashboard process reads all of its partitions from the beginning with a consumer of its
own, with no consumer group and no committed offsets (:mod:`.reader`), deduplicates by
``result_id``, and reports ready only once it has read as far as the topic reached when
it started. A restarted dashboard therefore shows what it showed before, and any number
of replicas show the same figures, with nothing to coordinate. The figures are made not
to depend on how partitions interleave (:mod:`.figures`).

Why not changelog-backed faust tables: the dedupe memory would have to be a table of
result ids, a changelog about as long as the result topic itself, and replicas in one
consumer group each hold only their share of partitions, so each would need global
tables, which faust recovers by reading their changelogs from the beginning anyway:
the same replay, with one more log to keep consistent with the first. The price of the
replay is a start that reads the retained results before it is ready. Limits: the
figures cover what the topic retains (a replica running for weeks still counts results
that retention has since deleted, until it restarts), and a change of the partition
count stops the dashboard, so that its restart reads the topic afresh.

faust serves only the web pages here: its Kafka consumer is switched off, since a faust
consumer joins a group and commits offsets, which must not decide what is shown.
"""

import asyncio
import json
import logging
from importlib import resources
from typing import Any

import faust
from aiohttp import web
from aiokafka import ConsumerRecord
from faust.app.base import BootStrategy

from ..clearing.reconcile import register_changelog
from ..exchange.contract.codec import AvroCodec, DecodeError
from ..exchange.contract.registry import registry_from_env
from ..exchange.contract.topics import Topics
from ..exchange.runtime.faust_app import make_app
from ..presentation import RegionNames
from ..reference import load_reference
from ..settings import Settings
from . import metrics
from .clearing import ClearingView
from .figures import Figures
from .reader import TopicReplay

log = logging.getLogger(__name__)

PUSH_SECONDS = 1.0
STATIC = resources.files("xsettle") / "dashboard" / "static"


def build(settings: Settings) -> faust.App:
    app = make_app("dashboard", settings, answer_path=False)
    app.boot_strategy = BootStrategy(app, enable_kafka=False)
    registry = registry_from_env(settings)
    codec = AvroCodec("settlement_result", registry)
    statement_codec = AvroCodec("clearing_statement", registry)
    topics = Topics(settings.namespace)
    figures = Figures(RegionNames(load_reference(settings)))
    clearing = ClearingView()

    def ingest(record: ConsumerRecord) -> None:
        try:
            result = codec.decode(record.value)
        except DecodeError:
            figures.undecodable += 1
            return
        figures.ingest(result)
        clearing.take_result(result)

    def ingest_statement(record: ConsumerRecord) -> None:
        try:
            clearing.take_statement(statement_codec.decode(record.value))
        except DecodeError:
            log.warning(
                "undecodable clearing statement line at %s:%s", record.partition, record.offset
            )

    def ingest_register(record: ConsumerRecord) -> None:
        clearing.take_register(record.key, record.value)

    reader = TopicReplay(settings, topics.results, ingest)
    clearing_readers = [
        TopicReplay(settings, topics.clearing_statements, ingest_statement),
        TopicReplay(settings, register_changelog(settings), ingest_register),
    ]
    for replay in (reader, *clearing_readers):
        app.task(replay.run)

    async def snapshot() -> dict[str, Any]:
        return figures.snapshot(reader.lag())

    async def health(request: web.Request) -> web.StreamResponse:
        return web.json_response({"service": app.conf.id, "status": "up"})

    async def ready(request: web.Request) -> web.StreamResponse:
        state = reader.state()
        return web.json_response(state, status=200 if state["ready"] else 503)

    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(
            text=(STATIC / "index.html").read_text("utf-8"), content_type="text/html"
        )

    async def figures_json(request: web.Request) -> web.StreamResponse:
        return web.json_response(await snapshot())

    async def clearing_json(request: web.Request) -> web.StreamResponse:
        """The clearing view; ``complete`` once every topic it is built from is read as
        far as it reached at the start (the changelog appears with the treatment service)."""
        complete = all(replay.caught_up for replay in (reader, *clearing_readers))
        return web.json_response({"complete": complete, "periods": clearing.snapshot()})

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
    router.add_get("/api/clearing", clearing_json)
    router.add_get("/metrics", prometheus)
    router.add_get("/health", health)
    router.add_get("/ready", ready)
    app.web.add_static("/static/", str(STATIC))
    return app
