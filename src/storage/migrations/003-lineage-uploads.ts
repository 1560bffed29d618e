// Lineage and the upload cache.
// - product_inputs: one row per image input of a product (from `ProductRecord.inputs`), so
//   "which products were made from product X" is an index lookup, not a scan of every record.
//   Rows already in the database get theirs from the stored JSON.
// - uploads: what a provider's upload() returned for some bytes (by sha256) and until when it
//   is usable, so a sweep over one image, or a job resumed later, does not upload it again.
//   A cache: Rebuild Index starts it empty, which only costs an upload.
export const version = 3;
export const sql = `
CREATE TABLE product_inputs (
  product_id TEXT NOT NULL,
  field TEXT NOT NULL,
  source_id TEXT,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (product_id, field)
);
CREATE INDEX idx_product_inputs_source ON product_inputs (source_id, product_id);
INSERT OR REPLACE INTO product_inputs (product_id, field, source_id, sha256)
  SELECT p.id, json_extract(i.value, '$.field'), json_extract(i.value, '$.product'), COALESCE(json_extract(i.value, '$.sha256'), '')
  FROM products p, json_each(p.json, '$.inputs') i
  WHERE json_type(p.json, '$.inputs') = 'array' AND json_extract(i.value, '$.field') IS NOT NULL;
CREATE TABLE uploads (
  provider TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  url TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (provider, sha256)
);
`;
