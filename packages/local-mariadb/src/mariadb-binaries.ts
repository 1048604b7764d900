import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/** Where the MariaDB server and its datadir initialiser live on this machine. */
export interface MariaDbBinaries {
  mariadbd: string;
  installDb: string;
}

const INSTALL_HINT =
  'Install MariaDB with `apt-get install -y mariadb-server mariadb-client` ' +
  '(or run `npm test` / `npm start` at the shardgate repository root, which install it), ' +
  'or pass `mariadbd: "/path/to/mariadbd"` to LocalCluster.start().';

/** Thrown when no usable mariadbd is installed; the message says how to fix it. */
export class MariaDbNotFoundError extends Error {
  override readonly name = 'MariaDbNotFoundError';
  constructor(what: string, searched: readonly string[]) {
    super(`${what} was not found (searched: ${searched.join(', ')}). ${INSTALL_HINT}`);
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function searchDirs(extra: readonly string[]): string[] {
  const fromPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  // mariadbd lives in /usr/sbin on Debian, which is often not on a non-root PATH.
  return [...new Set([...extra, ...fromPath, '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'])];
}

function findIn(dirs: readonly string[], names: readonly string[]): string | undefined {
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * Locates mariadbd (explicit path, then $SHARDGATE_MARIADBD, then PATH and /usr/sbin) and the
 * matching mariadb-install-db (next to mariadbd or its ../bin first, so a tarball install stays consistent).
 */
export function findMariaDbBinaries(explicitMariadbd?: string): MariaDbBinaries {
  const wanted = explicitMariadbd ?? process.env.SHARDGATE_MARIADBD;
  let mariadbd: string | undefined;
  if (wanted !== undefined && wanted !== '') {
    if (!isExecutable(wanted)) throw new MariaDbNotFoundError(`mariadbd at ${wanted}`, [wanted]);
    mariadbd = wanted;
  } else {
    const dirs = searchDirs([]);
    mariadbd = findIn(dirs, ['mariadbd', 'mysqld']);
    if (mariadbd === undefined) throw new MariaDbNotFoundError('mariadbd', dirs);
  }
  const serverDir = dirname(mariadbd);
  const dirs = searchDirs([serverDir, join(serverDir, '..', 'bin'), join(serverDir, '..', 'scripts')]);
  const installDb = findIn(dirs, ['mariadb-install-db', 'mysql_install_db']);
  if (installDb === undefined) throw new MariaDbNotFoundError('mariadb-install-db', dirs);
  return { mariadbd, installDb };
}
