// Connection settings for sequelize-cli; the app itself reads DATABASE_URL through its validated config.
const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('DATABASE_URL is not set: run the CLI through `npm run db:*`, which starts the embedded server when needed');
}

// Migrations run unbounded, whatever statement or lock limits the role has (docs/scaling.md): a long CREATE INDEX
// must not be cancelled half-way. The same options as the app's migrator (src/database/connection-options.ts).
const dialectOptions = { options: '-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0' };
const connection = { url, dialect: 'postgres', logging: false, dialectOptions, seederStorage: 'sequelize', migrationStorageTableName: 'SequelizeMeta' };

module.exports = { development: connection, test: connection, production: connection };
