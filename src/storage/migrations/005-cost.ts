// What each product cost (issue 11), as columns the gallery sorts and filters on: the amount
// (-1 when unknown, so the sort's keyset never meets NULL) and its currency ("USD", "buzz").
// Rows already in the database get theirs from the stored JSON.
export const version = 5;
export const sql = `
ALTER TABLE products ADD COLUMN cost REAL NOT NULL DEFAULT -1;
ALTER TABLE products ADD COLUMN cost_currency TEXT;
UPDATE products SET cost = json_extract(json, '$.cost.amount'), cost_currency = json_extract(json, '$.cost.currency')
  WHERE json_type(json, '$.cost.amount') IN ('real', 'integer') AND json_type(json, '$.cost.currency') = 'text';
CREATE INDEX idx_products_cost ON products (cost, created_at, id);
`;
