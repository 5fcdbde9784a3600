"""robots.txt by RFC 9309: group choice, longest match, wildcards, crawl-delay."""

from __future__ import annotations

from swfeed.sources.robots import RobotsRules, parse_robots

BASE = "https://site.example"


def allowed(text: str, path: str, agent: str = "swfeed") -> bool:
    return parse_robots(text, agent).allowed(BASE + path)


def test_longest_match_wins() -> None:
    """A longer Allow overrides a shorter Disallow."""
    text = "User-agent: *\nDisallow: /news/\nAllow: /news/public/\n"
    assert allowed(text, "/news/public/item")
    assert not allowed(text, "/news/private")


def test_allow_wins_a_tie() -> None:
    """Equally long Allow and Disallow: Allow wins."""
    text = "User-agent: *\nDisallow: /page\nAllow: /page\n"
    assert allowed(text, "/page")


def test_wildcards_and_end_anchor() -> None:
    """'*' matches any run of characters and '$' anchors the end."""
    text = "User-agent: *\nDisallow: /*.pdf$\nDisallow: /search*q=\n"
    assert not allowed(text, "/files/report.pdf")
    assert allowed(text, "/files/report.pdf?download=1")
    assert not allowed(text, "/search?lang=en&q=women")


def test_own_group_beats_the_star_group() -> None:
    """The group naming swfeed applies instead of '*', case-insensitively."""
    text = "User-agent: *\nDisallow: /\n\nUser-agent: SwFeed\nAllow: /\n"
    assert allowed(text, "/news")
    assert not allowed(text, "/news", agent="otherbot")


def test_groups_for_the_same_agent_are_merged() -> None:
    """Two groups for swfeed are combined."""
    text = "User-agent: swfeed\nDisallow: /a\n\nUser-agent: swfeed\nDisallow: /b\n"
    assert not allowed(text, "/a")
    assert not allowed(text, "/b")
    assert allowed(text, "/c")


def test_consecutive_user_agent_lines_share_rules() -> None:
    """Several User-agent lines before the rules form one group."""
    text = "User-agent: otherbot\nUser-agent: swfeed\nDisallow: /x\n"
    assert not allowed(text, "/x")


def test_no_matching_group_allows_everything() -> None:
    """Rules for other agents only: everything is allowed."""
    assert allowed("User-agent: otherbot\nDisallow: /\n", "/news")


def test_empty_disallow_allows_everything() -> None:
    """'Disallow:' with no path forbids nothing."""
    assert allowed("User-agent: *\nDisallow:\n", "/news")


def test_robots_txt_itself_is_always_allowed() -> None:
    """/robots.txt may always be fetched."""
    assert parse_robots("User-agent: *\nDisallow: /\n", "swfeed").allowed(BASE + "/robots.txt")


def test_comments_and_percent_encoding() -> None:
    """Comments are ignored; paths compare percent-encoded."""
    text = "User-agent: * # everyone\nDisallow: /caf%C3%A9 # the café\n"
    assert not allowed(text, "/café/menu")


def test_crawl_delay_is_read() -> None:
    """Crawl-delay (an extension) is kept for the politeness interval."""
    assert parse_robots("User-agent: *\nCrawl-delay: 4\n", "swfeed").crawl_delay == 4.0


def test_unreachable_robots_disallows_everything() -> None:
    """An unreachable robots.txt forbids every URL but robots.txt itself."""
    rules = RobotsRules.unreachable("robots.txt answered HTTP 503")
    assert not rules.allowed(BASE + "/")
    assert rules.allowed(BASE + "/robots.txt")
