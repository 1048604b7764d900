/**
 * The server version the gateway announces: in its handshake (the gateway hands it to
 * mysql-protocol's server, whose own default is the same), in `@@version`, and in `VERSION()`
 * wherever a statement calls it. A shard would answer VERSION()
 * with its own MariaDB version, and a client that reads it (Django does, beside other values)
 * then speaks MariaDB's dialect (INSERT … RETURNING) to a gateway that announced MySQL 8.0.31.
 */
export const ANNOUNCED_SERVER_VERSION = '8.0.31-shardgate';

/** The gateway's `@@version_comment`, alone or inside a statement sent to shards. */
export const ANNOUNCED_VERSION_COMMENT = 'shardgate';
