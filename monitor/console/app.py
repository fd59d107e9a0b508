"""The console's pages and forms on an aiohttp application: served by the daemon beside
``/healthz`` (``mount``) or alone by ``monitor console``.

Every page is rendered on the server (Jinja2, every value escaped) and reads without
JavaScript; the one script (``static/console.js``) only adds conveniences. Reads go to the
store; the rule tester runs the rules in a thread (a sentence may need the parser), so serving
a page never holds the event loop.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from monitor.console import pages
from monitor.console.context import Desk
from monitor.console.listing import BadFilter
from monitor.console.security import COOKIE, HEADERS, Gate, same_origin
from monitor.logs import event

log = logging.getLogger("monitor.console")

HERE = Path(str(resources.files("monitor.console")))
STATIC = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
}


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: a posted form: each field's values
Form = Mapping[str, list[Any]]


def mount(app: web.Application, desk: Desk, listen: str) -> None:
    """The console's routes on ``app``; ``listen``: where it answers (loopback: reading is
    open to anyone on this machine)."""
    from monitor.settings import loopback

    token = desk.settings().console.token
    gate = Gate(token.get_secret_value() if token else None, loopback(listen))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    console = Console(desk, gate, env)
    app.middlewares.append(_headers)
    for path, handler in (
        ("/", console.home),
        ("/alerts", console.alerts),
        ("/alerts.csv", console.alerts_csv),
        ("/alerts.json", console.alerts_json),
        ("/story/{id:\\d+}", console.story),
        ("/sources", console.sources),
        ("/tester", console.tester),
        ("/evaluation", console.evaluation),
        ("/labels.json", console.labels),
        ("/login", console.login_form),
        ("/static/{name}", console.static),
    ):
        app.router.add_get(path, handler)
    for path, handler in (
        ("/tester", console.tester),
        ("/sources", console.sources),
        ("/verdict", console.verdict),
        ("/mute", console.mute),
        ("/unmute", console.unmute),
        ("/login", console.login),
        ("/logout", console.logout),
    ):
        app.router.add_post(path, handler)


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every response with the console's headers; an unexpected error is logged with its
    traceback and answered with a plain 500 (never a traceback to the browser)."""
    try:
        response = await handler(request)
    except web.HTTPException as e:
        e.headers.update(HEADERS)
        raise
    except Exception:
        log.exception(
            "console page failed (a bug: please report it)",
            extra={"fields": {"path": request.path}},
        )
        response = web.Response(status=500, text="the console failed on this page; see the log\n")
    response.headers.update(HEADERS)
    return response


class Console:
    def __init__(self, desk: Desk, gate: Gate, env: jinja2.Environment) -> None:
        self.desk, self.gate, self.env = desk, gate, env

    # -- rendering -------------------------------------------------------------------------

    def page(
        self, request: web.Request, template: str, status: int = 200, **values: Any
    ) -> web.Response:
        html = self.env.get_template(template).render(
            csrf=self.gate.csrf,
            writable=self.gate.token is not None and self.gate.signed_in(request),
            signed_in=self.gate.signed_in(request),
            read_only=self.gate.token is None,
            path=request.path,
            **values,
        )
        return web.Response(
            text=html,
            status=status,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    def refused(self, request: web.Request, status: int, why: str) -> web.Response:
        return self.page(request, "message.html", status=status, title="Refused", message=why)

    def _readable(self, request: web.Request) -> None:
        """Reading off loopback needs the token: to the sign-in page first."""
        if not self.gate.may_read(request):
            raise web.HTTPSeeOther("/login")

    # -- pages -----------------------------------------------------------------------------

    async def home(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPSeeOther("/alerts")

    async def alerts(self, request: web.Request) -> web.StreamResponse:
        self._readable(request)
        try:
            found = await pages.find(self.desk, request.query)
        except BadFilter as e:
            return self.refused(request, 400, str(e))
        return self.page(request, "alerts.html", **found)

    async def _export(self, request: web.Request) -> list[dict[str, Any]]:
        self._readable(request)
        try:
            return await pages.export(self.desk, request.query)
        except BadFilter as e:
            raise web.HTTPBadRequest(text=str(e)) from e

    async def alerts_csv(self, request: web.Request) -> web.StreamResponse:
        rows = await self._export(request)

        def written() -> str:  # up to 10,000 rows: in a thread, not on the event loop
            out = io.StringIO()
            pages.write_csv(csv.writer(out), rows)
            return out.getvalue()

        return web.Response(
            text=await asyncio.to_thread(written),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="alerts.csv"'},
        )

    async def alerts_json(self, request: web.Request) -> web.StreamResponse:
        rows = await self._export(request)
        body = await asyncio.to_thread(json.dumps, rows, ensure_ascii=False)
        return web.Response(text=body, content_type="application/json", charset="utf-8")

    async def story(self, request: web.Request) -> web.StreamResponse:
        self._readable(request)
        found = await pages.story(self.desk, int(request.match_info["id"]))
        if found is None:
            return self.refused(request, 404, "no such story")
        return self.page(request, "story.html", **found)

    async def sources(self, request: web.Request) -> web.StreamResponse:
        """Every source's health; posted an address, what ``inspect`` would take from it."""
        self._readable(request)
        preview = None
        if request.method == "POST":
            if not same_origin(request):
                return self.refused(request, 403, "a form posted from another site")
            posted = await request.post()
            preview = await pages.preview(self.desk, str(posted.get("url") or ""))
        found = await pages.sources(self.desk)
        return self.page(request, "sources.html", preview=preview, **found)

    async def tester(self, request: web.Request) -> web.StreamResponse:
        self._readable(request)
        result = None
        form: dict[str, str] = {"text": "", "url": "", "date": ""}
        if request.method == "POST":
            if not same_origin(request):
                return self.refused(request, 403, "a form posted from another site")
            posted = await request.post()
            form = {k: str(posted.get(k) or "") for k in form}
            result = await pages.try_rules(self.desk, form)
        return self.page(request, "tester.html", form=form, result=result)

    async def evaluation(self, request: web.Request) -> web.StreamResponse:
        self._readable(request)
        return self.page(request, "evaluation.html", **await pages.evaluation(self.desk))

    async def labels(self, request: web.Request) -> web.StreamResponse:
        self._readable(request)
        from monitor.desk import as_label

        verdicts = list(reversed(await self.desk.store.verdicts()))
        body = json.dumps([as_label(v) for v in verdicts], ensure_ascii=False, indent=1)
        return web.Response(
            text=body,
            content_type="application/json",
            charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="desk-labels.json"'},
        )

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(
            body=(HERE / "static" / name).read_bytes(),
            headers={"Content-Type": STATIC[name], "Cache-Control": "max-age=3600"},
        )

    # -- writes ----------------------------------------------------------------------------

    async def _write(
        self, request: web.Request, write: Callable[[Desk, Form], Awaitable[str | None]]
    ) -> web.StreamResponse:
        """A form that writes: refused (403, nothing written) unless the gate lets it
        through; then ``write``'s problem (400), or back to the page it came from."""
        posted = await request.post()
        refusal = self.gate.write_refusal(request, _text(posted.get("csrf")))
        if refusal is not None:
            event(log, logging.WARNING, "console write refused", path=request.path, why=refusal)
            return self.refused(request, 403, refusal)
        form: Form = {k: posted.getall(k) for k in set(posted.keys())}
        problem = await write(self.desk, form)
        if problem:
            return self.refused(request, 400, problem)
        raise web.HTTPSeeOther(_back(form))

    async def verdict(self, request: web.Request) -> web.StreamResponse:
        return await self._write(request, pages.give_verdict)

    async def mute(self, request: web.Request) -> web.StreamResponse:
        return await self._write(request, pages.add_mute)

    async def unmute(self, request: web.Request) -> web.StreamResponse:
        return await self._write(request, pages.end_mute)

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        return self.page(request, "login.html", failed=False)

    async def login(self, request: web.Request) -> web.StreamResponse:
        posted = await request.post()
        if not same_origin(request):
            return self.refused(request, 403, "a form posted from another site")
        if not self.gate.right_token(_text(posted.get("token")) or ""):
            event(log, logging.WARNING, "console sign-in refused")
            return self.page(request, "login.html", status=403, failed=True)
        response = web.HTTPSeeOther("/alerts")
        response.set_cookie(
            COOKIE,
            self.gate.session,
            httponly=True,
            samesite="Strict",
            max_age=int(timedelta(days=30).total_seconds()),
            path="/",
        )
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        raise response


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _back(form: Form) -> str:
    """Where a form returns to: the page it came from (a path of this console only)."""
    back = str((form.get("back") or [""])[0]).strip()
    # "//host" and "/\host" are other sites to a browser
    elsewhere = back.startswith(("//", "/\\")) or any(c in back for c in "\r\n")
    return back if back.startswith("/") and not elsewhere else "/alerts"
