/**
 * Boots the real AppModule on Fastify, listening on a random port, for e2e tests that talk real HTTP.
 * Refuses to run against any database the harness did not create.
 */
import { randomUUID } from 'node:crypto';
import type { DynamicModule, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { QueryTypes } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { AppModule } from '../../src/app.module';
import { configureApp, createHttpAdapter, NEST_APP_OPTIONS } from '../../src/app.setup';
import { TokensService } from '../../src/auth/tokens.service';
import type { Role } from '../../src/common/access/actor';
import { validateEnvironment } from '../../src/config/environment';
import { SessionsService } from '../../src/sessions/sessions.service';
import { isMarked, withAdmin } from '../setup/test-databases';
import { openApiValidator } from './openapi-validator';

export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  /**
   * Who sends the request: an access token, or `null` for an anonymous request. Unset: the harness admin
   * (see TestApp.admin). An explicit `authorization` header wins over both.
   */
  as?: string | null;
}

/** A user the harness can act as. */
export interface TestAccount {
  id: number;
  role: Role;
  /** A valid access token of a live session of this user. */
  token: string;
}

export interface TestApp {
  app: NestFastifyApplication;
  baseUrl: string;
  sequelize: Sequelize;
  /**
   * Sends a real HTTP request. Every response is checked against openapi.json (status declared for the operation,
   * body valid against its schema, required headers present); a mismatch rejects with the details.
   */
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<TestResponse<T>>;
  /**
   * An admin account that requests act as by default, so that tests about what an operation does need no
   * ceremony; tests about who may do it pass `as`. It survives truncate() (it is listed among the users).
   */
  admin: TestAccount;
  /** A new login session for an existing user, without a password: the token is what a login would give. */
  tokenFor(user: { id: number; role: Role }): Promise<string>;
  /** Runs `fn` and returns every SQL statement the app sent meanwhile (BEGIN/COMMIT included). */
  captureStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }>;
  /** Rows straight from the database (deleted ones included), for assertions the API cannot make. */
  rows<T = any>(sql: string, bind?: unknown[]): Promise<T[]>;
  /** Empties every application table (not the migrations' bookkeeping), keeping the harness admin and its session. */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra modules, e.g. test-only routes. */
  imports?: Array<Type<unknown> | DynamicModule>;
  /** Environment overrides for this app only, validated like the real environment. */
  env?: Record<string, string>;
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  // An app pointed at a database of its own (a scratch database, a cluster of the test's) reaches it directly, not
  // through the pooler the worker's database may sit behind.
  // (Stated, not left out: ConfigService falls back to process.env for what the validated values lack.)
  const own = options.env?.DATABASE_MIGRATION_URL === undefined ? options.env?.DATABASE_URL : undefined;
  const direct: Record<string, string> = own === undefined ? {} : { DATABASE_POOLER: 'none', DATABASE_MIGRATION_URL: own };
  const environment: Record<string, string | undefined> = { ...process.env, ...direct, ...options.env };
  await assertHarnessDatabase(environment.DATABASE_URL);

  const validated = validateEnvironment(environment);
  const builder = Test.createTestingModule({ imports: [AppModule, ...(options.imports ?? [])] });
  if (options.env) {
    // Seeded the way ConfigModule seeds it after validation, so these values win over process.env.
    builder.overrideProvider(ConfigService).useValue(new ConfigService({ _PROCESS_ENV_VALIDATED: validated }));
  }
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createHttpAdapter({ trustProxy: validated.trustProxy, limits: validated.httpLimits, maxInFlightRequests: validated.MAX_IN_FLIGHT_REQUESTS }),
    NEST_APP_OPTIONS,
  );
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const sequelize = app.get(Sequelize);

  const sessions = app.get(SessionsService);
  const tokens = app.get(TokensService);
  const tokenFor = async (user: { id: number; role: Role }) => {
    const session = await sessions.start(user.id);
    return tokens.issueAccessToken({ id: user.id, role: user.role, sessionId: session.sessionId });
  };
  const admin = await createHarnessAdmin(sequelize, tokenFor);
  openApps += 1;

  let captured: string[] | undefined;
  sequelize.addHook('afterQuery', (_options, query) => {
    captured?.push((query as unknown as { sql: string }).sql);
  });

  return {
    app,
    baseUrl,
    sequelize,
    admin,
    tokenFor,
    async request(method, path, requestOptions = {}) {
      const token = requestOptions.as === undefined ? admin.token : requestOptions.as;
      const headers: Record<string, string> = { ...(token !== null && { authorization: `Bearer ${token}` }), ...requestOptions.headers };
      let body: string | undefined = requestOptions.rawBody;
      if (requestOptions.body !== undefined) {
        body = JSON.stringify(requestOptions.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
      const text = await response.text();
      // Routes added through `imports` are test-only and undocumented; everything else must match the document.
      openApiValidator().assert(
        // The URL fetch actually requested (it resolves `.` and `..` segments), not the one the test wrote.
        { method, url: new URL(response.url).pathname + new URL(response.url).search, status: response.status, headers: response.headers, text },
        { allowUndocumentedPaths: (options.imports?.length ?? 0) > 0 },
      );
      // Issue 10: no response of the whole e2e run may carry a password hash, whatever the route or status.
      if (PASSWORD_HASH_LEAK.test(text)) throw new Error(`${method} ${path} answered with a password hash: ${text.slice(0, 500)}`);
      const isJson = (response.headers.get('content-type') ?? '').includes('application/json');
      const parsed = isJson && text ? JSON.parse(text) : text;
      // Issue 11: a client's mistake is explained in the API's words, never in the ORM's, the database's or Fastify's.
      if (response.status >= 400 && response.status < 500) {
        const leaked = libraryWording(parsed);
        if (leaked) throw new Error(`${method} ${path} answered ${response.status} in a library's words (${leaked}): ${text.slice(0, 500)}`);
      }
      return { status: response.status, headers: response.headers, body: parsed };
    },
    async captureStatements(fn) {
      captured = [];
      try {
        const result = await fn();
        return { result, statements: captured };
      } finally {
        captured = undefined;
      }
    },
    async rows<T>(sql: string, bind: unknown[] = []) {
      // From the primary (with read replicas): what was just written, whatever the replicas have replayed.
      const [rows] = await sequelize.query(sql, { bind, useMaster: true });
      return rows as T[];
    },
    async truncate() {
      await emptyTables(sequelize, ['users', 'sessions']);
      await sequelize.query('DELETE FROM sessions WHERE "userId" <> $1', { bind: [admin.id] });
      await sequelize.query('DELETE FROM users WHERE id <> $1', { bind: [admin.id] });
      // Whatever a test did to the admin (renamed, demoted, deleted, logged out) is undone.
      await sequelize.query(`UPDATE users SET name = $2, role = 'admin', "deletedAt" = NULL WHERE id = $1`, { bind: [admin.id, HARNESS_ADMIN_NAME] });
      await sequelize.query('UPDATE sessions SET "revokedAt" = NULL WHERE "userId" = $1', { bind: [admin.id] });
    },
    async close() {
      openApps -= 1;
      if (openApps === 0) {
        // The last app of this file: the next file of this worker starts from empty tables (ids restarted).
        await emptyTables(sequelize, []).catch(() => undefined);
      } else {
        // Another app of this file still uses the database: take away only what this one added for itself.
        await sequelize.query('DELETE FROM posts WHERE "authorId" = $1', { bind: [admin.id] }).catch(() => undefined);
        await sequelize.query('DELETE FROM users WHERE id = $1', { bind: [admin.id] }).catch(() => undefined);
      }
      await app.close();
    },
  };
}

/** Apps of this test file not closed yet (each file has its own module registry, so its own count). */
let openApps = 0;

/** TRUNCATE every application table but the migrations' bookkeeping and `keep`. */
async function emptyTables(sequelize: Sequelize, keep: string[]): Promise<void> {
  const tables = await sequelize.query<{ name: string }>(
    `SELECT quote_ident(tablename) AS name FROM pg_tables
     WHERE schemaname = 'public' AND NOT (tablename = ANY($1))`,
    { bind: [['SequelizeMeta', 'SequelizeData', ...keep]], type: QueryTypes.SELECT, useMaster: true },
  );
  if (tables.length > 0) await sequelize.query(`TRUNCATE TABLE ${tables.map((table) => table.name).join(', ')} RESTART IDENTITY CASCADE`);
}

const HARNESS_ADMIN_NAME = 'Harness Admin';
/** An argon2 hash, or the hash column as a JSON key (a client's own word echoed in a 400 message is no leak). */
const PASSWORD_HASH_LEAK = /\$argon2|"passwordHash"\s*:/;

/**
 * Wording of Sequelize's validators and errors, PostgreSQL's messages and Fastify's error codes, looked for in the
 * `message` of 4xx bodies only (the one field written for the client; a few regular expressions per refusal).
 */
const LIBRARY_WORDING = [
  /Validation \w+ on \w+ failed/,
  /cannot be null/,
  /notNull Violation/i,
  /Sequelize/i,
  /must be unique/,
  /violates .*constraint/,
  /FST_/,
  /invalid input syntax/,
  /value too long for type/,
  /duplicate key value/,
];

/** The first library phrase in a 4xx body's `message` (a string or an array of them), or undefined. */
function libraryWording(body: unknown): string | undefined {
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
  const texts = Array.isArray(message) ? message : [message];
  for (const text of texts) {
    if (typeof text !== 'string') continue;
    const found = LIBRARY_WORDING.find((pattern) => pattern.test(text));
    if (found) return `${found} in "${text.slice(0, 200)}"`;
  }
  return undefined;
}

async function createHarnessAdmin(sequelize: Sequelize, tokenFor: TestApp['tokenFor']): Promise<TestAccount> {
  // Inserted directly: no password (it never logs in), a unique email so that several apps may share a database.
  const [row] = await sequelize.query<{ id: number }>(
    `INSERT INTO users (name, email, role, "createdAt", "updatedAt") VALUES ($1, $2, 'admin', now(), now()) RETURNING id`,
    // useMaster: a write with RETURNING is a SELECT to Sequelize, which would send it to a read replica if any.
    { bind: [HARNESS_ADMIN_NAME, `harness-admin-${randomUUID()}@example.com`], type: QueryTypes.SELECT, useMaster: true },
  );
  return { id: row.id, role: 'admin', token: await tokenFor({ id: row.id, role: 'admin' }) };
}

async function assertHarnessDatabase(url: string | undefined): Promise<void> {
  const name = url ? decodeURIComponent(new URL(url).pathname.slice(1)) : '';
  const marked = url !== undefined && (await withAdmin(url, (client) => isMarked(client, name)));
  if (!marked) {
    throw new Error(`Refusing to run e2e tests against database "${name}": it was not created by the test harness`);
  }
}
