/**
 * Resolves true at the next SIGTERM or SIGINT: lets a start-up wait end as soon as a shutdown is asked for.
 * main.ts handles the shutdown itself; this only ends the wait.
 */
export function nextSignal(): { received: Promise<true>; dispose(): void } {
  let onSignal!: () => void;
  const received = new Promise<true>((resolve) => (onSignal = () => resolve(true)));
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    received,
    dispose: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
