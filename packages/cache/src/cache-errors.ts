/**
 * Raised by every async operation of a cache after `dispose()`. Carries the project-wide `errno`/`sqlState` pair
 * (ER_UNKNOWN_ERROR, HY000) because the gateway may forward it to a MySQL client while shutting down.
 */
export class CacheDisposedError extends Error {
  readonly errno = 1105;
  readonly sqlState = 'HY000';

  constructor() {
    super('cache is disposed: it was shut down by dispose(); the gateway is stopping or reloading, retry the statement');
    this.name = 'CacheDisposedError';
  }
}
