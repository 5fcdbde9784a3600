"""The store's schema as numbered migrations. Append; never edit a released one."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: articles and per-source state
    """
    CREATE TABLE articles (
        id            TEXT PRIMARY KEY,
        source        TEXT NOT NULL,
        data          TEXT NOT NULL,      -- Article.to_json_dict() as JSON
        content_hash  TEXT NOT NULL,
        published     TEXT NOT NULL,      -- UTC ISO 8601, sortable
        updated       TEXT NOT NULL,      -- UTC ISO 8601
        first_seen    TEXT NOT NULL,      -- UTC ISO 8601: when swfeed first stored it
        visible_from  TEXT NOT NULL,      -- max(first_seen, published)
        removed       TEXT                -- set when the source no longer has it
    );
    CREATE INDEX articles_by_published ON articles (published DESC);
    CREATE INDEX articles_by_visible ON articles (visible_from);
    CREATE TABLE article_categories (
        article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
        slug       TEXT NOT NULL,
        name       TEXT NOT NULL,
        PRIMARY KEY (article_id, slug)
    );
    CREATE INDEX categories_by_slug ON article_categories (slug);
    CREATE TABLE source_state (
        source        TEXT PRIMARY KEY,
        state         TEXT NOT NULL DEFAULT '{}',
        last_fetch    TEXT,
        last_ok       TEXT,
        last_result   TEXT,
        failures      INTEGER NOT NULL DEFAULT 0,
        next_attempt  TEXT
    );
    """,
    # 2: digest issues, frozen once created (owned by the digest stage)
    """
    CREATE TABLE issues (
        period           TEXT PRIMARY KEY,   -- ISO week, e.g. 2026-W48
        cutoff           TEXT NOT NULL,      -- UTC ISO 8601: articles visible up to here
        previous_cutoff  TEXT,               -- the cutoff of the issue before it
        subject          TEXT NOT NULL,
        html             TEXT NOT NULL,      -- inlined, with per-recipient placeholders
        text             TEXT NOT NULL,
        article_ids      TEXT NOT NULL,      -- JSON list
        created          TEXT NOT NULL,
        status           TEXT NOT NULL DEFAULT 'built',  -- built | sending | sent | skipped
        status_changed   TEXT,
        note             TEXT,
        archive_url      TEXT NOT NULL DEFAULT '',
        extra            TEXT NOT NULL DEFAULT '{}'  -- JSON object
    );
    CREATE INDEX issues_by_cutoff ON issues (cutoff);
    -- every article an issue took up: shown (position >= 0) or left out (position NULL:
    -- over the cap or trimmed to fit). An article is taken up once, by one issue.
    CREATE TABLE issue_articles (
        period      TEXT NOT NULL REFERENCES issues (period) ON DELETE CASCADE,
        article_id  TEXT NOT NULL,
        position    INTEGER,
        PRIMARY KEY (period, article_id)
    );
    CREATE INDEX issue_articles_by_article ON issue_articles (article_id);
    """,
    # 3: subscribers, the delivery ledger, and process locks (owned by the delivery stage)
    """
    CREATE TABLE subscribers (
        address  TEXT PRIMARY KEY COLLATE NOCASE,
        name     TEXT NOT NULL DEFAULT '',
        status   TEXT NOT NULL DEFAULT 'active',   -- active | unsubscribed | bounced
        created  TEXT NOT NULL,
        changed  TEXT NOT NULL,
        note     TEXT
    );
    CREATE TABLE deliveries (
        period        TEXT NOT NULL REFERENCES issues (period),
        address       TEXT NOT NULL COLLATE NOCASE,
        name          TEXT NOT NULL DEFAULT '',
        state         TEXT NOT NULL DEFAULT 'pending',
            -- pending | sending | sent | deferred | failed | unknown | skipped
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        next_attempt  TEXT,
        changed       TEXT NOT NULL,
        PRIMARY KEY (period, address)
    );
    CREATE INDEX deliveries_by_state ON deliveries (period, state);
    CREATE TABLE locks (
        name      TEXT PRIMARY KEY,   -- e.g. send, daemon
        owner     TEXT NOT NULL,      -- host:pid:random
        pid       INTEGER NOT NULL,
        acquired  TEXT NOT NULL,
        heartbeat TEXT NOT NULL,
        detail    TEXT
    );
    """,
    # 4: per-source article counts and ownership checks
    """
    CREATE INDEX articles_by_source ON articles (source, removed);
    """,
    # 5: a skipped week is a status of its period, not an empty issue. 0.1 wrote an empty
    # "placeholder" issue row for a week the daemon skipped; those become rows here.
    """
    CREATE TABLE skipped_periods (
        period   TEXT PRIMARY KEY,   -- ISO week, e.g. 2026-W48
        due      TEXT NOT NULL,      -- UTC ISO 8601: the digest time that was missed
        decided  TEXT NOT NULL,      -- UTC ISO 8601: when it was recorded skipped
        reason   TEXT NOT NULL
    );
    INSERT INTO skipped_periods (period, due, decided, reason)
        SELECT period, cutoff, COALESCE(status_changed, created), COALESCE(note, 'skipped')
        FROM issues WHERE extra LIKE '%"placeholder": "skipped by the daemon"%';
    DELETE FROM issues WHERE extra LIKE '%"placeholder": "skipped by the daemon"%';
    """,
    # 6: how far an in-flight delivery got. 'data': claimed, its data not yet complete (a
    # crash there means the relay discarded it: it is sent again); 'reply': the end of data
    # was sent, or the outbox file is being renamed into place (a crash there leaves it
    # unknown). Rows written before this column existed count as 'reply', as they did.
    """
    ALTER TABLE deliveries ADD COLUMN step TEXT NOT NULL DEFAULT 'reply';
    """,
    # 7: WebSub pings owed to hubs: one row per (hub, feed URL), kept after success so
    # `swfeed status` can show the last ping (owned by the feeds' publishing step)
    """
    CREATE TABLE hub_pings (
        hub           TEXT NOT NULL,      -- the hub's URL
        topic         TEXT NOT NULL,      -- the feed's URL (hub.url)
        state         TEXT NOT NULL,      -- pending | done
        changed       TEXT NOT NULL,      -- UTC ISO 8601: when the feed last changed
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_attempt  TEXT,
        last_result   TEXT,
        next_attempt  TEXT,               -- UTC ISO 8601, while pending
        PRIMARY KEY (hub, topic)
    );
    CREATE INDEX hub_pings_due ON hub_pings (state, next_attempt);
    """,
    # 8: bounces and complaints. Each report mail handled once (by its digest); each event
    # names the issue (NULL: a list mail) and address it was about. A hard bounce refused by
    # the relay while sending (5.1.x, recorded on the ledger by 0.1) becomes an event too.
    """
    CREATE TABLE bounce_mails (
        digest    TEXT PRIMARY KEY,   -- SHA-256 of the raw mail: never read twice
        name      TEXT NOT NULL,      -- its Maildir file name or IMAP folder:UID
        handled   TEXT NOT NULL,      -- UTC ISO 8601
        outcome   TEXT NOT NULL       -- what it was and what was done, one line
    );
    CREATE TABLE bounce_events (
        id        INTEGER PRIMARY KEY,
        period    TEXT,                         -- the issue, NULL for other list mail
        address   TEXT NOT NULL COLLATE NOCASE,
        kind      TEXT NOT NULL,                -- hard | soft | policy | delayed | complaint
        status    TEXT,                         -- enhanced status code, e.g. 5.1.1
        detail    TEXT,
        source    TEXT NOT NULL,                -- smtp (refused while sending) | mail
        received  TEXT NOT NULL                 -- UTC ISO 8601
    );
    CREATE INDEX bounce_events_by_period ON bounce_events (period, kind);
    CREATE INDEX bounce_events_by_address ON bounce_events (address);
    INSERT INTO bounce_events (period, address, kind, status, detail, source, received)
        SELECT period, address, 'hard', NULL, last_error, 'smtp', changed FROM deliveries
        WHERE state = 'failed' AND last_error GLOB '5[0-9][0-9] 5.1.*';
    """,
    # 9: the subscriber side: opaque link ids, topics, consent records, pending sign-ups,
    # pauses, a suppression list of keyed hashes, the queue of confirmation and welcome
    # mails, sign-up rate counts, and one frozen variant of an issue per topic set.
    # Everyone already on the list stays as they are (active, all topics).
    """
    ALTER TABLE subscribers ADD COLUMN id TEXT;
    UPDATE subscribers SET id = lower(hex(randomblob(12)));
    CREATE UNIQUE INDEX subscribers_by_id ON subscribers (id);
    ALTER TABLE subscribers ADD COLUMN topics TEXT NOT NULL DEFAULT '';
    ALTER TABLE subscribers ADD COLUMN joined_via TEXT NOT NULL DEFAULT 'legacy';
    ALTER TABLE subscribers ADD COLUMN joined TEXT;
    ALTER TABLE subscribers ADD COLUMN consent_page TEXT;
    ALTER TABLE subscribers ADD COLUMN confirmed TEXT;
    ALTER TABLE subscribers ADD COLUMN confirm_id TEXT;
    ALTER TABLE subscribers ADD COLUMN confirm_requested TEXT;
    ALTER TABLE subscribers ADD COLUMN confirm_sent TEXT;
    ALTER TABLE subscribers ADD COLUMN ip TEXT;
    ALTER TABLE subscribers ADD COLUMN paused_until TEXT;
    UPDATE subscribers SET joined = created;
    CREATE UNIQUE INDEX subscribers_by_confirm_id ON subscribers (confirm_id);
    CREATE TABLE suppressions (
        hash     TEXT PRIMARY KEY,   -- keyed hash (HMAC) of an erased address
        reason   TEXT NOT NULL,
        created  TEXT NOT NULL
    );
    CREATE TABLE mail_queue (
        id            INTEGER PRIMARY KEY,
        kind          TEXT NOT NULL,      -- confirm | welcome
        subscriber    TEXT NOT NULL,      -- subscribers.id (never the address)
        created       TEXT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'pending',
            -- pending | sending | sent | deferred | failed | unknown | dropped
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_attempt  TEXT,
        last_error    TEXT,
        changed       TEXT NOT NULL
    );
    CREATE INDEX mail_queue_by_state ON mail_queue (state, next_attempt);
    CREATE INDEX mail_queue_by_kind ON mail_queue (kind, created);
    CREATE TABLE rate_counts (
        key     TEXT NOT NULL,   -- 'all', or a daily-rotated keyed hash of a client address
        window  TEXT NOT NULL,   -- the hour, UTC ISO 8601
        count   INTEGER NOT NULL,
        PRIMARY KEY (key, window)
    );
    CREATE TABLE issue_variants (
        period       TEXT NOT NULL REFERENCES issues (period),
        topics       TEXT NOT NULL,   -- sorted category slugs, comma-separated
        subject      TEXT NOT NULL,
        html         TEXT NOT NULL,
        text         TEXT NOT NULL,
        article_ids  TEXT NOT NULL,   -- JSON list
        PRIMARY KEY (period, topics)
    );
    ALTER TABLE deliveries ADD COLUMN topics TEXT NOT NULL DEFAULT '';
    """,
    # 10: why an issue took an article up without showing it: over_cap, too_big (dropped to
    # fit the size budget) or too_old (published more than digest.max_age before the
    # cutoff). NULL for shown articles, and for left-out ones recorded before this.
    """
    ALTER TABLE issue_articles ADD COLUMN reason TEXT;
    """,
    # 11: one story once. Keys that tell two sources' copies of a story (the link
    # normalised; the day and title's words), filled in by the next fetch for older rows;
    # merged_into: the id of the copy feeds and issues show instead of this one.
    """
    ALTER TABLE articles ADD COLUMN link_key TEXT;
    ALTER TABLE articles ADD COLUMN story_key TEXT;
    ALTER TABLE articles ADD COLUMN merged_into TEXT;
    CREATE INDEX articles_by_link_key ON articles (link_key);
    CREATE INDEX articles_by_story_key ON articles (story_key);
    CREATE INDEX articles_by_merged_into ON articles (merged_into);
    """,
    # 12: a build reads a feed's worth of rows whatever the store's size, and knows when
    # nothing changed. Each category row carries its article's published time, indexed so
    # a category is read newest first; names are indexed so a category's first visible name
    # is found at once. feed_changes counts the writes to articles that a feed can show (by
    # trigger: no writer can forget it; category rows are written only with their article's
    # row, and the story keys show in no feed); builds keeps what the last build of each
    # output folder saw and wrote.
    """
    ALTER TABLE article_categories ADD COLUMN published TEXT NOT NULL DEFAULT '';
    UPDATE article_categories SET published =
        (SELECT a.published FROM articles a WHERE a.id = article_categories.article_id);
    DROP INDEX categories_by_slug;
    CREATE INDEX categories_by_slug_newest
        ON article_categories (slug, published DESC, article_id);
    CREATE INDEX categories_by_slug_name ON article_categories (slug, name);
    CREATE TABLE feed_changes (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        count  INTEGER NOT NULL
    );
    INSERT INTO feed_changes (id, count) VALUES (1, 0);
    CREATE TRIGGER articles_inserted AFTER INSERT ON articles
        BEGIN UPDATE feed_changes SET count = count + 1; END;
    CREATE TRIGGER articles_updated AFTER UPDATE OF
        source, data, published, updated, first_seen, visible_from, removed, merged_into
        ON articles BEGIN UPDATE feed_changes SET count = count + 1; END;
    CREATE TRIGGER articles_deleted AFTER DELETE ON articles
        BEGIN UPDATE feed_changes SET count = count + 1; END;
    CREATE TABLE builds (
        output        TEXT PRIMARY KEY,   -- the output folder (absolute path)
        stamp         TEXT NOT NULL,      -- what the feeds were made from (see feeds.stamp)
        next_visible  TEXT,               -- UTC ISO 8601: when a dated-ahead article shows
        files         TEXT NOT NULL,      -- JSON: each file written or kept -> its stat
        built         TEXT NOT NULL       -- UTC ISO 8601
    );
    """,
)
