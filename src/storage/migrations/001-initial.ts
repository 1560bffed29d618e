// The first schema: projects, products (JSON record + the columns the gallery filters and
// sorts on), tags, jobs, templates, and an FTS4 index over prompts (sql.js has no FTS5).
export const version = 1;
export const sql = `
CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE products (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  job_id TEXT,
  created_at TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  kind TEXT NOT NULL,
  favorite INTEGER NOT NULL DEFAULT 0,
  rating INTEGER NOT NULL DEFAULT 0,
  json TEXT NOT NULL
);
CREATE INDEX idx_products_created ON products (created_at, id);
CREATE TABLE product_tags (product_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (product_id, tag));
CREATE INDEX idx_product_tags_tag ON product_tags (tag);
CREATE VIRTUAL TABLE products_fts USING fts4 (prompt, negative, tokenize=unicode61);
CREATE TABLE jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE templates (id TEXT PRIMARY KEY, name TEXT NOT NULL, json TEXT NOT NULL);
`;
