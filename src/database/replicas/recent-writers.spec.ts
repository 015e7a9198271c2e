import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { HttpAdapterHost } from '@nestjs/core';
import { type Environment, NodeEnv } from '../../config/environment';
import { RecentWriters } from './recent-writers';

function make(settings: Partial<Record<keyof Environment | 'readUrls', unknown>>): RecentWriters {
  const values: Record<string, unknown> = { DB_REPLICA_MAX_LAG_MS: 1000, DB_REPLICA_PROBE_MS: 250, NODE_ENV: NodeEnv.Production, readUrls: [], ...settings };
  const config = { get: (key: string) => values[key] } as unknown as ConfigService<Environment, true>;
  return new RecentWriters(config, {} as HttpAdapterHost);
}

describe('RecentWriters', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => (warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined)));
  afterEach(() => warn.mockRestore());

  const warned = () => warn.mock.calls.some(([message]) => String(message).startsWith('REDIS_URL is not set: read-your-writes pins'));

  it('warns in production when replicas are on and the pins would stay in this process', () => {
    expect(make({ readUrls: ['postgres://replica/app'] }).enabled).toBe(true);
    expect(warned()).toBe(true);
  });

  it('says nothing without replicas, or outside production', () => {
    make({});
    make({ readUrls: ['postgres://replica/app'], NODE_ENV: NodeEnv.Development });
    expect(warned()).toBe(false);
  });
});
