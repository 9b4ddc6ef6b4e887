/** Polling helpers with explicit failure messages (never bare sleeps in assertions). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
