// Failpoints: named pauses the tests set (REVENANT_FAILPOINTS="name=ms,…" in a worker's
// environment) to hold an activity at a moment too brief to hit by chance, and kill the worker
// there. Unset, as in production, each is one lookup and nothing more.
import { sleep } from './sleep';

const pauses = new Map(
  (process.env.REVENANT_FAILPOINTS ?? '')
    .split(',')
    .map((p) => p.trim().split('='))
    .filter(([name, ms]) => name && Number(ms) > 0)
    .map(([name, ms]) => [name, Number(ms)] as const),
);

/** Pauses here as long as REVENANT_FAILPOINTS says for `name`; at once when it says nothing. */
export async function failpoint(name: string): Promise<void> {
  const ms = pauses.get(name);
  if (!ms) return;
  // On the worker's stderr: the test that set it kills the worker once it reads this line.
  console.error(`failpoint ${name}: holding ${ms} ms`);
  await sleep(ms);
}
