// Rows that failed Verify Project are moved out of `products` into `quarantine` (with why), so
// the gallery, export and delete never see them; a later verify that passes moves them back.
// `meta` holds small facts about the database itself (where it was last verified).
export const version = 4;
export const sql = `
CREATE TABLE quarantine (id TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;
