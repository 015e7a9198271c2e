/**
 * The database pool gauges. Sequelize 6's typings do not declare `connectionManager.pool`; at run time it is a
 * sequelize-pool `Pool` (whose `size`, `available`, `using` and `waiting` getters are public in that package's
 * typings), or, with read replication configured, `{ read, write }` pools, of which the write pool is reported.
 * Read at scrape time only; if a Sequelize upgrade changes the shape, the gauges stay empty instead of failing.
 */
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Sequelize } from 'sequelize-typescript';
import { MetricsService, type PoolStats } from './metrics.service';

function isPool(value: unknown): value is PoolStats {
  return typeof value === 'object' && value !== null && typeof (value as PoolStats).size === 'number' && typeof (value as PoolStats).waiting === 'number';
}

export function poolStats(sequelize: Sequelize): PoolStats | undefined {
  const pool = (sequelize.connectionManager as unknown as { pool?: unknown }).pool;
  if (isPool(pool)) return pool;
  const write = (pool as { write?: unknown } | undefined)?.write;
  return isPool(write) ? write : undefined;
}

@Injectable()
export class PoolMetrics implements OnModuleInit {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.observePool(() => poolStats(this.sequelize));
  }
}
