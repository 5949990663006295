// A page as a user's browser shows it: headless Chromium (Debian's chromium-headless-shell),
// driven over the DevTools protocol, reads the page's visible text until it contains what is
// awaited (the Temporal Web UI renders in the browser, after its API calls answer).
//   node --experimental-websocket dist/test/browser.js URL NEEDLE [TIMEOUT_MS]
// prints {"found": bool, "text": "…"} and exits 0 (1 when Chromium could not be driven).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './wait';

const [url, needle, timeoutArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg ?? 60_000);
// BROWSER_DEBUG=1: each frame's address too.
const FRAME_SRC = process.env.BROWSER_DEBUG ? "' [' + f.src + ']'" : "''";
const PAGE_TEXT = `[document.body ? document.body.innerText : '',
  ...Array.from(document.querySelectorAll('iframe')).map((f) => { try { return (f.contentDocument?.body?.innerText ?? '') + ${FRAME_SRC}; } catch { return ''; } })].join('\\n')`;

async function main(): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'revenant-chromium-'));
  // One process, no sandbox: a machine without user namespaces or a system bus runs it too.
  const chrome = spawn(
    'chromium-headless-shell',
    [
      '--no-sandbox',
      '--disable-gpu',
      '--no-zygote',
      '--single-process',
      '--disable-dev-shm-usage',
      // A tall window: frames below the fold are loaded too.
      '--window-size=1280,6000',
      // Port 0: Chromium takes one the system gives and writes it to DevToolsActivePort in the
      // profile. A port drawn at random from 29000-29899 once took a worker's fixed metrics
      // port (workers.test, 29464) while the suites of two servers ran side by side.
      '--remote-debugging-port=0',
      '--remote-allow-origins=*',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    // Its own process group: Debian's chromium-headless-shell is a script that runs the browser
    // as its child, and a kill of the script alone left the browser running, orphaned, with the
    // page it had open (two a run of web.test, each taking 3 % of a core until the machine stopped).
    { stdio: 'ignore', detached: true },
  );
  try {
    const deadline = Date.now() + timeoutMs;
    let target: { webSocketDebuggerUrl: string } | undefined;
    while (!target) {
      if (Date.now() > deadline) throw new Error('Chromium did not open its DevTools endpoint');
      try {
        const [port] = readFileSync(join(profile, 'DevToolsActivePort'), 'utf8').split('\n');
        const list = (await (await fetch(`http://127.0.0.1:${Number(port)}/json/list`)).json()) as {
          type: string;
          webSocketDebuggerUrl: string;
        }[];
        target = list.find((t) => t.type === 'page');
      } catch {
        /* not up yet */
      }
      if (!target) await sleep(200);
    }
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((res, rej) => {
      ws.onopen = res;
      ws.onerror = rej;
    });
    let id = 0;
    const pending = new Map<number, (v: any) => void>();
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data));
      if (msg.id !== undefined) pending.get(msg.id)?.(msg);
    };
    const send = (method: string, params: object) =>
      new Promise<any>((res) => {
        pending.set(++id, res);
        ws.send(JSON.stringify({ id, method, params }));
      });
    await send('Page.navigate', { url });
    let text = '';
    while (Date.now() < deadline) {
      await sleep(500);
      // The UI renders summaries and details as markdown in frames of its own origin: their text too.
      const r = await send('Runtime.evaluate', { expression: PAGE_TEXT, returnByValue: true });
      text = String(r.result?.result?.value ?? '');
      if (text.includes(needle)) break;
    }
    process.stdout.write(`${JSON.stringify({ found: text.includes(needle), text })}\n`);
    ws.close();
  } finally {
    // Gone before its profile is: a dying Chromium still writes to it.
    const exited =
      chrome.exitCode !== null || chrome.signalCode !== null
        ? Promise.resolve()
        : new Promise((r) => chrome.once('exit', r));
    try {
      process.kill(-chrome.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await exited;
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      /* a temporary folder */
    }
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`browser: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
