"""The Jinja2 templates of every email and page swfeed makes, and how an admin overrides them.

Templates are looked up in the admin's folder (``digest.templates``) first, then in the
bundled ``templates/`` folder. The bundled ones are also reachable as ``swfeed/<name>``, so
an admin's ``digest.html.j2`` can ``{% extends "swfeed/digest.html.j2" %}`` and replace one
block instead of copying the whole file. Every HTML template is autoescaped; ``*.txt.j2``
are plain. Brand colours are defined once, in ``brand.j2``, which every template sees
as ``brand``. Jinja2 is loaded when a template is rendered, not when finding the folders
(the feed build's stamp looks at them without rendering anything).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import swfeed
from swfeed.errors import TemplateError
from swfeed.languages import is_rtl

if TYPE_CHECKING:
    import jinja2

    from swfeed.config import Config

#: A file every bundled templates folder holds (how the folder is recognised).
MARKER = "digest.html.j2"
BUNDLED_PREFIX = "swfeed"
#: The colours every template sees as ``brand.light.*`` and ``brand.dark.*``.
BRAND = "brand.j2"


@dataclass(frozen=True, slots=True)
class SiteView:
    """What every template sees of the site (as ``site``): title, home page, logos, language.

    ``logo_dark`` is the logo for dark mode (None: the templates put ``logo`` on a plate).
    """

    title: str
    url: str
    logo: str | None
    language: str
    logo_dark: str | None = None

    @property
    def direction(self) -> str:
        """``rtl`` for a language written right to left, else ``ltr`` (the dir attribute)."""
        return "rtl" if is_rtl(self.language) else "ltr"


def site_view(config: Config) -> SiteView:
    site = config.site
    logo = str(site.logo) if site.logo else None
    dark = str(site.logo_dark) if site.logo and site.logo_dark else None
    return SiteView(site.title, site.base_url, logo, site.language, dark)


def bundled_templates() -> Path:
    """The templates shipped with swfeed (in the wheel, or the source checkout)."""
    package = Path(swfeed.__file__).resolve().parent
    for folder in (package / "templates", package.parent.parent / "templates"):
        if (folder / MARKER).is_file():
            return folder
    raise TemplateError(
        "the bundled templates are missing",
        hint="Reinstall swfeed, or set digest.templates to a folder with every template.",
    )


@lru_cache(maxsize=8)
def template_env(folder: Path | None) -> jinja2.Environment:
    """The environment: the admin's folder first, then the bundled templates (also as
    ``swfeed/<name>``, for an admin's template that extends the bundled one)."""
    import jinja2

    bundled = jinja2.FileSystemLoader(bundled_templates())
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(folder)] if folder else []
    loaders += [bundled, jinja2.PrefixLoader({BUNDLED_PREFIX: bundled})]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2", "xml", "xml.j2", "css"),
            disabled_extensions=("txt", "txt.j2"),
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        env.globals["brand"] = env.get_template(BRAND).module
    except jinja2.TemplateError as exc:
        raise template_error(exc, BRAND) from None
    return env


def site_templates(config: Config) -> jinja2.Environment:
    """The environment for ``config``: its own templates folder, if it names one."""
    return template_env(config.digest.templates if config.digest else None)


def render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render one template; template faults become a ``TemplateError`` naming file:line."""
    import jinja2

    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        raise template_error(exc, name) from None


def template_error(exc: jinja2.TemplateError, name: str) -> TemplateError:
    """A Jinja2 error as a ``TemplateError`` naming the template file and line."""
    import jinja2

    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = f"{exc.filename or exc.name or name}:{exc.lineno}"
    else:
        where = _template_frame(exc) or name
    return TemplateError(f"{where}: {exc.message or exc}")


def _template_frame(exc: BaseException) -> str | None:
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if frame.filename.endswith((".j2", ".css")):
            return f"{frame.filename}:{frame.lineno}"
    return None
