import { NodeEnv, validateEnvironment } from './environment';

describe('validateEnvironment', () => {
  it('applies the documented defaults to an empty environment', () => {
    const environment = validateEnvironment({});
    expect(environment).toMatchObject({
      NODE_ENV: NodeEnv.Development,
      PORT: 3000,
      HOST: '0.0.0.0',
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

  it('converts numbers and booleans from their string form', () => {
    const environment = validateEnvironment({ PORT: '8080', DB_POOL_MAX: '7', DB_POOL_MIN: '2', MIGRATE_ON_START: 'true', DB_LOG_SQL: '0' });
    expect(environment.PORT).toBe(8080);
    expect(environment.DB_POOL_MAX).toBe(7);
    expect(environment.MIGRATE_ON_START).toBe(true);
    expect(environment.DB_LOG_SQL).toBe(false);
  });

  it('logs SQL by default in development only', () => {
    expect(validateEnvironment({ NODE_ENV: 'development' }).sqlLogging).toBe(true);
    expect(validateEnvironment({ NODE_ENV: 'production' }).sqlLogging).toBe(false);
    expect(validateEnvironment({ NODE_ENV: 'production', DB_LOG_SQL: 'true' }).sqlLogging).toBe(true);
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

  it('rejects a pool whose minimum exceeds its maximum', () => {
    expect(() => validateEnvironment({ DB_POOL_MIN: '30', DB_POOL_MAX: '10' })).toThrow(/DB_POOL_MIN \(30\) must not exceed DB_POOL_MAX \(10\)/);
  });
});
