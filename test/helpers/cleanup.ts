// Teardown in reverse order of set-up (node:test runs t.after hooks first-registered-first), so a
// server is never stopped before the clients that talk to it.
export function cleanupStack(t: { after: (fn: () => Promise<void>) => void }): (fn: () => unknown) => void {
  const fns: Array<() => unknown> = [];
  t.after(async () => {
    for (const fn of fns.reverse()) {
      try {
        await fn();
      } catch {
        // best effort: the next cleanup still runs
      }
    }
  });
  return (fn) => {
    fns.push(fn);
  };
}
