-- +goose Up
-- Marketing campaigns: what each aims for and may spend, the audiences it
-- can reach, the content people approved and published, the sends it
-- scheduled, and the results another system reports back.
CREATE TABLE campaigns (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    product         TEXT NOT NULL,
    goal_conversions BIGINT NOT NULL,  -- the campaign succeeds at this many
    starts_on       TEXT NOT NULL,     -- YYYY-MM-DD
    ends_on         TEXT NOT NULL,     -- YYYY-MM-DD, the last day
    budget_minor    BIGINT NOT NULL,   -- all sends together spend at most this
    max_send_minor  BIGINT NOT NULL,   -- one send spends at most this
    currency        TEXT NOT NULL
);

CREATE TABLE audiences (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    size        BIGINT NOT NULL
);

CREATE TABLE campaign_content (
    id           TEXT PRIMARY KEY,      -- <campaign>-V<n>
    publish_key  TEXT NOT NULL UNIQUE,  -- the run and step that published it
    campaign_id  TEXT NOT NULL REFERENCES campaigns (id),
    channel      TEXT NOT NULL,         -- email, social
    variant      TEXT NOT NULL,         -- the agent's label for it
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    approved_by  TEXT NOT NULL,
    published_at TEXT NOT NULL
);

CREATE TABLE campaign_sends (
    send_key    TEXT PRIMARY KEY,       -- the run and step that scheduled it
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    content_id  TEXT NOT NULL REFERENCES campaign_content (id),
    audience_id TEXT NOT NULL REFERENCES audiences (id),
    send_on     TEXT NOT NULL,          -- YYYY-MM-DD
    spend_minor BIGINT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX campaign_sends_campaign ON campaign_sends (campaign_id);

CREATE TABLE campaign_results (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    batch       TEXT NOT NULL,          -- the report's own name, such as week-2
    content_id  TEXT NOT NULL,
    sent        BIGINT NOT NULL,
    opens       BIGINT NOT NULL,
    clicks      BIGINT NOT NULL,
    conversions BIGINT NOT NULL,
    spend_minor BIGINT NOT NULL,
    reported_by TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    PRIMARY KEY (campaign_id, batch, content_id)
);
