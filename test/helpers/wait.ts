// The one polling helper the tests and benchmarks share: retry a probe until it gives a
// value (or true), keeping the last error for the time-out message. Folders that poll an
// in-memory cache use a short interval; end-to-end tests a longer one.
export type Probe<T> = () => T | undefined | false | null | Promise<T | undefined | false | null>;

export async function waitFor<T>(what: string, probe: Probe<T>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false && v !== null) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr instanceof Error ? lastErr.message : String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until `check` holds. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000, everyMs = 20): Promise<void> {
  await waitFor(what, async () => (await check()) || undefined, timeoutMs, everyMs);
}
