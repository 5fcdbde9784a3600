"""The validated config, kept between runs, as Python keeps compiled modules in __pycache__.

Once a config file has validated, the next command with the same inputs loads the result
from a file instead of parsing the YAML and validating it again (which needs PyYAML,
email-validator and pydantic's validators). The cache can only save time, never change a
result:

- **Its key covers every input of the validation**: the config file's absolute path and
  bytes; the value of every environment variable the text names in ``${...}`` and of HOME
  (``~`` in paths), hashed together with the rest and never stored; swfeed's version and
  its own files (size and modification time of each); the Python that runs and the files
  of the libraries that validate (pydantic, pydantic-core, PyYAML, email-validator, idna,
  cssselect, Jinja2, tzdata). What validation looks at on disk is checked on each load:
  the kind (folder, file, missing) of every path the config names and of the time zone's
  file, recorded when the entry was written. Any difference is a miss.
- **Nothing that came from the environment is written**: such values (the unsubscribe and
  SMTP/IMAP secrets, ...) are stored as the ``${NAME}`` text the config gives and read from
  the environment again on load; a secret written in the file itself, or a value from the
  environment that would still show in the entry, keeps the config out of the cache.
- **Only the user's own files are read**: ``$XDG_CACHE_HOME/swfeed`` (else
  ``~/.cache/swfeed``), a folder of mode 0700 holding files of mode 0600; a folder or file
  owned by someone else, or writable by group or others, is neither read nor written.
- A config with errors is never kept; ``swfeed check`` always validates; anything wrong
  with the cache (unwritable, corrupt, stale, unpicklable) means a full load, silently.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swfeed import __version__, envvars
from swfeed.ownfiles import own_files

if TYPE_CHECKING:
    from swfeed.config import Config
    from swfeed.yamlfile import YamlDocument

FORMAT = b"swfeed validated config 1\n"
"""The first line of every cache file; a file that starts otherwise is not read."""
MAX_LOOKED_UP = 1_000_000
"""A config file larger than this is not looked up (the full load says why it is refused)."""
LIBRARIES = (
    "pydantic",
    "pydantic_core",
    "yaml",
    "email_validator",
    "idna",
    "cssselect",
    "jinja2",
    "tzdata",
)
"""The libraries whose code decides what a config validates to."""
ALLOWED_GLOBALS = {
    "swfeed.config": None,
    "swfeed.buildstamp": {"BuildFacts", "BuildShortcut"},
    "swfeed.fetchreport": {"FetchShortcut", "FolderFacts"},
    "swfeed.shortcuts": {"Shortcuts"},
    "pathlib": {"PosixPath", "WindowsPath", "Path"},
    "datetime": {"timedelta"},
    "pydantic.networks": {"HttpUrl"},
    "pydantic_core._pydantic_core": {"Url"},
}
"""What a cached config may name when it is unpickled (None: any name of the module)."""

Watched = tuple[tuple[str, tuple[str, int]], ...]
"""Paths validation may have looked at, each with what ``stat`` said of it."""


class NotCacheable(Exception):
    """This config is not written to the cache (it would put a secret on disk)."""


@dataclass(frozen=True)
class Entry:
    """What a cache file holds after its first line and key."""

    watched: Watched
    config: bytes
    """The pickled ``Config``: values from the environment as references."""
    derived: bytes
    """What the loader's caller derived from the config (plain data, pickled): read
    without the config's models (see ``cached_derived``)."""


def cache_folder(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/swfeed``, else ``~/.cache/swfeed`` (an XDG path that is not
    absolute is ignored, as the XDG spec says)."""
    base = environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "swfeed"


def entry_path(folder: Path, config_file: Path) -> Path:
    """The cache file of ``config_file`` (an absolute path): one per config file."""
    name = hashlib.sha256(os.fsencode(config_file)).hexdigest()[:32]
    return folder / f"config-{name}.pickle"


def inputs_key(config_file: Path, data: bytes, environ: Mapping[str, str]) -> bytes:
    """The digest of every input of the validation but the files it looks at."""
    text = data.decode("utf-8", errors="replace")
    names = envvars.referenced_names(text)
    parts: list[object] = [
        os.fspath(config_file),
        hashlib.sha256(data).hexdigest(),
        [(name, environ.get(name)) for name in names],
        environ.get("HOME"),
        __version__,
        own_files(),
        sys.version,
        sys.prefix,
        [_library(name) for name in LIBRARIES],
    ]
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest().encode("ascii")


def _library(name: str) -> tuple[str, object]:
    """A library's files as ``stat`` sees them (an upgrade writes new ones)."""
    from importlib.util import find_spec

    spec = find_spec(name)
    if spec is None or spec.origin is None:
        return name, None
    folder = Path(spec.origin).parent
    return name, [_identity(folder), _identity(Path(spec.origin))]


def _identity(path: Path) -> tuple[int, int, int, int]:
    info = os.stat(path)
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _kind(path: str) -> tuple[str, int]:
    """What validation can learn of ``path``: its kind (folder, file, ...), or the error."""
    try:
        return "kind", stat.S_IFMT(os.stat(path).st_mode)
    except OSError as exc:
        return "error", exc.errno or 0


def cached_config(path: Path, environ: Mapping[str, str] | None = None) -> Config | None:
    """The validated config of ``path`` from the cache, or None (a miss)."""
    env = os.environ if environ is None else environ
    try:
        entry = _lookup(path, env)
        if entry is None:
            return None
        config: Config = _unpickle(entry.config, env)
    except Exception:  # the cache can only save time: any fault is a miss
        return None
    return config.model_copy(update={"source_file": path})


def cached_derived(path: Path, environ: Mapping[str, str] | None = None) -> object:
    """What was derived from the config of ``path`` when it was kept (see ``load_config``),
    if the cache holds that config as it is now; else None. Loads no config model."""
    env = os.environ if environ is None else environ
    try:
        entry = _lookup(path, env)
        return None if entry is None else _unpickle(entry.derived, env)
    except Exception:  # the cache can only save time: any fault is a miss
        return None


def _lookup(path: Path, environ: Mapping[str, str]) -> Entry | None:
    """The entry of ``path`` if its key and what validation looked at are as they are now."""
    config_file = path.resolve()
    data = _read_small(config_file)
    if data is None:
        return None
    file = entry_path(cache_folder(environ), config_file)
    entry = _read_entry(file, inputs_key(config_file, data, environ))
    if entry is None or any(_kind(name) != kind for name, kind in entry.watched):
        return None
    return entry


def _read_small(path: Path) -> bytes | None:
    with path.open("rb") as handle:
        data = handle.read(MAX_LOOKED_UP + 1)
    return data if len(data) <= MAX_LOOKED_UP else None


def _read_entry(file: Path, key: bytes) -> Entry | None:
    """The entry in ``file`` if it is ours (owner, mode) and its key is ``key``."""
    if not _private(os.lstat(file.parent)):
        return None
    fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        if not _private(os.fstat(handle.fileno())):
            return None
        if handle.readline() != FORMAT or handle.readline() != key + b"\n":
            return None
        watched, config, derived = _Unpickler(handle, {}).load()
    return Entry(watched, config, derived)


def _private(info: os.stat_result) -> bool:
    """Owned by this user, and neither group nor others may write to it."""
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _unpickle(blob: bytes, environ: Mapping[str, str]) -> Any:
    return _Unpickler(io.BytesIO(blob), environ, ALLOWED_GLOBALS).load()


class _Unpickler(pickle.Unpickler):
    """Loads only the classes a config is made of; reads each ``${...}`` reference from
    the environment."""

    def __init__(
        self,
        file: io.BufferedIOBase,
        environ: Mapping[str, str],
        allowed: Mapping[str, set[str] | None] | None = None,
    ) -> None:
        super().__init__(file)
        self.environ = environ
        self.allowed = allowed or {}

    def find_class(self, module: str, name: str) -> Any:
        if module not in self.allowed:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a config")
        names = self.allowed[module]
        if names is not None and name not in names:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a config")
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        kind, written = pid
        value = envvars.expand(written, self.environ, _unset)
        if kind == "secret":
            from pydantic import SecretStr

            return SecretStr(value)
        return value


def _unset(name: str) -> str:
    raise KeyError(name)


def keep_config(
    path: Path,
    text: str,
    doc: YamlDocument,
    config: Config,
    revalidate: Callable[[], Config],
    derive: Callable[[Config], object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Write ``config``, validated from ``text`` (the file at ``path``, parsed as ``doc``),
    and what ``derive`` makes of it (plain data) to the cache; silently nothing when they
    cannot be kept.

    The paths it names are stated, then ``revalidate()`` must give the same config: a
    folder that went in between fails that validation or no longer matches the record."""
    env = os.environ if environ is None else environ
    try:
        config_file = path.resolve()
        key = inputs_key(config_file, text.encode("utf-8"), env)
        watched = tuple((name, _kind(name)) for name in _watched_paths(config))
        if revalidate() != config:
            return
        stored = config.model_copy(update={"source_file": None})
        derived = derive(config) if derive is not None else None
        blobs = [_pickle(item, doc, text, env) for item in (stored, derived)]
        folder = cache_folder(env)
        _write_entry(folder, entry_path(folder, config_file), key, (watched, *blobs))
    except Exception:  # the cache can only save time: whatever fails, nothing is kept
        return


def _watched_paths(config: Config) -> list[str]:
    """What validation looks at on disk (the content folders and the digest's template
    folder must be folders; the time zone must have its data), and the key files the
    config names. Not the store, output, outbox or mailbox: swfeed makes those itself,
    and validation does not look at them."""
    import zoneinfo

    found: list[Path | None] = [s.path for s in config.sources if s.kind == "content"]
    if config.digest is not None and config.digest.templates is not None:
        found.append(config.digest.templates)
    delivery = config.delivery
    if delivery is not None and delivery.dkim is not None:
        found += [delivery.dkim.private_key_file, delivery.dkim.ed25519_key_file]
    if delivery is not None and delivery.smtp is not None:
        found.append(delivery.smtp.ca_file)
    if config.bounces is not None and config.bounces.imap is not None:
        found.append(config.bounces.imap.ca_file)
    zone = config.site.timezone
    paths = sorted({os.fspath(path) for path in found if path is not None})
    return paths + [os.path.join(folder, zone) for folder in zoneinfo.TZPATH]


def _pickle(value: object, doc: YamlDocument, text: str, environ: Mapping[str, str]) -> bytes:
    """``value`` pickled with every value from the environment as a reference."""
    from swfeed.yamlfile import MIN_REDACTED

    references = {expanded: written for written, expanded in doc.from_environment.values()}
    buffer = io.BytesIO()
    _Pickler(buffer, references).dump(value)
    blob = buffer.getvalue()
    variables = [environ.get(name, "") for name in envvars.referenced_names(text)]
    for secret in [*references, *variables]:
        if len(secret) >= MIN_REDACTED and secret.encode("utf-8") in blob:
            raise NotCacheable("a value from the environment would be written")
    return blob


class _Pickler(pickle.Pickler):
    """Writes each text and secret that came from the environment as its ``${...}``."""

    def __init__(self, file: io.BytesIO, references: Mapping[str, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.references = references

    def persistent_id(self, obj: Any) -> Any:
        from pydantic import SecretStr

        if type(obj) is str and obj in self.references:
            return "text", self.references[obj]
        if isinstance(obj, SecretStr):
            written = self.references.get(obj.get_secret_value())
            if written is None:
                raise NotCacheable("a secret written in the config file itself")
            return "secret", written
        return None


def _write_entry(folder: Path, file: Path, key: bytes, entry: tuple[object, ...]) -> None:
    """Write the entry atomically: a private temporary file renamed over the old one."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # parents: as mkdir -p makes them
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or not _private(info):
        return
    temporary = folder / f".{file.name}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(FORMAT + key + b"\n")
            pickle.dump(entry, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, file)
    finally:
        temporary.unlink(missing_ok=True)


def load_config(
    path: Path, *, cached: bool = True, derive: Callable[[Config], object] | None = None
) -> Config:
    """The config at ``path``: from the cache when it holds it (and ``cached``), else read
    and validated, and kept for the next command with what ``derive`` makes of it."""
    if cached:
        found = cached_config(path)
        if found is not None:
            return found
    from swfeed.config import read_config_text, validate_config

    text = read_config_text(path)
    config, doc = validate_config(text, path)
    keep_config(path, text, doc, config, lambda: validate_config(text, path)[0], derive)
    return config
