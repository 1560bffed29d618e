export type StorageErrorKind = 'corrupt-db' | 'corrupt-manifest' | 'not-writable' | 'locked' | 'not-a-project' | 'exists' | 'closed';

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
