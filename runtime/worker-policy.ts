// What a worker's operator allows a migration to make the worker do beyond MySQL: run the
// executables of a hooks directory, and ask a throttle URL. A migration names both (gh-ost's
// --hooks-path and --throttle-http), and anyone who can start a workflow names the
// migration: so a standalone worker runs only hooks from directories its environment
// lists, and asks only URLs under prefixes it lists. The embedded CLI's worker serves its
// own command line only, and trusts it.
import { realpathSync } from 'node:fs';
import { isAbsolute, sep } from 'node:path';

export interface WorkerPolicy {
  /** Why this worker refuses to run hooks from `dir`, or null when it may. */
  refusesHooksPath(dir: string): string | null;
  /** Why this worker refuses to ask `url`, or null when it may. */
  refusesThrottleUrl(url: string): string | null;
}

const real = (path: string): string | null => {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
};

/** The absolute directories of a ':'-separated list, resolved (those that do not exist dropped). */
export function allowedDirs(list: string | undefined): string[] {
  return (list ?? '')
    .split(':')
    .filter((d) => isAbsolute(d))
    .map(real)
    .filter((d): d is string => d !== null);
}

/** Whether `path`, resolved (symbolic links followed), lies in one of `dirs`. */
export function isUnder(dirs: string[], path: string): boolean {
  const resolved = isAbsolute(path) ? real(path) : null;
  return resolved !== null && dirs.some((d) => resolved === d || resolved.startsWith(d.endsWith(sep) ? d : d + sep));
}

/**
 * REVENANT_HOOKS_DIRS: directories (':'-separated, absolute) whose hooks, or whose
 * subdirectories' hooks, may run. REVENANT_THROTTLE_HTTP_URLS: URL prefixes
 * (comma-separated) a --throttle-http URL must start with. Unset: none allowed.
 */
export function policyFromEnvironment(env: NodeJS.ProcessEnv = process.env, trusted = false): WorkerPolicy {
  if (trusted) return { refusesHooksPath: () => null, refusesThrottleUrl: () => null };
  const hookDirs = allowedDirs(env.REVENANT_HOOKS_DIRS);
  const urlPrefixes = (env.REVENANT_THROTTLE_HTTP_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  return {
    refusesHooksPath: (dir) => {
      if (isUnder(hookDirs, dir)) return null;
      return `--hooks-path ${dir} is not among the hook directories this worker allows (REVENANT_HOOKS_DIRS: ${hookDirs.join(':') || 'none'})`;
    },
    refusesThrottleUrl: (url) => {
      if (urlPrefixes.some((p) => url.startsWith(p))) return null;
      return `--throttle-http ${url} is not under a URL this worker allows (REVENANT_THROTTLE_HTTP_URLS: ${urlPrefixes.join(', ') || 'none'})`;
    },
  };
}
