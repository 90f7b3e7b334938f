-- Tables of a small HR and CRM database, and the tables the commission run
-- writes back. Money is TEXT holding an exact decimal ("12000.00"), never
-- REAL, because SQLite stores REAL as a binary float. Timestamps are ISO 8601
-- TEXT with a UTC offset.

CREATE TABLE IF NOT EXISTS reps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,          -- IANA name, such as Asia/Shanghai
    kind TEXT NOT NULL CHECK (kind IN ('staff', 'agent')),
    team TEXT NOT NULL,
    region TEXT NOT NULL,
    manager TEXT REFERENCES reps (id)
);

CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,              -- personal data: never sent to the engine
    phone TEXT,                      -- personal data: never sent to the engine
    owner TEXT NOT NULL REFERENCES reps (id),
    referred_by TEXT REFERENCES customers (id),
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS contracts (
    id TEXT PRIMARY KEY,
    customer TEXT NOT NULL REFERENCES customers (id),
    rep TEXT NOT NULL REFERENCES reps (id),
    product TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    term_months INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY,
    contract TEXT NOT NULL REFERENCES contracts (id),
    amount TEXT NOT NULL,
    paid_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY,
    contract TEXT NOT NULL REFERENCES contracts (id),
    amount TEXT NOT NULL,
    refunded_at TEXT NOT NULL,
    reason TEXT NOT NULL,            -- free text: the engine never shows it
    payment TEXT REFERENCES payments (id)
);

CREATE TABLE IF NOT EXISTS surveys (
    id TEXT PRIMARY KEY,
    contract TEXT NOT NULL REFERENCES contracts (id),
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    surveyed_at TEXT NOT NULL,
    comment TEXT                     -- free text: never sent to the engine
);

-- Written by hr_sync.py. One row per evaluation whose inputs or as-of time
-- differ from every earlier one; result_json is the stored snapshot that
-- `commission-engine verify` checks.
CREATE TABLE IF NOT EXISTS commission_runs (
    digest TEXT PRIMARY KEY,
    plan_sha256 TEXT NOT NULL,
    records_sha256 TEXT NOT NULL,
    as_of TEXT NOT NULL,
    result_json TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS statements (
    payee TEXT NOT NULL REFERENCES reps (id),
    period TEXT NOT NULL,            -- YYYY-MM in the payee's time zone
    currency TEXT NOT NULL,
    total TEXT NOT NULL,
    line_count INTEGER NOT NULL,
    digest TEXT NOT NULL,            -- the run that last changed this row
    PRIMARY KEY (payee, period)
);

CREATE TABLE IF NOT EXISTS payout_lines (
    line_key TEXT PRIMARY KEY,       -- stable id of a line, see hr_sync.line_key
    payee TEXT NOT NULL REFERENCES reps (id),
    period TEXT NOT NULL,
    kind TEXT NOT NULL,
    rule TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    due TEXT NOT NULL,
    sources TEXT NOT NULL,           -- record ids, space-separated
    explanation_en TEXT NOT NULL,
    explanation_zh TEXT NOT NULL,
    digest TEXT NOT NULL
);
