"""Guards on rendered digest HTML (pure).

The bundled templates pass these by construction; they catch an admin's own templates
before a broken message is frozen: scripts, external stylesheets (premailer would leave
them, and mail clients would fetch them) and links that only work on the site.
"""

from __future__ import annotations

import lxml.html

from swfeed.errors import DigestError
from swfeed.models import PREFERENCES_URL_TOKEN, RECIPIENT_ADDRESS_TOKEN, UNSUBSCRIBE_URL_TOKEN

ABSOLUTE_PREFIXES = ("https://", "http://", "mailto:")
PLACEHOLDERS = (UNSUBSCRIBE_URL_TOKEN, RECIPIENT_ADDRESS_TOKEN, PREFERENCES_URL_TOKEN)
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
