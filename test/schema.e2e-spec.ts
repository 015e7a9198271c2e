/**
 * The schema belongs to the migrations, the models describe it: these tests fail when the two drift
 * apart, and when the migrations stop round-tripping through the real sequelize-cli.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { QueryTypes, Sequelize as PlainSequelize } from 'sequelize';
import type { ModelStatic } from 'sequelize';
import { createMigrator } from '../src/database/migrator';
import { hasPendingMigrations, pendingMigrations } from '../src/database/pending-migrations';
import { createScratchDatabase } from './setup/test-databases';
import { createTestApp, type TestApp } from './utils/test-app';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

async function sequelizeCli(databaseUrl: string, ...args: string[]): Promise<string> {
  // The scratch database is reached directly: a migration URL of the worker's (behind a pooler) must not win over it.
  const { DATABASE_MIGRATION_URL: _workers, ...env } = process.env;
  const { stdout } = await run(process.execPath, [require.resolve('tsx/cli'), 'scripts/sequelize-cli.ts', ...args], {
    cwd: ROOT,
    env: { ...env, DATABASE_URL: databaseUrl },
  });
  return stdout;
}

/**
 * Everything a migration can create in the public schema, in a comparable form: columns, constraints, indexes, enum
 * types, triggers and functions (migration bookkeeping and extensions' own functions excluded).
 */
async function schemaOf(sequelize: PlainSequelize): Promise<Record<string, unknown[]>> {
  const select = (sql: string) => sequelize.query(sql, { type: QueryTypes.SELECT });
  return {
    columns: await select(
      `SELECT table_name, column_name, data_type, udt_name, character_maximum_length, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'SequelizeMeta' ORDER BY table_name, column_name`,
    ),
    constraints: await select(
      `SELECT c.conrelid::regclass::text AS "table", c.conname AS name, pg_get_constraintdef(c.oid) AS definition
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'public' AND c.conrelid::regclass::text <> '"SequelizeMeta"' ORDER BY 1, 2`,
    ),
    indexes: await select(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'SequelizeMeta' ORDER BY 1, 2`),
    enums: await select(
      `SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE n.nspname = 'public' GROUP BY t.typname ORDER BY 1`,
    ),
    triggers: await select(
      `SELECT c.relname AS "table", t.tgname AS name, pg_get_triggerdef(t.oid) AS definition
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1, 2`,
    ),
    functions: await select(OWN_FUNCTIONS_SQL),
  };
}

/** The functions of the public schema that migrations made (not those an extension such as pg_trgm brings). */
const OWN_FUNCTIONS_SQL = `
  SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments, md5(p.prosrc) AS body
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
   ORDER BY 1, 2`;

async function publicTables(sequelize: PlainSequelize): Promise<string[]> {
  const rows = await sequelize.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", {
    type: QueryTypes.SELECT,
  });
  return rows.map((row) => row.tablename);
}

describe('migrations', () => {
  let url: string;
  let sequelize: PlainSequelize;

  beforeAll(async () => {
    url = await createScratchDatabase('roundtrip');
    sequelize = new PlainSequelize(url, { logging: false });
  });

  afterAll(async () => {
    await sequelize.close();
  });

  it('go up, all the way down and up again through sequelize-cli and the app migrator alike', async () => {
    const files = (await createMigrator(sequelize).pending()).map((migration) => migration.name);
    expect(files.length).toBeGreaterThan(0);
    // The start-up check that decides whether umzug is loaded at all agrees with umzug at every step.
    expect(await hasPendingMigrations(sequelize)).toBe(true);
    // The names the app refuses to start with, and applies, are umzug's, in umzug's order.
    expect(await pendingMigrations(sequelize)).toEqual(files);

    await sequelizeCli(url, 'db:migrate');
    expect(await publicTables(sequelize)).toEqual(expect.arrayContaining(['SequelizeMeta', 'posts', 'users']));
    // The CLI and the app record migrations in the same table under the same names.
    expect(await createMigrator(sequelize).pending()).toEqual([]);
    expect(await hasPendingMigrations(sequelize)).toBe(false);
    expect((await createMigrator(sequelize).executed()).map((migration) => migration.name)).toEqual(files);

    const migrated = await schemaOf(sequelize);

    await sequelizeCli(url, 'db:migrate:undo');
    expect((await createMigrator(sequelize).pending()).map((migration) => migration.name)).toEqual(files.slice(-1));
    expect(await hasPendingMigrations(sequelize)).toBe(true);
    expect(await pendingMigrations(sequelize)).toEqual(files.slice(-1));
    // The last migration's `down` undoes exactly what its `up` did: the schema is the one the migrations before it build.
    expect(await schemaOf(sequelize)).toEqual(await schemaBefore(files.at(-2)!));
    await sequelizeCli(url, 'db:migrate');
    expect(await schemaOf(sequelize)).toEqual(migrated);

    await sequelizeCli(url, 'db:migrate:undo:all');
    expect(await publicTables(sequelize)).toEqual(['SequelizeMeta']);
    const types = await sequelize.query("SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'", {
      type: QueryTypes.SELECT,
    });
    expect(types).toEqual([]);
    expect(await sequelize.query(OWN_FUNCTIONS_SQL, { type: QueryTypes.SELECT })).toEqual([]);
    expect(await hasPendingMigrations(sequelize)).toBe(true);

    await createMigrator(sequelize).up();
    expect(await hasPendingMigrations(sequelize)).toBe(false);
    expect(await publicTables(sequelize)).toEqual(expect.arrayContaining(['SequelizeMeta', 'posts', 'users']));
    // The app's migrator builds what the CLI builds.
    expect(await schemaOf(sequelize)).toEqual(migrated);
    expect(await sequelizeCli(url, 'db:migrate:status')).not.toMatch(/^down /m);
  });

  /** The schema of a fresh database migrated (by the app's migrator) up to and including `last`. */
  async function schemaBefore(last: string): Promise<Record<string, unknown[]>> {
    const other = new PlainSequelize(await createScratchDatabase('partial'), { logging: false });
    try {
      await createMigrator(other).up({ to: last });
      return await schemaOf(other);
    } finally {
      await other.close();
    }
  }
});

interface ColumnRow {
  column_name: string;
  data_type: string;
  udt_name: string;
  character_maximum_length: number | null;
  is_nullable: 'YES' | 'NO';
  column_default: string | null;
}

interface IndexRow {
  name: string;
  unique: boolean;
  columns: string[];
  predicate: string | null;
}

const SQL_TYPES: Record<string, string> = {
  INTEGER: 'integer',
  STRING: 'character varying',
  TEXT: 'text',
  BOOLEAN: 'boolean',
  DATE: 'timestamp with time zone',
  ENUM: 'USER-DEFINED',
  UUID: 'uuid',
  BIGINT: 'bigint',
  JSONB: 'jsonb',
  JSON: 'json',
};

/**
 * Foreign keys that no model declares as an association, because no code follows them: each with the reason.
 * The test below fails for a foreign key that is neither an association nor listed here, and for a listed one the
 * schema does not have.
 */
const FOREIGN_KEYS_WITHOUT_ASSOCIATION = [
  // Sessions never load their user (src/sessions/models/session.model.ts); the key makes a hard delete of a user end them.
  { table: 'sessions', column: 'userId', target: 'users', onDelete: 'CASCADE', onUpdate: 'CASCADE' },
];

interface ForeignKeyRow {
  table: string;
  column: string;
  target: string;
  onDelete: string;
  onUpdate: string;
}

/** NO ACTION and RESTRICT differ only for deferred constraints, which the schema has none of: both refuse the delete. */
const refusal = (rule: string) => (rule === 'NO ACTION' ? 'RESTRICT' : rule);

/** `'user'::enum_users_role` → `user`, `false` → `false`. */
function literal(columnDefault: string | null): string | null {
  return columnDefault === null ? null : columnDefault.replace(/::[\w" ]+$/, '').replace(/^'(.*)'$/, '$1');
}

function normalisePredicate(predicate: string | null | undefined): string | null {
  return predicate ? predicate.replace(/[()\s]/g, '') : null;
}

describe('schema drift: the migrated schema matches the models', () => {
  let testApp: TestApp;
  let models: ModelStatic<any>[];

  beforeAll(async () => {
    testApp = await createTestApp();
    models = Object.values(testApp.sequelize.models).filter((model) => model.name !== 'SequelizeMeta');
  });

  afterAll(async () => {
    await testApp.close();
  });

  const columnsOf = (table: string) =>
    testApp.sequelize.query<ColumnRow>(
      `SELECT column_name, data_type, udt_name, character_maximum_length, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
      { bind: [table], type: QueryTypes.SELECT },
    );

  it('has a table for every model and a model for every table', async () => {
    const tables = await publicTables(testApp.sequelize as unknown as PlainSequelize);
    expect(tables.filter((table) => table !== 'SequelizeMeta').sort()).toEqual(models.map((model) => model.getTableName() as string).sort());
  });

  it('matches every column: name, type, length, enum values, nullability, default', async () => {
    for (const model of models) {
      const table = model.getTableName() as string;
      const columns = new Map((await columnsOf(table)).map((column) => [column.column_name, column]));
      const attributes = Object.values(model.getAttributes());
      expect([...columns.keys()].sort()).toEqual(attributes.map((attribute) => attribute.field).sort());

      for (const attribute of attributes) {
        const column = columns.get(attribute.field!)!;
        const where = `${table}.${attribute.field}`;
        const type = attribute.type as unknown as { key: string; options?: { length?: number }; values?: string[] };
        expect({ where, type: column.data_type }).toEqual({ where, type: SQL_TYPES[type.key] });
        if (type.key === 'STRING') expect({ where, length: column.character_maximum_length }).toEqual({ where, length: type.options?.length ?? 255 });
        if (type.key === 'ENUM') {
          const labels = await testApp.sequelize.query<{ label: string }>(
            'SELECT enumlabel AS label FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = $1 ORDER BY e.enumsortorder',
            { bind: [column.udt_name], type: QueryTypes.SELECT },
          );
          expect({ where, values: labels.map((row) => row.label) }).toEqual({ where, values: type.values });
        }
        const nullable = attribute.allowNull !== false && !attribute.primaryKey;
        expect({ where, nullable: column.is_nullable === 'YES' }).toEqual({ where, nullable });

        if (attribute.autoIncrement) {
          expect(column.column_default).toMatch(/^nextval\(/);
        } else if (attribute.defaultValue !== undefined) {
          expect({ where, default: literal(column.column_default) }).toEqual({ where, default: String(attribute.defaultValue) });
        } else if (column.column_default !== null) {
          // A database-side default the model does not know is only fine for timestamps Sequelize fills anyway.
          expect({ where, default: column.column_default }).toEqual({ where, default: 'now()' });
        }
      }
    }
  });

  it('declares on the models exactly the indexes the migrations create', async () => {
    const queryGenerator = testApp.sequelize.getQueryInterface().queryGenerator as unknown as {
      whereItemsQuery(where: unknown): string;
    };
    for (const model of models) {
      const table = model.getTableName() as string;
      const actual = await testApp.sequelize.query<IndexRow>(
        `SELECT i.relname AS name, ix.indisunique AS unique, pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
                array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns
           FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
          WHERE t.relname = $1 AND NOT ix.indisprimary ORDER BY i.relname`,
        { bind: [table], type: QueryTypes.SELECT },
      );
      const declared = (model.options.indexes ?? []).map((index) => ({
        name: index.name,
        unique: index.unique === true,
        columns: (index.fields ?? []).map((field) => (typeof field === 'string' ? field : (field as { name: string }).name)),
        predicate: normalisePredicate(index.where ? queryGenerator.whereItemsQuery(index.where) : null),
      }));
      const found = actual.map((index) => ({ ...index, predicate: normalisePredicate(index.predicate) }));
      expect({ table, indexes: found }).toEqual({ table, indexes: declared.sort((a, b) => a.name!.localeCompare(b.name!)) });
    }
  });

  it('backs every belongsTo association with a foreign key', async () => {
    for (const model of models) {
      for (const association of Object.values(model.associations).filter((item) => item.associationType === 'BelongsTo')) {
        const keys = await testApp.sequelize.query<{ target: string }>(
          `SELECT ccu.table_name AS target FROM information_schema.table_constraints tc
             JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name
             JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name
            WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = $1 AND kcu.column_name = $2`,
          { bind: [model.getTableName(), association.foreignKey], type: QueryTypes.SELECT },
        );
        expect(keys).toEqual([{ target: association.target.getTableName() }]);
      }
    }
  });

  it('knows every foreign key of the schema, with the delete and update rules the migrations set', async () => {
    const actual = await testApp.sequelize.query<ForeignKeyRow>(
      `SELECT tc.table_name AS "table", kcu.column_name AS "column", ccu.table_name AS target,
              rc.delete_rule AS "onDelete", rc.update_rule AS "onUpdate"
         FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
         JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
         JOIN information_schema.referential_constraints rc ON rc.constraint_name = tc.constraint_name AND rc.constraint_schema = tc.table_schema
        WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'`,
      { type: QueryTypes.SELECT },
    );
    const declared: ForeignKeyRow[] = [...FOREIGN_KEYS_WITHOUT_ASSOCIATION];
    for (const model of models) {
      for (const association of Object.values(model.associations).filter((item) => item.associationType === 'BelongsTo')) {
        // Sequelize fills in its defaults (NO ACTION or SET NULL on delete, CASCADE on update) for what a model leaves out.
        const options = (association as unknown as { options: { onDelete?: string; onUpdate?: string } }).options;
        declared.push({
          table: model.getTableName() as string,
          column: association.foreignKey,
          target: association.target.getTableName() as string,
          onDelete: options.onDelete!,
          onUpdate: options.onUpdate!,
        });
      }
    }
    const comparable = (keys: ForeignKeyRow[]) =>
      keys
        .map((key) => ({ ...key, onDelete: refusal(key.onDelete.toUpperCase()), onUpdate: refusal(key.onUpdate.toUpperCase()) }))
        .sort((a, b) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`));
    expect(comparable(actual)).toEqual(comparable(declared));
    // Sanity on the expectation: at least the three foreign keys of the accounts and posts schema (generated modules add theirs).
    expect(actual.map((key) => `${key.table}.${key.column}`)).toEqual(expect.arrayContaining(['posts.authorId', 'refresh_tokens.sessionId', 'sessions.userId']));
  });
});
