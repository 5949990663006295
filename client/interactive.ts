// gh-ost's interactive commands (its doc/interactive-commands.md), on --serve-socket-file and
// --serve-tcp-port: one command a connection (`echo throttle | nc -U gh-ost.sock`), answered in
// gh-ost's words and shapes, acting through the workflow's query, signals and updates. Served
// by `revenant migrate` while it follows the migration, and by `revenant serve` for one that
// runs detached. Whatever the command, nothing here touches MySQL: the workflow does.
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import { SETTING_TABLE, settingValueText, type SettingField } from '../model/settings';
import type { MigrationStatus } from '../model/types';
import { UsageError, type ServeOptions } from './flags';
import { reasonOf, sendUpdate } from './updates';
import { settingsLine, statusLine } from '../workflows/status-line';
import { abortUpdate, cutOverSignal, pauseSignal, resumeSignal, setUpdate, statusQuery } from '../model/messages';

const THROTTLE_HINT = '# Note: you may only throttle for as long as your binary logs are not purged';

/** gh-ost's help, its settable commands from the settings' own table (model/settings.ts). */
const HELP = [
  'available commands:',
  'status                               # Print a detailed status message',
  'sup                                  # Print a short status message',
  'coordinates                          # Print the currently inspected coordinates',
  'applier                              # Print the hostname of the applier',
  'inspector                            # Print the hostname of the inspector',
  ...SETTING_TABLE.map((row) => `${`${row.flag}=${row.command.arg}`.padEnd(37)}# ${row.command.does}`),
  'throttle                             # Force throttling',
  'no-throttle                          # End forced throttling (other throttling may still apply)',
  'unpostpone                           # Bail out a cut-over postpone; proceed to cut-over',
  'panic                                # panic and quit without cleanup',
  'help                                 # This message',
  `- use '?' (question mark) as argument to get info rather than set. e.g. "max-load=?" will just print out current max-load.`,
  '',
].join('\n');

/** Settings the workflow's `set` update takes, by their flags. */
const SETTABLE = new Map<string, SettingField>(SETTING_TABLE.map((row) => [row.flag, row.field]));

/** gh-ost commands that cannot change a running revenant migration, with the reason. */
const NOT_WHILE_RUNNING: Record<string, string> = {
  'throttle-control-replicas':
    'revenant reads the replicas to throttle on when the migration starts; restart it with --throttle-control-replicas',
  'replication-lag-query': 'replication-lag-query is deprecated. revenant measures lag with its own heartbeat',
  'postpone-cut-over-flag-file':
    'revenant watches the flag file given at the start (--postpone-cut-over-flag-file); to postpone a running migration, start it with --postpone-cut-over',
  'cpu-profile':
    "revenant's worker is not a Go process: its metrics endpoint (REVENANT_METRICS_ADDRESS) and Node's --cpu-prof serve instead",
};

class CommandError extends Error {}

export class InteractiveServer {
  private readonly servers: Server[] = [];
  private socketFile?: string;
  /** Answers being written: close() waits for them. */
  private readonly answering = new Set<Promise<void>>();

  constructor(
    private readonly handle: WorkflowHandle,
    private readonly table: string,
    private readonly where: { applier: string; inspector: string; ghostTable: string },
    private readonly opts: ServeOptions = {},
  ) {}

  /**
   * Listens on the socket file and/or TCP port. A stale socket file (nobody answering) is
   * replaced; one another process serves is refused, unless --initially-drop-socket-file.
   */
  async listen(): Promise<string[]> {
    const { opts } = this;
    const listening: string[] = [];
    if (opts.socketFile) {
      const taken = await socketFileTaken(opts);
      if (taken) throw new Error(taken);
      if (existsSync(opts.socketFile)) {
        // Only a stale socket is removed: whatever else is at that path is not revenant's to delete.
        if (!lstatSync(opts.socketFile).isSocket()) throw new Error(notASocket(opts.socketFile));
        unlinkSync(opts.socketFile);
      }
      await this.open((s) => s.listen(opts.socketFile));
      this.socketFile = opts.socketFile;
      listening.push(`unix socket ${opts.socketFile}`);
    }
    if (opts.tcpPort) {
      const host = opts.tcpHost ?? '127.0.0.1';
      await this.open((s) => s.listen(opts.tcpPort, host));
      listening.push(`tcp port ${opts.tcpPort} on ${host}`);
    }
    return listening;
  }

  private open(listen: (s: Server) => void): Promise<void> {
    const server = createServer((socket) => this.serve(socket));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve();
      });
      listen(server);
    });
  }

  /** Stops listening; answers under way (a panic's, as the migration ends) are written first. */
  async close(): Promise<void> {
    for (const s of this.servers) s.close();
    await Promise.allSettled([...this.answering]);
    if (this.socketFile && existsSync(this.socketFile) && lstatSync(this.socketFile).isSocket())
      unlinkSync(this.socketFile);
  }

  /** One line in, the answer out, then the connection closes (gh-ost's way). */
  private serve(socket: Socket): void {
    let buffered = '';
    let done = false;
    const answer = (line: string) => {
      if (done) return;
      done = true;
      const written = this.execute(line)
        .catch((e) => `${e instanceof CommandError ? e.message : `error: ${reasonOf(e)}`}\n`)
        .then(
          (out) =>
            new Promise<void>((resolve) => {
              socket.once('close', () => resolve());
              socket.end(out);
            }),
        );
      this.answering.add(written);
      void written.finally(() => this.answering.delete(written));
    };
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buffered += d;
      const nl = buffered.indexOf('\n');
      if (nl >= 0) answer(buffered.slice(0, nl));
    });
    socket.on('end', () => answer(buffered));
    socket.on('error', () => {});
  }

  /** A command's answer, as gh-ost prints it. */
  async execute(line: string): Promise<string> {
    const eq = line.indexOf('=');
    const command = (eq >= 0 ? line.slice(0, eq) : line).trim();
    let arg = eq >= 0 ? line.slice(eq + 1).trim() : '';
    if (/^".*"$/.test(arg)) arg = JSON.parse(arg) as string;
    const question = arg === '?';
    const named = (what: string, mustName = false) => {
      // A courtesy protection, as gh-ost's: a command naming another table is not for us.
      if (!arg && mustName)
        throw new CommandError(
          `user commanded '${what}' without specifying table name, but --force-named-${what === 'panic' ? 'panic' : 'cut-over'} is set`,
        );
      if (arg && arg !== this.table)
        throw new CommandError(
          `user commanded '${what}' on ${arg}, but migrated table is ${this.table}; ignoring request`,
        );
    };
    const setting = SETTABLE.get(command);
    if (setting) {
      if (question) return `${settingValueText((await this.status()).settings, setting)}\n`;
      try {
        await sendUpdate(() => this.handle.executeUpdate(setUpdate, { args: [{ [command]: arg }] }));
      } catch (e) {
        throw new CommandError(reasonOf(e));
      }
      return (
        (command === 'throttle-query' || command === 'throttle-http' ? `${THROTTLE_HINT}\n` : '') +
        this.detailed(await this.status())
      );
    }
    if (NOT_WHILE_RUNNING[command]) throw new CommandError(NOT_WHILE_RUNNING[command]);
    switch (command) {
      case 'help':
        return HELP;
      case 'sup':
        return `${statusLine(await this.status())}\n`;
      case 'info':
      case 'status':
        return this.detailed(await this.status());
      case 'coordinates': {
        if (arg && !question) throw new CommandError('coordinates are read-only');
        const p = (await this.status()).binlogPosition;
        return `${p ? `${p.file}:${p.position}` : 'N/A'}\n`;
      }
      case 'applier':
        return `Host: ${this.where.applier}\n`;
      case 'inspector':
        return `Host: ${this.where.inspector}\n`;
      case 'throttle':
      case 'pause':
      case 'suspend':
        named('throttle');
        await this.handle.signal(pauseSignal);
        return `${THROTTLE_HINT}\n${this.detailed({ ...(await this.status()), throttled: 'commanded by user' })}`;
      case 'no-throttle':
      case 'unthrottle':
      case 'resume':
      case 'continue':
        named('no-throttle');
        await this.handle.signal(resumeSignal);
        return this.detailed(await this.status());
      case 'unpostpone':
      case 'no-postpone':
      case 'cut-over': {
        named('unpostpone', this.opts.namedCutOver);
        if ((await this.status()).phase !== 'postponed')
          return 'You may only invoke this when revenant is actively postponing migration. At this time it is not\n';
        await this.handle.signal(cutOverSignal);
        return `Unpostponed\n${this.detailed(await this.status())}`;
      }
      case 'panic':
        named('panic', this.opts.namedPanic);
        await sendUpdate(() => this.handle.executeUpdate(abortUpdate, { args: [{ cleanup: false }] }));
        throw new CommandError(
          "user commanded 'panic'. The migration will be aborted without cleanup: the ghost table, changelog and checkpoint are kept (--resurrect continues it; or drop them before trying again)",
        );
      default:
        throw new CommandError(`unknown command: ${command}`);
    }
  }

  private status(): Promise<MigrationStatus> {
    return this.handle.query(statusQuery);
  }

  /** gh-ost's `status`: hint lines, then the status line. */
  private detailed(s: MigrationStatus): string {
    return [
      `# Migrating \`${s.database}\`.\`${s.table}\`; Ghost table is \`${s.database}\`.\`${this.where.ghostTable}\``,
      `# Migrating ${this.where.applier}; inspecting ${this.where.inspector}; workflow ${s.workflowId}`,
      `# ALTER: ${s.alter}`,
      `# ${settingsLine(s)}`,
      ...(s.throttled ? [`# Throttled: ${s.throttled}`] : []),
      ...(s.phase === 'postponed'
        ? ['# Cut-over postponed: unpostpone (or revenant cut-over) proceeds to cut-over']
        : []),
      ...(this.socketFile ? [`# Serving on unix socket: ${this.socketFile}`] : []),
      statusLine(s),
      '',
    ].join('\n');
  }
}

/**
 * Before the migration starts: a socket file another process serves (unless
 * --initially-drop-socket-file) or a TCP port taken is refused while nothing has changed yet.
 */
export async function refuseTakenServeTargets(opts: ServeOptions): Promise<void> {
  const taken = await socketFileTaken(opts);
  if (taken) throw new UsageError(taken);
  if (opts.socketFile && existsSync(opts.socketFile) && !lstatSync(opts.socketFile).isSocket())
    throw new UsageError(notASocket(opts.socketFile));
  if (opts.tcpPort) {
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new UsageError(
            `--serve-tcp-port ${opts.tcpPort}: ${e.code === 'EADDRINUSE' ? 'another process listens on it' : e.message}`,
          ),
        ),
      );
      probe.listen(opts.tcpPort, opts.tcpHost ?? '127.0.0.1', () => probe.close(() => resolve()));
    });
  }
}

const notASocket = (path: string) =>
  `--serve-socket-file ${path}: a file that is not a socket is there; revenant does not delete it`;

/** Why the socket file cannot be served: another process answers on it (unless --initially-drop-socket-file). */
async function socketFileTaken(opts: ServeOptions): Promise<string | undefined> {
  if (!opts.socketFile || !existsSync(opts.socketFile) || opts.dropSocketFile || !(await answers(opts.socketFile)))
    return undefined;
  return `--serve-socket-file ${opts.socketFile}: another process serves it (--initially-drop-socket-file takes it over)`;
}

/** Whether a process answers on the socket file. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
