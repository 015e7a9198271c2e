/**
 * A throwaway database for one benchmark run: a fresh embedded PostgreSQL cluster under the OS temp
 * directory, or, when DATABASE_URL is set, a fresh `bench_<random>` database on that server. Either is
 * removed again by `dispose()`. The schema comes from the project's migrations, the rows from `seed()`.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { Sequelize } from 'sequelize';
import type { SessionUser } from './auth';
import { EmbeddedPostgres } from '../../src/database/embedded/embedded-postgres';
import { createMigrator } from '../../src/database/migrator';
import { containsPattern, indexedPiece } from '../../src/posts/search-pattern';
// The e2e harness's small pg and network helpers: one connection per call, a database's URL, a free port.
import { databaseUrl, withAdmin } from '../../test/setup/test-databases';
import { freePort } from '../../test/utils/app-process';

export interface BenchDatabase {
  /** Connection URL of the bench database, handed to both servers. */
  url: string;
  name: string;
  /** Human-readable description for the report. */
  server: string;
  /** True when pg_stat_statements works in the bench database (server-side statement counts). */
  statStatements: boolean;
  dispose(): Promise<void>;
}

export async function provisionDatabase(log: (message: string) => void): Promise<BenchDatabase> {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const external = process.env.DATABASE_URL;

  if (external) {
    await withAdmin(external, (admin) => admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`));
    const url = databaseUrl(external, name);
    const statStatements = await enableStatStatements(url);
    const host = new URL(external).host;
    return {
      url,
      name,
      server: `PostgreSQL at ${host} (DATABASE_URL), database ${name}`,
      statStatements,
      dispose: () =>
        withAdmin(external, async (admin) => {
          await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
        }),
    };
  }

  const dataDir = await fs.mkdtemp(path.join(tmpdir(), 'bench-pg-'));
  const port = await freePort();
  const start = () => EmbeddedPostgres.start({ dataDir, port, fast: true, log });
  let pg = await start();
  try {
    // pg_stat_statements must be preloaded; the cluster is ours and thrown away, so configure and restart it.
    await withAdmin(pg.url(), (client) => client.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"));
    await pg.stop();
    pg = await start();
    await pg.ensureDatabase(name);
  } catch (error) {
    await pg.stop().catch(() => undefined);
    await fs.rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const url = pg.url(name);
  const statStatements = await enableStatStatements(url);
  const version = await withAdmin(url, async (c) => (await c.query('SHOW server_version')).rows[0].server_version as string);
  const running = pg;
  return {
    url,
    name,
    server: `embedded PostgreSQL ${version} (fsync off), port ${port}`,
    statStatements,
    dispose: async () => {
      await running.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function enableStatStatements(url: string): Promise<boolean> {
  return withAdmin(url, async (client) => {
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await client.query('SELECT 1 FROM pg_stat_statements LIMIT 1');
      return true;
    } catch {
      return false;
    }
  });
}

/** Applies the migrations with the app's own migrator (same `SequelizeMeta` records), so the app finds nothing pending. */
export async function migrate(url: string): Promise<string[]> {
  const sequelize = new Sequelize(url, { logging: false });
  try {
    return (await createMigrator(sequelize).up()).map((migration) => migration.name);
  } finally {
    await sequelize.close();
  }
}

export interface DatasetSize {
  users: number;
  posts: number;
  /** Users with a live login session: the callers of every write. */
  sessions: number;
}

export interface SeededData {
  userIds: number[];
  published: number;
  lastPostId: number;
  /** One live session per sampled user, by user id. */
  sessions: SessionUser[];
  /** A session that has been revoked (logout): its access tokens must be refused. */
  endedSession: SessionUser;
}

/**
 * Seeds with set-based INSERTs (generate_series): deterministic (setseed), one admin in ten, about 60 %
 * of posts published, authors drawn uniformly from live users, timestamps spread over two years,
 * bodies of 150 to 600 characters; then a login session for each of a random sample of users (admins
 * among them in their proportion), living `sessionTtlSeconds` as one the app's login starts, plus one
 * revoked session.
 */
export async function seed(url: string, size: DatasetSize, sessionTtlSeconds: number): Promise<SeededData> {
  return withAdmin(url, async (client) => {
    await client.query('SELECT setseed(0.42)');
    await client.query(
      `INSERT INTO users (name, email, "createdAt", "updatedAt")
       SELECT 'User ' || g, 'user' || g || '@example.com', t, t
       FROM (SELECT g, now() - random() * interval '730 days' AS t FROM generate_series(1, $1::int) AS g) AS s`,
      [size.users],
    );
    // An untyped literal coerces to the enum whatever the migration named its type.
    await client.query(`UPDATE users SET role = 'admin' WHERE id % 10 = 0`);
    await client.query(
      `INSERT INTO posts (title, body, published, "authorId", "createdAt", "updatedAt")
       SELECT 'Post ' || g || ': ' || left(md5(g::text), 12),
              repeat('Lorem ipsum dolor sit amet, consectetur adipiscing elit. ', 2 + g % 9) || md5(g::text),
              random() < 0.6,
              u.ids[1 + floor(random() * array_length(u.ids, 1))::int],
              t, t
       FROM (SELECT g, now() - random() * interval '730 days' AS t FROM generate_series(1, $1::int) AS g) AS s,
            (SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE "deletedAt" IS NULL) AS u`,
      [size.posts],
    );
    // The sample comes first in random() order (deterministic after setseed); the ended session belongs to the
    // first user of the sample.
    const { rows: sessions } = await client.query<SessionUser & { revoked: boolean }>(
      `WITH sample AS (
         SELECT id, role, row_number() OVER (ORDER BY random()) AS n FROM users WHERE "deletedAt" IS NULL ORDER BY n LIMIT $1
       ), created AS (
         INSERT INTO sessions (id, "userId", "expiresAt", "revokedAt", "createdAt", "updatedAt")
         SELECT gen_random_uuid(), s.id, now() + make_interval(secs => $2), CASE WHEN ended THEN now() END, now(), now()
         FROM sample s CROSS JOIN (VALUES (false), (true)) AS e(ended)
         WHERE NOT ended OR s.n = 1
         RETURNING id, "userId", "revokedAt" IS NOT NULL AS revoked
       )
       SELECT c.id AS "sessionId", c."userId", s.role::text AS role, c.revoked
       FROM created c JOIN sample s ON s.id = c."userId" ORDER BY c."userId", c.revoked`,
      [size.sessions, sessionTtlSeconds],
    );
    if (sessions.length === 0) throw new Error('no users to give a session to');
    // VACUUM, not only ANALYZE: the trigram GIN indexes (created empty by the migrations) hold every seeded post in
    // their pending list, which each search reads in full and which makes the planner price them above a sequential
    // scan; autovacuum would flush it at some random moment of the run (and set the visibility maps other plans
    // use). Settled here, every scenario starts from the state a production table is in.
    await settle(client, ['users', 'posts', 'sessions']);
    const session = ({ userId, sessionId, role }: SessionUser): SessionUser => ({ userId, sessionId, role });
    return {
      userIds: (await client.query('SELECT id FROM users WHERE "deletedAt" IS NULL ORDER BY id')).rows.map((row) => row.id as number),
      published: (await client.query('SELECT count(*)::int AS n FROM posts WHERE published AND "deletedAt" IS NULL')).rows[0].n as number,
      lastPostId: (await client.query('SELECT coalesce(max(id), 0)::int AS id FROM posts')).rows[0].id as number,
      sessions: sessions.filter((row) => !row.revoked).map(session),
      endedSession: session(sessions.find((row) => row.revoked)!),
    };
  });
}

/** Removes the posts a write scenario created, then refreshes statistics and visibility maps. */
export async function restore(url: string, lastSeededPostId: number): Promise<void> {
  await withAdmin(url, async (client) => {
    await client.query('DELETE FROM posts WHERE id > $1', [lastSeededPostId]);
    await settle(client, ['users', 'posts']);
  });
}

/**
 * VACUUM ANALYZE, then VACUUM again until every page of the table is all-visible (or 5 s have passed). A VACUUM that
 * runs while another transaction holds an older snapshot (an autovacuum ANALYZE the seed's inserts started, say)
 * leaves the new rows' pages off the visibility map; index-only scans (the posts list's count) then stay off, and as
 * this VACUUM has reset the insert counters, autovacuum may not come back during the run to fix it.
 */
async function settle(client: Client, tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    const name = client.escapeIdentifier(table);
    await client.query(`VACUUM ANALYZE ${name}`);
    for (let attempt = 0; attempt < 20; attempt++) {
      const { rows } = await client.query<{ pages: number; visible: number }>(
        'SELECT relpages AS pages, relallvisible AS visible FROM pg_class WHERE oid = $1::regclass',
        [table],
      );
      if (rows[0].visible >= rows[0].pages) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
      await client.query(`VACUUM ${name}`);
    }
  }
}

// The search statements as both servers send them for an anonymous caller (the baseline's text; the app's differs in
// aliases and in `published = true` for `published`, not in plan).
// The indexes are searched with the term's first 32 characters ($1), the whole term ($2) is rechecked.
const SEARCH_FILTER = '(title ILIKE $1 OR body ILIKE $1) AND posts_text_contains(title, body, $2) = true AND published AND "deletedAt" IS NULL';
const SEARCH_STATEMENTS = {
  count: `SELECT count(*)::int AS total FROM posts WHERE ${SEARCH_FILTER}`,
  page: `SELECT id FROM posts WHERE ${SEARCH_FILTER} ORDER BY "createdAt" DESC, id DESC LIMIT 20 OFFSET 0`,
};

export interface SearchPlan {
  term: string;
  /** The scans of each statement's plan, e.g. `posts_title_trgm_live + posts_body_trgm_live` or `Seq Scan`. */
  count: string;
  page: string;
  /** Both statements read the trigram indexes. */
  trigram: boolean;
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

function scans(node: PlanNode): string[] {
  const own =
    node['Node Type'] === 'Seq Scan'
      ? ['Seq Scan']
      : node['Index Name']
        ? [`${node['Index Name']}${node['Scan Direction'] === 'Backward' ? ' backward' : ''}${node.Filter ? ' + ILIKE filter' : ''}`]
        : [];
  return [...own, ...(node.Plans ?? []).flatMap(scans)];
}

/**
 * How PostgreSQL plans the search statements for each term with the statistics of this moment. ANALYZE reads a random
 * sample, so a rare term's estimate changes from one seed to the next (one of its matches in the sampled histogram
 * makes it look 50 times as common), and with it, possibly, the page statement's plan: a backward walk of the
 * createdAt index filtering every published post instead of the trigram indexes. The run logs it so that a search
 * ratio can be read for what was measured.
 */
export async function searchPlans(url: string, terms: readonly string[]): Promise<SearchPlan[]> {
  return withAdmin(url, async (client) => {
    const explain = async (sql: string, params: string[]) => {
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      return scans(rows[0]['QUERY PLAN'][0].Plan);
    };
    const plans: SearchPlan[] = [];
    for (const term of terms) {
      const params = [containsPattern(indexedPiece(term)), term];
      const count = await explain(SEARCH_STATEMENTS.count, params);
      const page = await explain(SEARCH_STATEMENTS.page, params);
      const trigram = [count, page].every((found) => found.length > 0 && found.every((scan) => /_trgm_live$/.test(scan)));
      plans.push({ term, count: count.join(' + '), page: page.join(' + '), trigram });
    }
    return plans;
  });
}

/**
 * The harness's own connection to the bench database, for two measurements:
 * - server-side statement counts: total pg_stat_statements calls in the bench database, leaving out
 *   these monitoring queries. Every statement counts (BEGIN and COMMIT too: track_utility is on),
 *   whichever client sent it. Undefined when the extension is not preloaded on the server.
 * - the backends serving the bench database, whose CPU time belongs to the run being measured.
 */
export class Monitor {
  private constructor(
    private readonly client: Client,
    private readonly statStatements: boolean,
  ) {}

  static async open(url: string, statStatements: boolean): Promise<Monitor> {
    const client = new Client({ connectionString: url });
    await client.connect();
    return new Monitor(client, statStatements);
  }

  async statementTotal(): Promise<number | undefined> {
    if (!this.statStatements) return undefined;
    const { rows } = await this.client.query(
      `SELECT coalesce(sum(calls), 0)::bigint AS calls FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND query NOT LIKE '%pg_stat_statements%'`,
    );
    return Number(rows[0].calls);
  }

  /** PostgreSQL backends (processes) connected to the bench database, this one excluded. */
  async backendPids(): Promise<number[]> {
    const { rows } = await this.client.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows.map((row) => row.pid as number);
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
