"""robots.txt by RFC 9309: groups by product token, longest match wins, Allow wins ties.

Python's ``urllib.robotparser`` takes the first matching rule and knows no ``*`` or ``$``
wildcards, so it answers differently from the RFC (and from Google's reference parser).
``Crawl-delay`` is not in the RFC but widely used; it is read as an extension.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

MAX_ROBOTS_BYTES = 512 * 1024
_SAFE = "/?=&;:@+$,!*'()%#~"


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``Allow`` or ``Disallow`` line."""

    allow: bool
    pattern: str
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """The rules of the group that applies to our user agent."""

    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None
    unreachable_because: str = ""

    @classmethod
    def unreachable(cls, because: str) -> RobotsRules:
        """RFC 9309 2.3.1.4: robots.txt unreachable (5xx, network error): crawl nothing."""
        return cls(unreachable_because=because)

    def allowed(self, url: str) -> bool:
        """May ``url`` be fetched?"""
        parts = urlsplit(url)
        path = _normalise(parts.path or "/") + (
            f"?{_normalise(parts.query)}" if parts.query else ""
        )
        if parts.path == "/robots.txt":
            return True
        if self.unreachable_because:
            return False
        best: Rule | None = None
        for rule in self.rules:
            if rule.regex.match(path) and (
                best is None
                or len(rule.pattern) > len(best.pattern)
                or (len(rule.pattern) == len(best.pattern) and rule.allow)
            ):
                best = rule
        return best is None or best.allow


def _normalise(text: str) -> str:
    """Percent-encode the way RFC 9309 compares: non-ASCII encoded, escapes upper-cased."""
    return quote(unquote(text), safe=_SAFE)


def _compile(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(piece) for piece in _normalise(body).split("*"))
    return re.compile(regex + ("\\Z" if anchored else ""), re.DOTALL)


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    crawl_delay: float | None = None


def _lines(text: str) -> list[tuple[str, str]]:
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        key, colon, value = line.partition(":")
        if colon:
            found.append((key.strip().lower(), value.strip()))
    return found


def _groups(text: str) -> list[_Group]:
    groups: list[_Group] = []
    current: _Group | None = None
    for key, value in _lines(text):
        if key == "user-agent":
            if current is None or current.rules or current.crawl_delay is not None:
                current = _Group()
                groups.append(current)
            current.agents.append(value.split("/", 1)[0].strip().lower())
        elif current is not None and key in ("allow", "disallow") and value:
            current.rules.append(Rule(key == "allow", value, _compile(value)))
        elif current is not None and key == "crawl-delay":
            current.crawl_delay = _seconds(value)
    return groups


def _seconds(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86400 else None


def parse_robots(text: str, agent: str) -> RobotsRules:
    """The rules for product token ``agent`` (case-insensitive), else for ``*``."""
    groups = _groups(text)
    for token in (agent.lower(), "*"):
        chosen = [group for group in groups if token in group.agents]
        if chosen:
            delays = [g.crawl_delay for g in chosen if g.crawl_delay is not None]
            rules = tuple(rule for group in chosen for rule in group.rules)
            return RobotsRules(rules, max(delays) if delays else None)
    return RobotsRules()
