// Indexes for the gallery's other sort orders and filters, and for finding unfinished jobs.
export const version = 2;
export const sql = `
CREATE INDEX idx_products_rating ON products (rating, created_at, id);
CREATE INDEX idx_products_model ON products (model, created_at, id);
CREATE INDEX idx_products_provider ON products (provider, created_at);
CREATE INDEX idx_products_favorite ON products (favorite, created_at);
CREATE INDEX idx_jobs_state ON jobs (state, created_at);
`;
