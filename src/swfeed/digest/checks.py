"""Guards on rendered digest HTML and readable template errors (pure).

The bundled templates pass these by construction; they catch an admin's own templates
before a broken message is frozen: scripts, external stylesheets (premailer would leave
them, and mail clients would fetch them) and links that only work on the site.
"""

from __future__ import annotations

import traceback

import jinja2
import lxml.html

from swfeed.errors import DigestError
from swfeed.models import RECIPIENT_ADDRESS_TOKEN, UNSUBSCRIBE_URL_TOKEN

ABSOLUTE_PREFIXES = ("https://", "http://", "mailto:")
PLACEHOLDERS = (UNSUBSCRIBE_URL_TOKEN, RECIPIENT_ADDRESS_TOKEN)
_HINT = (
    "Fix the digest templates (digest.templates in the config), then run `swfeed digest preview`."
)


def check_html(html: str, template: str) -> None:
    """Raise a ``DigestError`` for scripts, linked stylesheets or relative URLs."""
    for element in lxml.html.document_fromstring(html).iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "script":
            raise DigestError(f"{template}: the digest must not contain <script>", hint=_HINT)
        if tag == "link" and "stylesheet" in (element.get("rel") or "").lower().split():
            raise DigestError(
                f"{template}: <link rel=stylesheet> is not allowed; put the CSS in digest.css",
                hint=_HINT,
            )
        for attribute in ("href", "src"):
            url = (element.get(attribute) or "").strip()
            if url and not url.startswith(ABSOLUTE_PREFIXES) and url not in PLACEHOLDERS:
                raise DigestError(
                    f"{template}: <{tag} {attribute}={url!r}> is not an absolute URL; "
                    "mail clients cannot follow it",
                    hint=_HINT,
                )


def template_error(exc: jinja2.TemplateError, name: str) -> DigestError:
    """A Jinja2 error as a ``DigestError`` naming the template file and line."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = f"{exc.filename or exc.name or name}:{exc.lineno}"
    else:
        where = _template_frame(exc) or name
    return DigestError(f"{where}: {exc.message or exc}", hint=_HINT)


def _template_frame(exc: BaseException) -> str | None:
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if frame.filename.endswith(".j2") or frame.filename.endswith(".css"):
            return f"{frame.filename}:{frame.lineno}"
    return None
