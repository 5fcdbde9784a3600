"""The worker inside `swfeed serve` that sends confirmation and welcome mails.

A page only queues a mail and wakes the worker; the worker sends it within seconds
through the same transport as the digest (the outbox, or the SMTP relay), built by the
same message code. It also forgets sign-ups not confirmed in time. A mail whose reason
went away meanwhile (the sign-up expired or was confirmed, the person left or was
erased) is dropped, not sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from swfeed.config import Config
from swfeed.delivery.message import Mail, dot_stuff, single_message
from swfeed.delivery.outgoing import open_transport
from swfeed.delivery.settings import delivery_config, message_settings
from swfeed.delivery.transport import Attempt, Envelope, Transport
from swfeed.errors import DeliveryError, SwfeedError
from swfeed.signup.mails import mail_message_id, mail_view, render_mail
from swfeed.signup.settings import SignupSettings, offered_topics
from swfeed.store import Database
from swfeed.store.deliveries import State
from swfeed.store.issues import IssueStore
from swfeed.store.mailqueue import Kind, MailQueue, QueuedMail
from swfeed.store.subscribers import Status, Subscriber, SubscriberStore

POLL_SECONDS = 5.0
KEEP_FINISHED = timedelta(days=30)

log = logging.getLogger("swfeed.signup")


class MailWorker:
    """A background thread that empties the mail queue; ``notify`` wakes it."""

    def __init__(
        self,
        config: Config,
        settings: SignupSettings,
        now: Callable[[], datetime],
        transport: Callable[[Config], Transport] = open_transport,
    ) -> None:
        self.config = config
        self.settings = settings
        self.now = now
        self.transport = transport
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def ensure_started(self) -> None:
        """Start the thread unless it runs (``swfeed serve`` starts it with the app, through
        the ASGI lifespan; a queued mail also starts it)."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="swfeed-mail", daemon=True)
                self._thread.start()

    def notify(self) -> None:
        self.ensure_started()
        self.wake.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        recover = True
        while not self.stopping.is_set():
            try:
                self.run_once(recover=recover)
                recover = False
            except SwfeedError as exc:
                log.warning("mail queue: %s", exc.message)
            except Exception:  # the worker outlives any one failure; the next wake retries
                log.exception("mail queue: unexpected error")
            self.wake.wait(POLL_SECONDS)
            self.wake.clear()

    def run_once(self, recover: bool = False) -> int:
        """Send what is due now; how many mails were handed over."""
        with Database(self.config.store.path) as db:
            queue = MailQueue(db)
            now = self.now()
            if recover:
                queue.recover_in_flight(now)
            SubscriberStore(db).expire(now, self.settings.rules.confirm_within)
            queue.prune(now - KEEP_FINISHED)
            due = queue.due(now)
            if not due:
                return 0
            transport = self.transport(self.config)
            try:
                return sum(self._send(db, queue, mail, transport) for mail in due)
            finally:
                transport.close()

    def _send(
        self, db: Database, queue: MailQueue, queued: QueuedMail, transport: Transport
    ) -> int:
        now = self.now()
        mail = self._compose(db, queued, now)
        if mail is None:
            queue.settle(queued.id, "dropped", now, "no longer wanted")
            return 0
        settings = message_settings(self.config)
        data = single_message(mail, settings, now)
        data = dot_stuff(data) if transport.dot_stuffed else data
        envelope = Envelope(settings.from_address, mail.to.address, mail.message_id)
        claimed = False

        def claim() -> bool:
            nonlocal claimed
            claimed = queue.claim(queued.id, now)
            return claimed

        try:
            attempt = transport.send(envelope, data, claim)
        except DeliveryError:
            if claimed:
                queue.settle(queued.id, "pending", self.now())
            raise
        if attempt is None:
            return 0
        self._settle(queue, queued, attempt)
        return 1

    def _settle(self, queue: MailQueue, queued: QueuedMail, attempt: Attempt) -> None:
        now = self.now()
        delivery = delivery_config(self.config)
        if attempt.state is not State.DEFERRED:
            queue.settle(queued.id, attempt.state.value, now, attempt.reply)
        elif queued.attempts + 1 >= delivery.max_attempts:
            queue.settle(queued.id, "failed", now, f"gave up: {attempt.reply}")
        else:
            later = now + delivery.retry_delay * 2**queued.attempts
            queue.settle(queued.id, "deferred", now, attempt.reply, later)

    def _compose(self, db: Database, queued: QueuedMail, now: datetime) -> Mail | None:
        """The mail, or None when its reason went away."""
        store = SubscriberStore(db)
        subscriber = store.by_id(queued.subscriber)
        if subscriber is None:
            return None
        extra = self._extra(db, queued.kind, subscriber, now)
        if extra is None:
            return None
        view = mail_view(self.config, self.settings, queued.kind, subscriber, extra)
        from_address = message_settings(self.config).from_address
        message_id = mail_message_id(queued.kind, queued.id, subscriber.ident, from_address)
        return render_mail(self.config, queued.kind, view, message_id)

    def _extra(
        self, db: Database, kind: Kind, subscriber: Subscriber, now: datetime
    ) -> dict[str, object] | None:
        """What the mail of ``kind`` needs beyond the subscriber; None if it is not wanted."""
        store = SubscriberStore(db)
        if kind is Kind.CONFIRM:
            confirm_id = store.confirm_id_of(subscriber.ident)
            within = self.settings.rules.confirm_within
            if confirm_id is None or store.waiting(confirm_id, now, within) is None:
                return None
            return {"confirm_id": confirm_id}
        if subscriber.status is not Status.ACTIVE:
            return None
        names = dict(offered_topics(self.config, db, now))
        sent = [r.issue for r in IssueStore(db).list(5) if r.status == "sent"]
        return {
            "latest": sent[0] if sent else None,
            "topic_names": [names.get(slug, slug) for slug in subscriber.topics],
        }
