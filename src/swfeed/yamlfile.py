"""Strict YAML loading that remembers where every key and value came from.

Used for the config file and for article front matter. Unlike ``yaml.safe_load`` it:

- rejects duplicate keys (PyYAML silently keeps the last one);
- rejects anchors and aliases (alias bombs; and configs stay readable);
- rejects nesting deeper than ``MAX_DEPTH`` lists and mappings;
- resolves plain scalars by the YAML 1.2 core schema, so ``NO`` and ``off`` stay strings and
  ``12:30`` is the string "12:30", not the sexagesimal number 750;
- expands ``${VAR}`` from the environment (a missing variable is an error with its line;
  a value from the environment is never printed, errors show the ``${VAR}`` instead);
- records where every key path is, so validation errors can name file:line:column.

The text is parsed once, by libyaml (PyYAML's C parser) where PyYAML was built with it,
else by PyYAML's pure-Python parser (the same events, slower): the data is built straight
from the parser's events, and every rule above is checked on the way, so a fault stops the
parse where it is (an alias bomb never expands, a nesting bomb is never descended).
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import yaml

from swfeed import envvars
from swfeed.errors import ConfigError, Location

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError  # loaded by the callers that validate

try:
    from yaml import CSafeLoader as EventLoader
except ImportError:  # PyYAML built without libyaml: the same events from pure Python
    from yaml import SafeLoader as EventLoader  # type: ignore[assignment]

KeyPath = tuple[str | int, ...]
Mark = tuple[int, int]
"""A 1-based (line, column) in the file."""
#: Environment values this long are redacted wherever they appear in an error; shorter
#: ones (``5``, ``on``) only where they are quoted whole, so messages stay readable.
MIN_REDACTED = 3

_INT = re.compile(r"[-+]?[0-9]+\Z|0o[0-7]+\Z|0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_BARE_ENV = re.compile(r"(?<![$\w])\$([A-Z][A-Z0-9_]*)\b")
"""``$NAME`` in capitals without braces: meant as an environment variable, read as text."""
_PLAIN = (None, "")  # the style of a plain scalar (pure-Python parser, libyaml)
_MERGE = "tag:yaml.org,2002:merge"

MAX_DEPTH = 64
"""Deepest nesting of lists and mappings accepted."""
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"
"""libyaml's own nesting limit (1000): its scanner reads a line ahead, so a line of a
thousand brackets meets this limit before the parser hands us the 65th level."""


@dataclass
class YamlDocument:
    """Loaded data plus the location of every key path in it."""

    data: Any
    file: Path | str
    locations: dict[KeyPath, Mark] = field(default_factory=dict)
    value_locations: dict[KeyPath, Mark] = field(default_factory=dict)
    line_offset: int = 0
    #: Values that came from the environment: key path -> (as written, as expanded).
    from_environment: dict[KeyPath, tuple[str, str]] = field(default_factory=dict)

    def redact(self, text: str) -> str:
        """``text`` with every value that came from the environment replaced by what the
        file says (``${NAME}``): such values may be secrets and are never printed."""
        for written, expanded in self.from_environment.values():
            text = text.replace(repr(expanded), repr(written))
            if len(expanded) >= MIN_REDACTED:
                text = text.replace(expanded, written)
        return text

    def locate(self, path: KeyPath, *, value: bool = False) -> Location:
        """Where ``path``'s key (or, with ``value``, its value) is; else its nearest ancestor."""
        if value and tuple(path) in self.value_locations:
            return Location(self.file, *self.value_locations[tuple(path)])
        for end in range(len(path), -1, -1):
            found = self.locations.get(tuple(path[:end]))
            if found is not None:
                return Location(self.file, *found)
        return Location(self.file, 1 + self.line_offset, 1)


def format_key_path(path: KeyPath) -> str:
    """``("sources", 0, "path")`` -> ``sources[0].path``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def load_yaml(
    text: str,
    file: Path | str,
    *,
    environ: Mapping[str, str] | None = None,
    line_offset: int = 0,
    expand_env: bool = True,
) -> YamlDocument:
    """Parse one YAML document strictly; raise ``ConfigError`` naming file:line on any fault."""
    doc = YamlDocument(data=None, file=file, line_offset=line_offset)
    env = os.environ if environ is None else environ
    _refuse_tab_indent(text, doc)
    loader = EventLoader(text)
    try:
        doc.data = _Builder(loader, doc, env if expand_env else None).document()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.problem == _LIBYAML_TOO_DEEP:
            raise _too_deep(doc, mark) from None
        raise ConfigError(
            f"YAML syntax error: {exc.problem or exc.context}",
            location=_location(doc, mark),
            hint="Check indentation and quoting around this line; quote values containing ': '.",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", location=Location(file)) from None
    finally:
        loader.dispose()
    return doc


_TAB_INDENT = re.compile(r"^ *\t", re.MULTILINE)


def _refuse_tab_indent(text: str, doc: YamlDocument) -> None:
    """A tab in a line's indentation: YAML allows spaces only (PyYAML's own message,
    "found character '\\t' that cannot start any token", does not say so)."""
    match = _TAB_INDENT.search(text)
    if match is None:
        return
    line = text.count("\n", 0, match.start()) + 1
    raise ConfigError(
        "this line is indented with a tab; YAML indents with spaces only",
        location=Location(doc.file, line + doc.line_offset, match.end() - match.start()),
        hint="Replace the tab(s) with spaces (two per level is usual); many editors show "
        "tabs when you select the text.",
    )


def _too_deep(doc: YamlDocument, mark: Any) -> ConfigError:
    return ConfigError(
        f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
        location=_location(doc, mark),
        hint="Flatten the nesting; no swfeed setting needs such depth.",
    )


def _mark(doc: YamlDocument, mark: Any) -> Mark:
    return (mark.line + 1 + doc.line_offset, mark.column + 1)


def _location(doc: YamlDocument, mark: Any) -> Location:
    if mark is None:
        return Location(doc.file)
    return Location(doc.file, *_mark(doc, mark))


class _Builder:
    """Builds the data from the parser's events, checking the rules as it goes."""

    def __init__(
        self, loader: EventLoader, doc: YamlDocument, environ: Mapping[str, str] | None
    ) -> None:
        self.loader = loader
        self.doc = doc
        self.environ = environ

    def document(self) -> Any:
        """The one document of the stream ({} when there is none)."""
        loader = self.loader
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return {}
        loader.get_event()  # document start
        data = self.build(self.next_event(), (), 0)
        loader.get_event()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            second: Any = loader.get_event()
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                None,
                "but found another document",
                second.start_mark,
            )
        return data

    def next_event(self) -> Any:
        """The next event; anchors and aliases are refused where they first appear."""
        event: Any = self.loader.get_event()
        if getattr(event, "anchor", None) is not None:
            raise ConfigError(
                "YAML anchors and aliases (&name, *name) are not allowed",
                location=_location(self.doc, event.start_mark),
                hint="Write the value out in full instead of using & and *.",
            )
        return event

    def build(self, event: Any, path: KeyPath, depth: int) -> Any:
        """The value that starts with ``event``, inside ``depth`` lists and mappings."""
        here = _mark(self.doc, event.start_mark)
        self.doc.locations.setdefault(path, here)
        self.doc.value_locations[path] = here
        if isinstance(event, yaml.ScalarEvent):
            return self._scalar(event, path)
        if depth >= MAX_DEPTH:
            raise _too_deep(self.doc, event.start_mark)
        if isinstance(event, yaml.MappingStartEvent):
            return self._mapping(path, depth + 1)
        items: list[Any] = []
        while not self.loader.check_event(yaml.SequenceEndEvent):
            items.append(self.build(self.next_event(), (*path, len(items)), depth + 1))
        self.loader.get_event()
        return items

    def _mapping(self, path: KeyPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while not self.loader.check_event(yaml.MappingEndEvent):
            key_event = self.next_event()
            if key_event.tag == _MERGE or (
                key_event.tag is None
                and getattr(key_event, "style", "-") in _PLAIN
                and key_event.value == "<<"
            ):
                raise ConfigError(
                    "YAML merge keys (<<) are not allowed",
                    location=_location(self.doc, key_event.start_mark),
                    key=format_key_path(path),
                    hint="Write the keys out in full.",
                )
            if not isinstance(key_event, yaml.ScalarEvent):
                raise ConfigError(
                    "mapping keys must be plain words",
                    location=_location(self.doc, key_event.start_mark),
                    key=format_key_path(path),
                )
            key = str(key_event.value)
            if key in result:
                first_line = self.doc.locations[(*path, key)][0]
                raise ConfigError(
                    f"duplicate key {key!r} (first given on line {first_line})",
                    location=_location(self.doc, key_event.start_mark),
                    key=format_key_path((*path, key)),
                    hint="Keep one of the two; YAML would silently use only the last one.",
                )
            self.doc.locations[(*path, key)] = _mark(self.doc, key_event.start_mark)
            result[key] = self.build(self.next_event(), (*path, key), depth)
        self.loader.get_event()
        return result

    def _scalar(self, event: yaml.ScalarEvent, path: KeyPath) -> Any:
        value: str = event.value
        plain = event.style in _PLAIN and (event.tag in (None, "!") or event.tag in _IMPLICIT_TAGS)
        expanded = self._expand(value, event, path)
        if not plain:
            return expanded
        if not expanded and value:
            return expanded  # a variable set to "" is empty text, not a missing value
        return _resolve_core(expanded) if expanded == expanded.strip() else expanded

    def _expand(self, value: str, event: yaml.ScalarEvent, path: KeyPath) -> str:
        if self.environ is None:
            return value
        bare = _BARE_ENV.search(value)
        if bare is not None:
            name = bare.group(1)
            raise ConfigError(
                f"${name} reads no environment variable: write ${{{name}}}",
                location=_location(self.doc, event.start_mark),
                key=format_key_path(path),
                hint=f"swfeed reads an environment variable only in braces: ${{{name}}}.",
            )
        if "${" not in value:
            return value

        def missing(name: str) -> str:
            raise ConfigError(
                f"environment variable {name} is not set",
                location=_location(self.doc, event.start_mark),
                key=format_key_path(path),
                hint=f"Set it before running swfeed, e.g. `export {name}=...`.",
            )

        expanded = envvars.expand(value, self.environ, missing)
        self.doc.from_environment[path] = (value, expanded)
        return expanded


_IMPLICIT_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:value",
}


def _resolve_core(value: str) -> Any:
    """Resolve a plain scalar by the YAML 1.2 core schema (not PyYAML's YAML 1.1 rules)."""
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    if _INT.match(value):
        return int(value, 0) if value.startswith(("0o", "0x")) else int(value)
    if _FLOAT.match(value):
        return float(value)
    if value in (".inf", "+.inf", ".Inf", "+.Inf", ".INF", "+.INF"):
        return math.inf
    if value in ("-.inf", "-.Inf", "-.INF"):
        return -math.inf
    return value


def _pydantic_hint(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "extra_forbidden":
        return "Remove this key, or check its spelling against `swfeed config schema`."
    if kind == "missing":
        return "Add this key; it has no default."
    if kind.startswith("bool"):
        return "Write true or false (YAML 1.1 words like yes/no/on/off are not accepted)."
    if kind in ("int_type", "int_parsing", "float_type", "float_parsing"):
        return "Write a plain number, without quotes or units."
    if kind in ("string_type",):
        return "Quote the value to make it text."
    if kind in {"literal_error", "enum"}:
        return "Use one of the values listed."
    if kind == "url_parsing":
        return "Write the full address with its scheme, e.g. https://www.example.org/."
    return ""


def validation_errors(
    exc: ValidationError,
    doc: YamlDocument,
    *,
    prefix: KeyPath = (),
    model: type[BaseModel] | None = None,
) -> list[ConfigError]:
    """Turn pydantic's errors into ``ConfigError``s that name file:line:column and key.

    With ``model`` (the model ``doc.data`` was validated against), a misspelt key gets a
    "did you mean" hint. Never includes the offending input value, so secrets cannot leak.
    """
    errors: list[ConfigError] = []
    for error in exc.errors(include_input=False, include_url=False):
        path: KeyPath = (*prefix, *_strip_union_tags(doc.data, prefix, error["loc"]))
        message = str(error["msg"])
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if error["type"] == "url_parsing" and "relative URL without a base" in message:
            message = "not a full address: the scheme (https://) is missing"
        ctx_hint = (error.get("ctx") or {}).get("hint")
        if error["type"] == "extra_forbidden" and model is not None and path:
            ctx_hint = _did_you_mean(model, doc.data, path) or ctx_hint
        at_value = error["type"] not in ("missing", "extra_forbidden")
        hint = str(ctx_hint) if ctx_hint else _pydantic_hint(error)
        errors.append(
            ConfigError(
                doc.redact(message),
                location=doc.locate(path, value=at_value),
                key=format_key_path(path),
                hint=doc.redact(hint),
            )
        )
    return errors


def _did_you_mean(model: type[BaseModel], data: Any, path: KeyPath) -> str | None:
    """A hint naming the valid key closest to the misspelt last part of ``path``."""
    allowed = _keys_at(model, data, path[:-1])
    close = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return f"Did you mean `{close[0]}`? Valid keys here: {', '.join(allowed)}."
    if allowed:
        return f"Remove this key. Valid keys here: {', '.join(allowed)}."
    return None


def _keys_at(model: type[BaseModel], data: Any, path: KeyPath) -> list[str]:
    """The field names of the model that validates the mapping at ``path``."""
    annotation: Any = model
    node = data
    for part in path:
        if isinstance(part, str):
            current = _model_for(annotation, node)
            info = current.model_fields.get(part) if current is not None else None
            annotation = info.annotation if info is not None else None
        node = _child(node, part)
    found = _model_for(annotation, node)
    if found is None:
        return []
    return [name for name, info in found.model_fields.items() if not info.exclude]


def _model_for(annotation: Any, value: Any) -> type[BaseModel] | None:
    """The model inside ``annotation`` (unwrapping Optional, list, Annotated, unions) for
    ``value``; for a tagged union, the member whose ``kind`` matches the value's."""
    candidates = _models_in(annotation)
    if len(candidates) > 1 and isinstance(value, dict):
        for candidate in candidates:
            kind = candidate.model_fields.get("kind")
            if kind is not None and value.get("kind") in get_args(kind.annotation):
                return candidate
    return candidates[0] if len(candidates) == 1 else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _strip_union_tags(data: Any, prefix: KeyPath, loc: tuple[str | int, ...]) -> KeyPath:
    """pydantic puts a tagged union's tag (``content`` of ``kind: content``) into ``loc``.

    Walk the data alongside ``loc`` and drop such parts, so the path matches the file.
    """
    node = data
    for part in prefix:
        node = _child(node, part)
    kept: list[str | int] = []
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("kind") == part:
            continue
        kept.append(part)
        node = _child(node, part)
    return tuple(kept)


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None
