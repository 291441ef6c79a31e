CREATE TABLE docs (
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  data TEXT NOT NULL,
  status TEXT,
  priority INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX docs_status_priority ON docs (status, priority, id);
