/**
 * Times every SQL statement through Sequelize's public `beforeQuery`/`afterQuery` instance hooks (declared in
 * sequelize/types/hooks.d.ts): the duration histogram by statement kind, and a `slow query` warning above
 * SLOW_QUERY_MS. The hooks bracket the round trip itself (after a pool connection is acquired) and run for failed
 * statements too. The statement's text is read for its first word only; neither it nor its bound parameters are
 * logged here.
 *
 * Why not `benchmark: true` + `logging(sql, ms)`: it turns the development SQL log's `Executing (…): …` lines into
 * `Executed (…): …` lines written after the statement, and skips statements that fail. The hooks change nothing
 * else, and need no change to the database module's options.
 */
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { performance } from 'node:perf_hooks';
import { Sequelize } from 'sequelize-typescript';
import type { Environment } from '../config/environment';
import { MetricsService, type QueryKind } from './metrics.service';
import { currentRequestId } from './request-context';

const FIRST_WORD = /^\s*\(?\s*([A-Za-z]+)/;

const KIND_BY_WORD: Record<string, QueryKind> = {
  SELECT: 'SELECT',
  INSERT: 'INSERT',
  UPDATE: 'UPDATE',
  DELETE: 'DELETE',
  BEGIN: 'BEGIN',
  // Sequelize opens a transaction with START TRANSACTION.
  START: 'BEGIN',
  COMMIT: 'COMMIT',
  ROLLBACK: 'ROLLBACK',
};

export function queryKind(sql: string | undefined): QueryKind {
  const word = sql === undefined ? undefined : FIRST_WORD.exec(sql)?.[1]?.toUpperCase();
  return (word && KIND_BY_WORD[word]) || 'OTHER';
}

@Injectable()
export class QueryObserver implements OnModuleInit {
  private readonly logger = new Logger('SlowQuery');
  private readonly slowQueryMs: number;
  /** When each statement in flight started, by its Sequelize Query object. */
  private readonly started = new WeakMap<object, number>();

  constructor(
    private readonly sequelize: Sequelize,
    private readonly metrics: MetricsService,
    config: ConfigService<Environment, true>,
  ) {
    this.slowQueryMs = config.get('SLOW_QUERY_MS', { infer: true });
  }

  /** With neither metrics nor the slow-query log on, no hook is added: statements pay nothing. */
  onModuleInit(): void {
    if (!this.metrics.enabled && this.slowQueryMs === 0) return;
    this.sequelize.addHook('beforeQuery', 'observability', (_options, query) => {
      this.started.set(query, performance.now());
    });
    this.sequelize.addHook('afterQuery', 'observability', (_options, query) => {
      const start = this.started.get(query);
      if (start === undefined) return;
      this.started.delete(query);
      // `sql` is set on the Query by run(); Sequelize's typings leave it out.
      this.completed((query as unknown as { sql?: string }).sql, performance.now() - start);
    });
  }

  completed(sql: string | undefined, ms: number): void {
    const kind = queryKind(sql);
    this.metrics.queryCompleted(kind, ms / 1000);
    if (this.slowQueryMs > 0 && ms > this.slowQueryMs) {
      this.logger.warn({ msg: 'slow query', kind, ms: Math.round(ms), reqId: currentRequestId() });
    }
  }
}
