/**
 * The local stand-in for the digest function's EventBridge schedule: runs the
 * digest handler every `intervalMs`, one run at a time, from the same handler
 * code Lambda runs. Tests that need a digest now call `writeDigest` on the same
 * archive and key; a run that loses the race for a number writes nothing.
 */
export interface DigestSchedule {
  stop(): Promise<void>;
}

export function startDigestSchedule(options: {
  intervalMs: number;
  run: () => Promise<unknown>;
  log: (line: string) => void;
}): DigestSchedule {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = options
      .run()
      .then(
        () => undefined,
        (error: Error) => options.log(`audit digest failed: ${error.message}`),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.intervalMs).unref();
      });
  };
  timer = setTimeout(tick, options.intervalMs).unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
