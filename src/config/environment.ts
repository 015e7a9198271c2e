/**
 * Every setting the service reads from the environment, with its default and bounds.
 * Validated once at boot: a bad value stops the process with a message naming the variable.
 */
import 'reflect-metadata';
import { plainToInstance, Transform, Type } from 'class-transformer';
import { IsBoolean, IsEnum, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, validateSync } from 'class-validator';

export enum NodeEnv {
  Development = 'development',
  Production = 'production',
  Test = 'test',
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ISOLATION_LEVELS = ['READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE'] as const;
export type IsolationLevelName = (typeof ISOLATION_LEVELS)[number];

const toBoolean = ({ value }: { value: unknown }) => {
  if (value === 'true' || value === '1' || value === true) return true;
  if (value === 'false' || value === '0' || value === false) return false;
  return value;
};

export interface HttpLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
}

export interface DatabaseLimits {
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly idleInTransactionTimeoutMs: number;
  readonly queryTimeoutMs: number;
  readonly keepAliveIdleMs: number;
  /**
   * DATABASE_URL goes through a transaction pooler: the statement, lock and idle-transaction limits are the server's
   * settings for the role (a pooler hands each transaction any server connection, and cannot carry startup parameters).
   */
  readonly pooled: boolean;
}

export class Environment {
  @IsEnum(NodeEnv)
  readonly NODE_ENV: NodeEnv = NodeEnv.Development;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  readonly PORT: number = 3000;

  /** Unset: 127.0.0.1 (this machine only) in development and test, every interface in production. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  readonly HOST?: string;

  /** Unset: an embedded PostgreSQL is started and used. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// or postgresql:// URL' })
  readonly DATABASE_URL?: string;

  /**
   * A direct connection for schema work (migrations and their advisory lock), when DATABASE_URL goes through a
   * transaction pooler such as PgBouncer, which cannot hold a session lock. Unset: DATABASE_URL.
   */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_MIGRATION_URL must be a postgres:// or postgresql:// URL' })
  readonly DATABASE_MIGRATION_URL?: string;

  /**
   * `transaction`: DATABASE_URL is a pooler in transaction mode (PgBouncer). The app then sends no session settings
   * and checks at start that the server's own (ALTER ROLE … SET) are the DB_*_TIMEOUT_MS values. docs/scaling.md.
   */
  @IsIn(['none', 'transaction'])
  readonly DATABASE_POOLER: 'none' | 'transaction' = 'none';

  /**
   * Streaming replicas of DATABASE_URL's server, comma-separated postgres:// URLs: reads outside a transaction go to
   * them while they keep up (DB_REPLICA_MAX_LAG_MS), everything else to the primary. docs/scaling.md.
   */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/[^\s,]+(,postgres(ql)?:\/\/[^\s,]+)*$/, {
    message: 'DATABASE_READ_URLS must be comma-separated postgres:// or postgresql:// URLs',
  })
  readonly DATABASE_READ_URLS?: string;

  /** A replica further behind the primary than this is out of rotation (reads go to the primary) until it catches up. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  readonly DB_REPLICA_MAX_LAG_MS: number = 1_000;

  /** How often each replica's replay position is compared with the primary's. */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60_000)
  readonly DB_REPLICA_PROBE_MS: number = 250;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  readonly DB_POOL_MAX: number = 20;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1000)
  readonly DB_POOL_MIN: number = 5;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  readonly DB_POOL_ACQUIRE_MS: number = 30_000;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  readonly DB_POOL_IDLE_MS: number = 10_000;

  /** Defaults to on in development only. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  readonly DB_LOG_SQL?: boolean;

  @IsIn(ISOLATION_LEVELS)
  readonly DB_ISOLATION_LEVEL: IsolationLevelName = 'READ COMMITTED';

  /** Defaults to on with the embedded server, off against an external DATABASE_URL. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  readonly MIGRATE_ON_START?: boolean;

  @IsIn(LOG_LEVELS)
  readonly LOG_LEVEL: LogLevel = 'info';

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  readonly EMBEDDED_PG_PORT: number = 54329;

  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  readonly EMBEDDED_PG_DATA_DIR: string = '.data/postgres';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600_000)
  readonly SHUTDOWN_TIMEOUT_MS: number = 10_000;

  /**
   * Signs access tokens (HS256). Required in production, at least 32 bytes; in development and test an unset
   * secret means a random key per process (tokens then die with the process).
   */
  @IsOptional()
  @IsString()
  readonly JWT_SECRET?: string;

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  readonly JWT_ISSUER: string = 'nest-sequelize-service';

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  readonly JWT_AUDIENCE: string = 'nest-sequelize-service-api';

  @Type(() => Number)
  @IsInt()
  @Min(30)
  @Max(86_400)
  readonly ACCESS_TOKEN_TTL_SECONDS: number = 900;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(31_536_000)
  readonly REFRESH_TOKEN_TTL_SECONDS: number = 2_592_000;

  /**
   * `true`: PATCH and DELETE of a versioned resource need `If-Match` (428 without it), so no client can overwrite a
   * change it has not seen. Off by default: clients that never send it keep working (README, "Conditional requests").
   */
  @Transform(toBoolean)
  @IsBoolean()
  readonly REQUIRE_IF_MATCH: boolean = false;

  /** How long an Idempotency-Key's first answer is replayed to a retry (then the key may run anew). */
  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(2_592_000)
  readonly IDEMPOTENCY_KEY_TTL_SECONDS: number = 86_400;

  /** `off` turns every rate limit off (benchmarks, load tests); on by default. */
  @IsIn(['on', 'off'])
  readonly RATE_LIMIT: 'on' | 'off' = 'on';

  /** Every route: requests per client IP per RATE_LIMIT_WINDOW_MS. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  readonly RATE_LIMIT_MAX: number = 600;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(86_400_000)
  readonly RATE_LIMIT_WINDOW_MS: number = 60_000;

  /** /auth/login, /auth/register, /auth/refresh: requests per client IP per AUTH_RATE_LIMIT_WINDOW_MS. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  readonly AUTH_RATE_LIMIT_PER_IP: number = 20;

  /** /auth/login and /auth/register: attempts per email address per AUTH_RATE_LIMIT_WINDOW_MS, whatever the IP. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  readonly AUTH_RATE_LIMIT_PER_EMAIL: number = 5;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(86_400_000)
  readonly AUTH_RATE_LIMIT_WINDOW_MS: number = 60_000;

  /** Unset: rate-limit counts live in this process. Set: in Redis, shared by every instance. */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  readonly REDIS_URL?: string;

  /**
   * Which proxies in front of the service to believe about the client's address (X-Forwarded-For), for rate limits
   * and logs: unset = none (the TCP peer is the client); `true` = any; or comma-separated IPs/CIDRs of the proxies.
   */
  @IsOptional()
  @Matches(/^(true|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$/, { message: 'TRUST_PROXY must be true or comma-separated IPs/CIDRs' })
  readonly TRUST_PROXY?: string;

  /** Comma-separated origins allowed by CORS; unset: CORS off (no Access-Control-* headers). */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s,]+(,https?:\/\/[^\s,]+)*$/, { message: 'CORS_ORIGINS must be a comma-separated list of http(s) origins' })
  readonly CORS_ORIGINS?: string;

  /** Time for a client to send a request's headers; beyond it the server answers 408 and closes the connection. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  readonly HTTP_HEADERS_TIMEOUT_MS: number = 10_000;

  /** Time for a client to send a whole request, headers and body: a body sent too slowly is cut off with 408. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  readonly HTTP_REQUEST_TIMEOUT_MS: number = 30_000;

  /** How long an idle keep-alive connection stays open; above a load balancer's idle timeout, so it closes first. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  readonly HTTP_KEEP_ALIVE_TIMEOUT_MS: number = 72_000;

  /** Open connections the server accepts at once; further ones are closed as they arrive. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  readonly HTTP_MAX_CONNECTIONS: number = 10_000;

  /** Time to open a database connection (TCP and authentication); beyond it the attempt fails and the request gets a 503. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  readonly DB_CONNECT_TIMEOUT_MS: number = 3_000;

  /** PostgreSQL's statement_timeout on every pool connection: the server cancels a statement running longer. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  readonly DB_STATEMENT_TIMEOUT_MS: number = 5_000;

  /** PostgreSQL's lock_timeout: a statement waiting this long for a lock is cancelled instead of queueing behind it. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  readonly DB_LOCK_TIMEOUT_MS: number = 2_000;

  /** PostgreSQL's idle_in_transaction_session_timeout: a transaction left open and idle this long is ended by the server. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  readonly DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: number = 10_000;

  /**
   * The client's own bound on one round trip (pg's query_timeout): covers what the server cannot, a network that
   * drops packets silently. Above DB_STATEMENT_TIMEOUT_MS, so a slow statement is the server's to cancel first.
   */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  readonly DB_QUERY_TIMEOUT_MS: number = 6_000;

  /** Idle time before TCP keepalive probes start on a database connection. */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  readonly DB_KEEPALIVE_IDLE_MS: number = 10_000;

  /** Requests served at once; a request beyond it is answered 503 + Retry-After at once (load shedding). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  readonly MAX_IN_FLIGHT_REQUESTS: number = 300;

  /** How long /health/ready waits for the database before answering 503. */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60_000)
  readonly HEALTH_DB_TIMEOUT_MS: number = 1_000;

  /**
   * After SIGTERM: how long readiness answers 503 while the server keeps serving, so a load balancer stops sending
   * before the listener closes. Unset: 5000 in production, 0 otherwise.
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600_000)
  readonly SHUTDOWN_GRACE_MS?: number;

  /**
   * Set: Prometheus metrics at /metrics for callers sending `Authorization: Bearer <token>`. Unset: metrics are off in
   * production (404, nothing collected) and open in development and test.
   */
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(1024)
  readonly METRICS_TOKEN?: string;

  /** A request taking longer is logged at warn with its route and time; 0 turns the line off. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  readonly SLOW_REQUEST_MS: number = 1_000;

  /** A SQL statement taking longer is logged at warn with its kind, time and request id; 0 turns the line off. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  readonly SLOW_QUERY_MS: number = 500;

  /** OpenTelemetry's own variable: set, traces are exported over OTLP/HTTP there; unset, tracing is off. */
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL' })
  readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** The HTTP server's time and connection limits, for `createHttpAdapter`. */
  get httpLimits(): HttpLimits {
    return {
      headersTimeoutMs: this.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: this.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: this.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: this.HTTP_MAX_CONNECTIONS,
    };
  }

  /** Bounds on every database round trip, for the connection options. */
  get databaseLimits(): DatabaseLimits {
    return {
      connectTimeoutMs: this.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: this.DB_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: this.DB_LOCK_TIMEOUT_MS,
      idleInTransactionTimeoutMs: this.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      queryTimeoutMs: this.DB_QUERY_TIMEOUT_MS,
      keepAliveIdleMs: this.DB_KEEPALIVE_IDLE_MS,
      pooled: this.DATABASE_POOLER === 'transaction',
    };
  }

  /** The replicas' URLs (DATABASE_READ_URLS), none when unset. */
  get readUrls(): string[] {
    return this.DATABASE_READ_URLS?.split(',') ?? [];
  }

  get shutdownGraceMs(): number {
    return this.SHUTDOWN_GRACE_MS ?? (this.NODE_ENV === NodeEnv.Production ? 5_000 : 0);
  }

  /** Metrics are collected and served: with a token anywhere, without one outside production. */
  get metricsEnabled(): boolean {
    return this.METRICS_TOKEN !== undefined || this.NODE_ENV !== NodeEnv.Production;
  }

  /** Where the HTTP server listens. */
  get listenHost(): string {
    return this.HOST ?? (this.NODE_ENV === NodeEnv.Production ? '0.0.0.0' : '127.0.0.1');
  }

  /** TRUST_PROXY as Fastify's `trustProxy` option. */
  get trustProxy(): boolean | string {
    if (this.TRUST_PROXY === undefined) return false;
    return this.TRUST_PROXY === 'true' ? true : this.TRUST_PROXY;
  }

  get sqlLogging(): boolean {
    return this.DB_LOG_SQL ?? this.NODE_ENV === NodeEnv.Development;
  }
}

const OPTIONAL_VARIABLES = ['HOST', 'DATABASE_URL', 'DATABASE_MIGRATION_URL', 'DATABASE_READ_URLS', 'DB_LOG_SQL', 'MIGRATE_ON_START', 'JWT_SECRET', 'REDIS_URL', 'CORS_ORIGINS', 'TRUST_PROXY', 'SHUTDOWN_GRACE_MS', 'METRICS_TOKEN', 'OTEL_EXPORTER_OTLP_ENDPOINT'];
const MIN_SECRET_BYTES = 32;

/** Builds the typed environment or throws one error that names every bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const known = new Set(Object.keys(new Environment()).concat(OPTIONAL_VARIABLES));
  // An empty value means "unset", as in most shells' `VAR= command`.
  const relevant = Object.fromEntries(Object.entries(raw).filter(([key, value]) => known.has(key) && value !== '' && value !== undefined));
  const environment = plainToInstance(Environment, relevant, { exposeDefaultValues: true });
  const errors = validateSync(environment, { whitelist: false, forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.flatMap((error) =>
      Object.values(error.constraints ?? {}).map((message) => `  - ${error.property}=${JSON.stringify(raw[error.property])}: ${message}`),
    );
    throw new Error(`Invalid environment configuration:\n${lines.join('\n')}`);
  }
  if (environment.HTTP_HEADERS_TIMEOUT_MS > environment.HTTP_REQUEST_TIMEOUT_MS) {
    throw new Error(
      `Invalid environment configuration:\n  - HTTP_HEADERS_TIMEOUT_MS (${environment.HTTP_HEADERS_TIMEOUT_MS}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${environment.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  if (environment.DB_STATEMENT_TIMEOUT_MS > environment.DB_QUERY_TIMEOUT_MS) {
    throw new Error(
      `Invalid environment configuration:\n  - DB_STATEMENT_TIMEOUT_MS (${environment.DB_STATEMENT_TIMEOUT_MS}) must not exceed DB_QUERY_TIMEOUT_MS (${environment.DB_QUERY_TIMEOUT_MS})`,
    );
  }
  if (environment.DATABASE_POOLER === 'transaction' && environment.MIGRATE_ON_START && !environment.DATABASE_MIGRATION_URL) {
    throw new Error(
      'Invalid environment configuration:\n  - MIGRATE_ON_START with DATABASE_POOLER=transaction needs DATABASE_MIGRATION_URL: migrations and their lock take a direct connection',
    );
  }
  if (environment.DB_POOL_MIN > environment.DB_POOL_MAX) {
    throw new Error(`Invalid environment configuration:\n  - DB_POOL_MIN (${environment.DB_POOL_MIN}) must not exceed DB_POOL_MAX (${environment.DB_POOL_MAX})`);
  }
  const secretBytes = environment.JWT_SECRET === undefined ? 0 : Buffer.byteLength(environment.JWT_SECRET, 'utf8');
  if (environment.NODE_ENV === NodeEnv.Production && secretBytes < MIN_SECRET_BYTES) {
    throw new Error(
      `Invalid environment configuration:\n  - JWT_SECRET: ${secretBytes === 0 ? 'missing' : `${secretBytes} bytes`}; production needs a secret of at least ` +
        `${MIN_SECRET_BYTES} bytes to sign access tokens (e.g. \`openssl rand -base64 48\`)`,
    );
  }
  if (secretBytes > 0 && secretBytes < MIN_SECRET_BYTES) {
    throw new Error(`Invalid environment configuration:\n  - JWT_SECRET: ${secretBytes} bytes; it must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return environment;
}
