import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves true at the next SIGTERM or SIGINT: lets a start-up wait end as soon as a shutdown is asked for.
 * main.ts handles the shutdown itself; this only ends the wait. `pause(ms)` is one step of a polling wait: true when
 * a signal came first.
 */
export function nextSignal(): { received: Promise<true>; pause(ms: number): Promise<boolean>; dispose(): void } {
  let onSignal!: () => void;
  const received = new Promise<true>((resolve) => (onSignal = () => resolve(true)));
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    received,
    pause: (ms) => Promise.race([received, sleep(ms).then(() => false)]),
    dispose: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
