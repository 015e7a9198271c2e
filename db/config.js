// Connection settings for sequelize-cli; the app itself reads DATABASE_URL through its validated config.
const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('DATABASE_URL is not set: run the CLI through `npm run db:*`, which starts the embedded server when needed');
}

const connection = { url, dialect: 'postgres', logging: false, seederStorage: 'sequelize', migrationStorageTableName: 'SequelizeMeta' };

module.exports = { development: connection, test: connection, production: connection };
