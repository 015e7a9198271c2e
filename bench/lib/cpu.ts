/**
 * CPU accounting for one load run (Linux /proc): how much of the machine went to the run itself (the
 * harness with autocannon, the server under test, its PostgreSQL backends) and how much to anything
 * else. On a shared 2-core machine the "other" share is the noise a reader needs to see.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function busyTicks(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  void idle;
  void iowait;
  return user + nice + system + irq + softirq + (steal ?? 0);
}

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return 0; // gone (e.g. a backend that disconnected)
  }
}

function harnessTicks(): number {
  const usage = process.cpuUsage();
  return ((usage.user + usage.system) / 1e6) * TICKS_PER_SECOND;
}

export interface CpuUse {
  /** Cores, averaged over the run. */
  server: number;
  database: number;
  harness: number;
  /** A load balancer in front of the servers (the scaling run); 0 without one. */
  balancer: number;
  other: number;
}

/**
 * Call with the server processes (one, or every instance of a scaled run), any balancer, and the database backends
 * connected at the start; the returned function takes those connected at the end: a backend that appeared in between
 * (a pool reconnecting after its idle timeout) started during the run, so all of its CPU time belongs to it.
 */
export function startCpuMeter(serverPids: number[], databasePids: number[], balancerPids: number[] = []): (databasePidsAtEnd: number[]) => CpuUse {
  const started = process.hrtime.bigint();
  const sum = (pids: number[]) => pids.reduce((total, pid) => total + processTicks(pid), 0);
  const before = { busy: busyTicks(), server: sum(serverPids), balancer: sum(balancerPids), harness: harnessTicks(), db: new Map(databasePids.map((pid) => [pid, processTicks(pid)])) };
  return (databasePidsAtEnd) => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const busy = busyTicks() - before.busy;
    const server = sum(serverPids) - before.server;
    const balancer = sum(balancerPids) - before.balancer;
    const harness = harnessTicks() - before.harness;
    let database = 0;
    for (const pid of new Set([...before.db.keys(), ...databasePidsAtEnd])) database += Math.max(0, processTicks(pid) - (before.db.get(pid) ?? 0));
    const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
    return {
      server: cores(server),
      database: cores(database),
      harness: cores(harness),
      balancer: cores(balancer),
      other: cores(Math.max(0, busy - server - balancer - harness - database)),
    };
  };
}
