"""The pages of the subscriber side, as Starlette routes of `swfeed serve`'s app.

- ``/subscribe``: GET shows the form (``?embed=1``: the bare form, for an iframe on the
  site, which ``frame-ancestors`` allows); POST answers the same "check your inbox" page
  with the same status after the same time, whatever the address's standing.
- ``/confirm?t=TOKEN``: GET shows a Confirm button and changes nothing (mail scanners
  follow links); POST confirms and queues the welcome.
- ``/preferences?t=TOKEN``: GET shows the form; POST saves topics and pause, or leaves,
  or erases everything held on the person.

No page needs JavaScript. Every page is ``no-store``, ``no-referrer`` and unindexed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from swfeed.config import Config
from swfeed.errors import StoreError
from swfeed.mailinglist.addresses import SubscriberError, normalize_address
from swfeed.mailinglist.tokens import Purpose, form_token
from swfeed.signup import service
from swfeed.signup.clients import client_address
from swfeed.signup.forms import (
    FormTooLarge,
    first_value,
    preferences_form,
    read_form,
    signup_form,
)
from swfeed.signup.mails import signed
from swfeed.signup.settings import SignupSettings, offered_topics, signup_settings, why_off
from swfeed.signup.worker import MailWorker
from swfeed.store import Database
from swfeed.store.subscribers import Subscriber

#: Every answer to POST /subscribe takes at least this long, so its timing tells nothing.
ANSWER_FLOOR_SECONDS = 0.6
RETRY_AFTER_SECONDS = 5

Render = Callable[..., HTMLResponse]


class SignupPages:
    """The handlers, sharing the settings, the clock, the page renderer and the worker."""

    def __init__(
        self,
        config: Config,
        settings: SignupSettings,
        now: Callable[[], datetime],
        render: Render,
        worker: MailWorker,
    ) -> None:
        self.config = config
        self.settings = settings
        self.now = now
        self.render = render
        self.worker = worker

    def routes(self) -> list[Route]:
        return [
            Route("/subscribe", self.subscribe, methods=["GET", "POST"]),
            Route("/confirm", self.confirm, methods=["GET", "POST"]),
            Route("/preferences", self.preferences, methods=["GET", "POST"]),
        ]

    # -- helpers ---------------------------------------------------------------------------

    def _db(self) -> Database:
        return Database(self.config.store.path)

    def _topics(self) -> list[tuple[str, str]]:
        with self._db() as db:
            return offered_topics(self.config, db, self.now())

    def _page(self, status: int, template: str, embed: bool = False, **context: Any) -> Response:
        response = self.render(status, template, embed=embed, **context)
        ancestors = f"'self' {self.settings.site_origin}" if embed else "'none'"
        policy = response.headers["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = f"{policy}; frame-ancestors {ancestors}"
        return response

    def _busy(self, embed: bool = False) -> Response:
        response = self._page(503, "busy.html.j2", embed)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    async def _token(self, request: Request) -> tuple[str, dict[str, list[str]]]:
        """The ``t`` of the query (or of the posted form), and the posted fields."""
        fields = dict(await read_form(request)) if request.method == "POST" else {}
        return request.query_params.get("t") or first_value(fields, "t"), fields

    # -- /subscribe ------------------------------------------------------------------------

    async def subscribe(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._form(request.query_params.get("embed") == "1", request)
        started = time.monotonic()
        try:
            response = await self._sign_up(request)
        except FormTooLarge:
            response = self._page(413, "form_too_large.html.j2")
        except StoreError:
            response = self._busy()
        await asyncio.sleep(max(0.0, ANSWER_FLOOR_SECONDS - (time.monotonic() - started)))
        return response

    async def _form(
        self, embed: bool, request: Request, error: str = "", status: int = 200, **old: Any
    ) -> Response:
        topics = await run_in_threadpool(self._topics)
        referer = request.headers.get("referer", "")
        page = old.pop("page", None) or (referer if referer.startswith("http") else None)
        return self._page(
            status,
            "subscribe.html.j2",
            embed,
            topics=topics,
            form_token=form_token(self.settings.keys[0], self.now()),
            privacy_url=self.settings.privacy_url,
            consent_page=(page or self.settings.urls.subscribe)[:500],
            error=error,
            old=old,
        )

    async def _sign_up(self, request: Request) -> Response:
        fields = await read_form(request)
        offered = [slug for slug, _name in await run_in_threadpool(self._topics)]
        form = signup_form(fields, offered)
        try:
            address = normalize_address(form.email)
        except SubscriberError:
            error = "Please enter an email address such as name@example.org."
            return await self._form(
                form.embed,
                request,
                error,
                400,
                email=form.email,
                name=form.name,
                topics=form.topics,
                page=form.page,
            )
        client = client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            self.settings.trusted_proxies,
        )
        queued = await run_in_threadpool(self._record_sign_up, form, address, client)
        if queued:
            self.worker.notify()
        return self._page(200, "subscribe_sent.html.j2", form.embed)

    def _record_sign_up(self, form: Any, address: str, client: str) -> bool:
        with self._db() as db:
            return service.sign_up(self.settings, db, form, address, client, self.now())

    # -- /confirm --------------------------------------------------------------------------

    async def confirm(self, request: Request) -> Response:
        try:
            token, _fields = await self._token(request)
            if request.method == "GET":
                found = await run_in_threadpool(self._in_db, service.waiting, token)
                if found is None:
                    return self._page(400, "confirm_invalid.html.j2")
                return self._page(200, "confirm.html.j2", address=found.address, token=token)
            confirmed = await run_in_threadpool(self._in_db, service.confirm, token)
        except FormTooLarge:
            return self._page(413, "form_too_large.html.j2")
        except StoreError:
            return self._busy()
        if confirmed is None:
            return self._page(400, "confirm_invalid.html.j2")
        self.worker.notify()
        return self._page(
            200,
            "confirm_done.html.j2",
            address=confirmed.address,
            preferences_url=self._preferences_url(confirmed),
        )

    def _in_db(self, action: Callable[..., Subscriber | None], token: str) -> Subscriber | None:
        with self._db() as db:
            return action(self.settings, db, token, self.now())

    def _preferences_url(self, subscriber: Subscriber) -> str:
        """A relative link to the subscriber's preference page (on this host)."""
        return signed("preferences", self.settings.keys[0], Purpose.PREFERENCES, subscriber.ident)

    # -- /preferences ----------------------------------------------------------------------

    async def preferences(self, request: Request) -> Response:
        try:
            token, fields = await self._token(request)
            found = await run_in_threadpool(self._holder, token)
            if found is None:
                return self._page(400, "link_invalid.html.j2")
            if request.method == "GET":
                return await self._preferences_page(found, token)
            return await self._save(found, token, fields)
        except FormTooLarge:
            return self._page(413, "form_too_large.html.j2")
        except StoreError:
            return self._busy()

    def _holder(self, token: str) -> Subscriber | None:
        with self._db() as db:
            return service.holder(self.settings, db, token)

    async def _preferences_page(
        self, subscriber: Subscriber, token: str, status: int = 200, **notes: Any
    ) -> Response:
        topics = await run_in_threadpool(self._topics)
        pause = subscriber.paused_until
        return self._page(
            status,
            "preferences.html.j2",
            subscriber=subscriber,
            topics=topics,
            chosen=set(subscriber.topics),
            pause_until=pause.astimezone(self.settings.zone).date().isoformat() if pause else "",
            token=token,
            saved=notes.get("saved", False),
            error=notes.get("error", ""),
        )

    async def _save(
        self, subscriber: Subscriber, token: str, fields: dict[str, list[str]]
    ) -> Response:
        offered = [slug for slug, _name in await run_in_threadpool(self._topics)]
        form = preferences_form(fields, offered)
        if form.pause_error:
            error = "Please give the date as YYYY-MM-DD, or leave it empty."
            return await self._preferences_page(subscriber, token, 400, error=error)
        outcome = await run_in_threadpool(self._apply, subscriber, form)
        if outcome == "erased":
            return self._page(200, "erased.html.j2")
        if outcome == "left":
            return self._page(200, "unsubscribe_done.html.j2", address=subscriber.address)
        refreshed = await run_in_threadpool(self._holder, token)
        return await self._preferences_page(refreshed or subscriber, token, saved=True)

    def _apply(self, subscriber: Subscriber, form: Any) -> str:
        with self._db() as db:
            return service.save_preferences(self.settings, db, subscriber, form, self.now())


@dataclass
class SignupSide:
    """The routes of the subscriber side and its mail worker (run for the app's life)."""

    routes: list[Route]
    worker: MailWorker

    @asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        self.worker.ensure_started()
        try:
            yield
        finally:
            await run_in_threadpool(self.worker.stop)


def signup_side(config: Config, now: Callable[[], datetime], render: Render) -> SignupSide | None:
    """The subscriber side for ``config``, or None when it is off (see ``why_off``)."""
    if why_off(config) is not None:
        return None
    settings = signup_settings(config)
    worker = MailWorker(config, settings, now)
    return SignupSide(SignupPages(config, settings, now, render, worker).routes(), worker)
