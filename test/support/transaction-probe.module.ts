/**
 * Test-only routes under /api/v1/test-tx, registered with `createTestApp({ imports: [TransactionProbeModule] })`.
 * They write and then fail, nest transactions, report which transaction and connection they ran on, and meet
 * at barriers so that deadlocks and serialization failures happen on purpose rather than by chance. They reach the
 * database directly, as a repository would, so each begins the pending request transaction first.
 */
import {
  Body,
  Controller,
  Get,
  HttpCode,
  ImATeapotException,
  Injectable,
  Module,
  Post,
} from '@nestjs/common';
import { InjectModel, SequelizeModule } from '@nestjs/sequelize';
import { QueryTypes } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { beginPendingTransaction, currentTransaction, inTransaction } from '../../src/common/database/transaction-context';
import { TransactionalRoutes } from '../../src/common/interceptors/transactional-routes.decorator';
import { Transactional } from '../../src/common/interceptors/transactional.decorator';
import { User } from '../../src/users/models/user.model';

/** Named meeting points: each `arrive` resolves once `parties` callers have arrived, or rejects after a timeout. */
@Injectable()
export class Barriers {
  private readonly points = new Map<string, { arrived: number; open: () => void; opened: Promise<void> }>();

  async arrive(name: string, parties: number, timeoutMs = 10_000): Promise<void> {
    let point = this.points.get(name);
    if (!point) {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      point = { arrived: 0, open, opened };
      this.points.set(name, point);
    }
    point.arrived += 1;
    if (point.arrived >= parties) point.open();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`barrier ${name}: ${point.arrived}/${parties} after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([point.opened, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface Probe {
  /** Sequelize's transaction id: the same for a savepoint as for its outer transaction. */
  transactionId: string | null;
  /** Differs from the id for a savepoint (`<id>-sp-<n>`). */
  transactionName: string | null;
  isolation: string;
  pid: number;
}

// Fixed statements: the SQLSTATE is chosen from this list, never interpolated.
const RAISE: Record<string, string> = {
  '40001': `DO $$ BEGIN RAISE EXCEPTION 'test serialization failure' USING ERRCODE = '40001'; END $$`,
  '40P01': `DO $$ BEGIN RAISE EXCEPTION 'test deadlock' USING ERRCODE = '40P01'; END $$`,
};

@TransactionalRoutes()
@Controller({ path: 'test-tx', version: '1' })
export class TransactionProbeController {
  constructor(
    private readonly sequelize: Sequelize,
    @InjectModel(User) private readonly users: typeof User,
    private readonly barriers: Barriers,
  ) {}

  private async probe(): Promise<Probe> {
    await beginPendingTransaction();
    const [row] = await this.sequelize.query<{ isolation: string; pid: number }>(
      'SELECT current_setting($1) AS isolation, pg_backend_pid() AS pid',
      { bind: ['transaction_isolation'], type: QueryTypes.SELECT },
    );
    const transaction = currentTransaction() as unknown as { id: string; name: string } | undefined;
    return { transactionId: transaction?.id ?? null, transactionName: transaction?.name ?? null, isolation: row.isolation, pid: row.pid };
  }

  @Get('probe')
  probeGet(): Promise<Probe> {
    return this.probe();
  }

  @Get('probe-forced')
  @Transactional()
  probeForced(): Promise<Probe> {
    return this.probe();
  }

  @Post('probe')
  @HttpCode(200)
  probePost(): Promise<Probe> {
    return this.probe();
  }

  @Post('probe-opted-out')
  @HttpCode(200)
  @Transactional(false)
  probeOptedOut(): Promise<Probe> {
    return this.probe();
  }

  @Post('probe-repeatable-read')
  @HttpCode(200)
  @Transactional({ isolationLevel: 'REPEATABLE READ' })
  probeRepeatableRead(): Promise<Probe> {
    return this.probe();
  }

  /** Writes a user (optionally inside a nested transaction), then fails the way `failWith` says. */
  @Post('write-then-fail')
  async writeThenFail(@Body() body: { email: string; failWith: 'http' | 'error' | 'unique'; nested?: boolean }): Promise<never> {
    await beginPendingTransaction();
    const write = () => this.users.create({ name: 'Doomed', email: body.email });
    if (body.nested) await inTransaction(this.sequelize, write);
    else await write();
    if (body.failWith === 'http') throw new ImATeapotException('failed after the write');
    if (body.failWith === 'unique') await this.users.create({ name: 'Duplicate', email: body.email });
    throw new Error('failed after the write');
  }

  /**
   * Outer write, a nested managed transaction (optionally failing, the failure caught), then another outer write.
   * `sleepMs` holds the request's connection a while, to load the pool.
   */
  @Post('nested')
  async nested(@Body() body: { email: string; failInner?: boolean; sleepMs?: number }) {
    await beginPendingTransaction();
    const outer = await this.probe();
    await this.users.create({ name: 'Outer', email: `outer-${body.email}` });
    if (body.sleepMs) await this.sequelize.query('SELECT pg_sleep($1)', { bind: [Math.min(body.sleepMs, 1000) / 1000] });
    let inner: Probe | undefined;
    try {
      await inTransaction(this.sequelize, async () => {
        inner = await this.probe();
        await this.users.create({ name: 'Inner', email: `inner-${body.email}` });
        if (body.failInner) throw new Error('inner failure');
      });
    } catch (error) {
      if (!body.failInner) throw error;
    }
    await this.users.create({ name: 'After', email: `after-${body.email}` });
    return { outer, inner };
  }

  /** Catches the unique violation of its second write and returns normally: the aborted transaction must not pass for a success. */
  @Post('swallow')
  async swallow(@Body() body: { email: string; viaSavepoint?: boolean }): Promise<{ swallowed: true }> {
    await beginPendingTransaction();
    await this.users.create({ name: 'First', email: body.email });
    const duplicate = () => this.users.create({ name: 'Second', email: body.email });
    try {
      if (body.viaSavepoint) await inTransaction(this.sequelize, duplicate);
      else await duplicate();
    } catch {
      // deliberately ignored
    }
    return { swallowed: true };
  }

  /** Locks `first`, waits for the other party at `barrier`, then locks `second`. */
  @Post('lock-pair')
  @HttpCode(200)
  async lockPair(@Body() body: { first: number; second: number; barrier: string }): Promise<{ ok: true }> {
    await beginPendingTransaction();
    const lock = (id: number) => this.sequelize.query('UPDATE users SET name = name WHERE id = $1', { bind: [id] });
    await lock(body.first);
    await this.barriers.arrive(body.barrier, 2);
    await lock(body.second);
    return { ok: true };
  }

  /** Classic write skew: read a predicate, wait for the other party, insert into that predicate. */
  @Post('write-skew')
  async writeSkew(@Body() body: { email: string; barrier: string }): Promise<{ admins: number }> {
    await beginPendingTransaction();
    const [row] = await this.sequelize.query<{ admins: number }>(`SELECT count(*)::int AS admins FROM users WHERE role = 'admin'`, {
      type: QueryTypes.SELECT,
    });
    await this.barriers.arrive(body.barrier, 2);
    await this.users.create({ name: 'Admin', email: body.email, role: 'admin' });
    return row;
  }

  @Post('raise')
  async raise(@Body() body: { sqlstate: string }): Promise<never> {
    await beginPendingTransaction();
    await this.sequelize.query(RAISE[body.sqlstate] ?? 'SELECT 1');
    throw new Error(`unexpected SQLSTATE ${body.sqlstate}`);
  }
}

@Module({
  imports: [SequelizeModule.forFeature([User])],
  controllers: [TransactionProbeController],
  providers: [Barriers],
})
export class TransactionProbeModule {}
