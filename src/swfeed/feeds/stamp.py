"""What a build's stamp needs of the config (see ``buildstamp``)."""

from __future__ import annotations

from swfeed.buildstamp import BuildFacts, BuildShortcut
from swfeed.config import Config, ContentSourceConfig


def build_facts(config: Config) -> BuildFacts:
    """The config's part in a build's stamp: all of it (as JSON), the output folder, the
    admin's template folder and the content folders."""
    return BuildFacts(
        output=config.output.path,
        config_json=config.model_dump_json(),
        templates=config.digest.templates if config.digest else None,
        content_folders=tuple(
            (source.name, source.path)
            for source in config.sources
            if isinstance(source, ContentSourceConfig)
        ),
    )


def build_shortcut(config: Config) -> BuildShortcut:
    """What a build with nothing to do needs of ``config``, and what it prints."""
    from swfeed.feeds.build import autodiscovery_tags
    from swfeed.feeds.directory import index_url

    return BuildShortcut(
        store=config.store.path,
        facts=build_facts(config),
        websub=bool(config.feeds.websub.hubs),
        index_url=index_url(config),
        autodiscovery_tags=autodiscovery_tags(config),
    )
