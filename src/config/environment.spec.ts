import { NodeEnv, validateEnvironment } from './environment';

describe('validateEnvironment', () => {
  it('applies the documented defaults to an empty environment', () => {
    const environment = validateEnvironment({});
    expect(environment).toMatchObject({
      NODE_ENV: NodeEnv.Development,
      PORT: 3000,
      DB_POOL_MAX: 20,
      DB_POOL_MIN: 5,
      DB_POOL_ACQUIRE_MS: 30_000,
      DB_POOL_IDLE_MS: 10_000,
      DB_ISOLATION_LEVEL: 'READ COMMITTED',
      LOG_LEVEL: 'info',
      EMBEDDED_PG_DATA_DIR: '.data/postgres',
    });
    expect(environment.DATABASE_URL).toBeUndefined();
  });

  it('listens on this machine only unless in production or told otherwise', () => {
    expect(validateEnvironment({}).listenHost).toBe('127.0.0.1');
    expect(validateEnvironment({ NODE_ENV: 'test' }).listenHost).toBe('127.0.0.1');
    expect(validateEnvironment({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).listenHost).toBe('0.0.0.0');
    expect(validateEnvironment({ HOST: '0.0.0.0' }).listenHost).toBe('0.0.0.0');
    expect(validateEnvironment({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), HOST: '10.0.0.5' }).listenHost).toBe('10.0.0.5');
  });

  it('converts numbers and booleans from their string form', () => {
    const environment = validateEnvironment({ PORT: '8080', DB_POOL_MAX: '7', DB_POOL_MIN: '2', MIGRATE_ON_START: 'true', DB_LOG_SQL: '0' });
    expect(environment.PORT).toBe(8080);
    expect(environment.DB_POOL_MAX).toBe(7);
    expect(environment.MIGRATE_ON_START).toBe(true);
    expect(environment.DB_LOG_SQL).toBe(false);
  });

  it('logs SQL by default in development only', () => {
    expect(validateEnvironment({ NODE_ENV: 'development' }).sqlLogging).toBe(true);
    const secret = 'x'.repeat(32);
    expect(validateEnvironment({ NODE_ENV: 'production', JWT_SECRET: secret }).sqlLogging).toBe(false);
    expect(validateEnvironment({ NODE_ENV: 'production', JWT_SECRET: secret, DB_LOG_SQL: 'true' }).sqlLogging).toBe(true);
  });

  it('treats an empty value as unset', () => {
    expect(validateEnvironment({ DATABASE_URL: '', PORT: '' })).toMatchObject({ DATABASE_URL: undefined, PORT: 3000 });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://root@localhost/db'],
    ['DB_POOL_MAX', '0'],
    ['DB_POOL_ACQUIRE_MS', '1.5'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['MIGRATE_ON_START', 'yes'],
    ['DB_ISOLATION_LEVEL', 'READ UNCOMMITTED'],
  ])('rejects %s=%s with a message naming the variable', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(new RegExp(`Invalid environment configuration:[\\s\\S]*- ${name}=`));
  });

  it('names every bad variable at once', () => {
    expect(() => validateEnvironment({ PORT: '-1', LOG_LEVEL: 'x' })).toThrow(/PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/);
  });

  it('needs a JWT_SECRET of at least 32 bytes in production, naming it', () => {
    expect(() => validateEnvironment({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: missing; production needs a secret of at least 32 bytes/);
    expect(() => validateEnvironment({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(31) })).toThrow(/JWT_SECRET: 31 bytes/);
    expect(validateEnvironment({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).JWT_SECRET).toHaveLength(32);
    // Counted in bytes: 16 two-byte characters are enough.
    expect(validateEnvironment({ NODE_ENV: 'production', JWT_SECRET: 'é'.repeat(16) }).JWT_SECRET).toBe('é'.repeat(16));
  });

  it('allows no secret in development and test (a random per-process key), but never a short one', () => {
    expect(validateEnvironment({ NODE_ENV: 'development' }).JWT_SECRET).toBeUndefined();
    expect(validateEnvironment({ NODE_ENV: 'test' }).JWT_SECRET).toBeUndefined();
    expect(() => validateEnvironment({ NODE_ENV: 'test', JWT_SECRET: 'short' })).toThrow(/JWT_SECRET: 5 bytes; it must be at least 32 bytes/);
  });

  it('defaults: 15-minute access tokens, 30-day refresh tokens, rate limits on', () => {
    expect(validateEnvironment({})).toMatchObject({
      ACCESS_TOKEN_TTL_SECONDS: 900,
      REFRESH_TOKEN_TTL_SECONDS: 2_592_000,
      RATE_LIMIT: 'on',
      RATE_LIMIT_MAX: 600,
      AUTH_RATE_LIMIT_PER_IP: 20,
      AUTH_RATE_LIMIT_PER_EMAIL: 5,
    });
  });

  it.each([
    ['RATE_LIMIT', 'maybe'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['CORS_ORIGINS', 'app.example.com'],
    ['ACCESS_TOKEN_TTL_SECONDS', '5'],
  ])('rejects %s=%s', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(new RegExp(`- ${name}=`));
  });

  it('rejects a pool whose minimum exceeds its maximum', () => {
    expect(() => validateEnvironment({ DB_POOL_MIN: '30', DB_POOL_MAX: '10' })).toThrow(/DB_POOL_MIN \(30\) must not exceed DB_POOL_MAX \(10\)/);
  });

  it('a transaction pooler: off by default; migrating at start through it needs the direct DATABASE_MIGRATION_URL', () => {
    expect(validateEnvironment({}).databaseLimits.pooled).toBe(false);
    expect(() => validateEnvironment({ DATABASE_POOLER: 'session' })).toThrow(/- DATABASE_POOLER=/);
    const pooler = { DATABASE_URL: 'postgres://app@pgbouncer:6432/app', DATABASE_POOLER: 'transaction', MIGRATE_ON_START: 'true' };
    expect(() => validateEnvironment(pooler)).toThrow(/MIGRATE_ON_START with DATABASE_POOLER=transaction needs DATABASE_MIGRATION_URL/);
    const direct = validateEnvironment({ ...pooler, DATABASE_MIGRATION_URL: 'postgres://app@primary:5432/app' });
    expect(direct.databaseLimits.pooled).toBe(true);
    expect(() => validateEnvironment({ DATABASE_MIGRATION_URL: 'mysql://x' })).toThrow(/DATABASE_MIGRATION_URL must be a postgres/);
  });
});

describe('validateEnvironment: HTTP server limits', () => {
  it('defaults: 10 s for headers, 30 s for a whole request, 72 s idle keep-alive, 10,000 connections', () => {
    const environment = validateEnvironment({});
    expect(environment.httpLimits).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000, maxConnections: 10_000 });
  });

  it('reads each variable from its string form into httpLimits', () => {
    const environment = validateEnvironment({
      HTTP_HEADERS_TIMEOUT_MS: '500',
      HTTP_REQUEST_TIMEOUT_MS: '1500',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '700',
      HTTP_MAX_CONNECTIONS: '3',
    });
    expect(environment.httpLimits).toEqual({ headersTimeoutMs: 500, requestTimeoutMs: 1500, keepAliveTimeoutMs: 700, maxConnections: 3 });
  });

  it.each([
    ['HTTP_HEADERS_TIMEOUT_MS', '100', { HTTP_REQUEST_TIMEOUT_MS: '100' }],
    ['HTTP_HEADERS_TIMEOUT_MS', '600000', { HTTP_REQUEST_TIMEOUT_MS: '600000' }],
    ['HTTP_REQUEST_TIMEOUT_MS', '100', { HTTP_HEADERS_TIMEOUT_MS: '100' }],
    ['HTTP_REQUEST_TIMEOUT_MS', '3600000', {}],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '100', {}],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '3600000', {}],
    ['HTTP_MAX_CONNECTIONS', '1', {}],
    ['HTTP_MAX_CONNECTIONS', '1000000', {}],
  ])('accepts %s=%s, a bound of its range', (name, value, others) => {
    const environment = validateEnvironment({ ...others, [name]: value }) as unknown as Record<string, number>;
    expect(environment[name]).toBe(Number(value));
  });

  it.each([
    ['HTTP_HEADERS_TIMEOUT_MS', '99'],
    ['HTTP_HEADERS_TIMEOUT_MS', '600001'],
    ['HTTP_HEADERS_TIMEOUT_MS', 'abc'],
    ['HTTP_REQUEST_TIMEOUT_MS', '99'],
    ['HTTP_REQUEST_TIMEOUT_MS', '3600001'],
    ['HTTP_REQUEST_TIMEOUT_MS', '1.5'],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '0'],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '3600001'],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '-1'],
    ['HTTP_MAX_CONNECTIONS', '0'],
    ['HTTP_MAX_CONNECTIONS', '1000001'],
    ['HTTP_MAX_CONNECTIONS', 'many'],
  ])('rejects %s=%s with a message naming the variable', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(new RegExp(`Invalid environment configuration:[\\s\\S]*- ${name}=`));
  });

  it('refuses a headers timeout longer than the request timeout (it could never fire), naming both', () => {
    expect(() => validateEnvironment({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '15000' })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS \(20000\) must not exceed HTTP_REQUEST_TIMEOUT_MS \(15000\)/,
    );
    // Against the other's default, too: a request timeout below the 10 s default headers timeout needs a shorter one.
    expect(() => validateEnvironment({ HTTP_REQUEST_TIMEOUT_MS: '5000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS \(10000\) must not exceed HTTP_REQUEST_TIMEOUT_MS \(5000\)/);
    expect(validateEnvironment({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '5000' }).httpLimits).toMatchObject({
      headersTimeoutMs: 5000,
      requestTimeoutMs: 5000,
    });
  });
});
