// What the panel shows over the grid, if anything.

/** The detail view shows the focused product, or `id` (a product it was made from, or into). */
export type View = { kind: 'grid' } | { kind: 'detail'; id?: string } | { kind: 'compare'; ids: string[] } | { kind: 'help' };
