/**
 * A benchmark process's lifecycle: everything it starts (database, servers, balancer) is registered here and torn
 * down once, in reverse order, on success, failure, signal or time limit. Each step is bounded, so a server that will
 * not stop cannot hold the harness.
 */
const STEP_LIMIT_MS = 30_000;

export class Lifecycle {
  private readonly steps: Array<() => Promise<unknown>> = [];
  private cleaning: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly log: (message: string) => void,
  ) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        log(`${signal}: stopping servers and removing the bench database`);
        void this.cleanup().finally(() => process.exit(130));
      });
    }
  }

  /** Registers a teardown step; the returned function unregisters it (for a step the caller ran itself). */
  add(step: () => Promise<unknown>): () => void {
    this.steps.push(step);
    return () => {
      const at = this.steps.indexOf(step);
      if (at >= 0) this.steps.splice(at, 1);
    };
  }

  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const step of this.steps.reverse()) {
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise((resolve) => (timer = setTimeout(resolve, STEP_LIMIT_MS)));
        await Promise.race([step().catch((error: Error) => this.log(`cleanup: ${error.message}`)), bound]);
        clearTimeout(timer);
      }
    })();
    return this.cleaning;
  }

  /** Aborts the run (exit 2) after `ms`, cleaning up first. */
  limit(ms: number): void {
    setTimeout(() => {
      console.error(`[${this.name}] time limit of ${ms / 60_000} min reached: aborting`);
      void this.cleanup().finally(() => process.exit(2));
    }, ms).unref();
  }

  /** Runs `main`, cleans up, and exits with its code (1 when it throws). */
  run(main: () => Promise<number>): void {
    main()
      .then(async (code) => {
        await this.cleanup();
        process.exit(code);
      })
      .catch(async (error: unknown) => {
        console.error(`[${this.name}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        await this.cleanup();
        process.exit(1);
      });
  }
}
