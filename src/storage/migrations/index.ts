import * as m001 from './001-initial.ts';
import * as m002 from './002-gallery-indexes.ts';
import * as m003 from './003-lineage-uploads.ts';
import * as m004 from './004-quarantine.ts';
import * as m005 from './005-cost.ts';

export interface Migration {
  version: number;
  sql: string;
}

/** Every migration, in order. Add a numbered file and list it here. */
export const MIGRATIONS: Migration[] = [m001, m002, m003, m004, m005];
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
