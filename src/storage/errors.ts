export type StorageErrorKind = 'corrupt-db' | 'corrupt-manifest' | 'not-writable' | 'locked' | 'not-a-project' | 'exists' | 'closed' | 'disk-full' | 'unsafe-path' | 'canceled';

/** A storage failure with what the UI needs to offer a way out (e.g. the backups to restore). */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
    readonly backups: string[] = [],
  ) {
    super(message);
  }
}

/** ENOSPC (the disk is full) or EDQUOT (the user's quota is), raw or already a StorageError. */
export function isDiskFull(e: unknown): boolean {
  if (e instanceof StorageError) return e.kind === 'disk-full';
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** What to tell the user when a write ran out of space. */
export function diskFullMessage(what: string): string {
  return `The disk is full: ${what}. Free some space on the disk that holds the project, then retry.`;
}
