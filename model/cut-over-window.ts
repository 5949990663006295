// Cut-over windows (--cut-over-window "Mon-Fri 02:00-04:00 Europe/Berlin", repeatable): when a
// migration may swap its tables. Outside every window a ready migration waits postponed,
// applying the binlog, and cuts over when the next one opens; a cut-over attempt begins only
// inside a window, so one that cannot finish before the window closes waits for the next.
//
// Pure and deterministic, for the workflow computes its timer from it: `now` is the
// workflow's clock, and time zones come from the runtime's own tz data (Intl).

export interface CutOverWindow {
  /** As the user wrote it, for messages. */
  text: string;
  /** Which weekdays the window opens on, Sunday first (Date's getUTCDay order). */
  days: boolean[];
  /** Seconds after local midnight. */
  opens: number;
  /** Seconds after local midnight; at or before `opens`: the window closes the next day. */
  closes: number;
  timeZone: string;
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAY_MS = 86_400_000;
export const WINDOW_FORMAT =
  '[days] HH:MM-HH:MM [time zone], e.g. "Mon-Fri 02:00-04:00 Europe/Berlin" (days: Mon..Sun, ranges and lists, or daily; seconds allowed as HH:MM:SS; zone: an IANA name, default UTC)';

export class WindowRefused extends Error {}

function timeOfDay(text: string, what: string, whole: string): number {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  const [h, min, s] = m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [NaN, NaN, NaN];
  if (!m || h > 24 || min > 59 || s > 59 || (h === 24 && (min > 0 || s > 0)))
    throw new WindowRefused(`cut-over window "${whole}": ${what} "${text}" is not a time of day (HH:MM)`);
  return h * 3600 + min * 60 + s;
}

function weekdays(text: string, whole: string): boolean[] {
  const days = new Array<boolean>(7).fill(false);
  if (/^(daily|every ?day|\*)$/i.test(text)) return days.fill(true);
  for (const part of text.split(',')) {
    const [from, to] = part.split('-').map((d) => WEEKDAYS.indexOf(d.trim().slice(0, 3).toLowerCase()));
    const valid = (d: number | undefined) => d !== undefined && d >= 0;
    if (!valid(from) || (part.includes('-') && !valid(to)))
      throw new WindowRefused(`cut-over window "${whole}": "${part}" is not a day or a range of days (Mon..Sun)`);
    for (let d = from; ; d = (d + 1) % 7) {
      days[d] = true;
      if (to === undefined || d === to) break;
    }
  }
  return days;
}

function checkedTimeZone(zone: string, whole: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    throw new WindowRefused(
      `cut-over window "${whole}": "${zone}" is not a time zone (an IANA name: Europe/Berlin, UTC)`,
    );
  }
}

/** Reads one window; a specific WindowRefused for anything else. */
export function parseCutOverWindow(text: string): CutOverWindow {
  const words = text.trim().split(/\s+/);
  const at = words.findIndex((w) => /^\d{1,2}:\d{2}(:\d{2})?-\d{1,2}:\d{2}(:\d{2})?$/.test(w));
  if (at < 0 || at > 1 || words.length > at + 2 || text.trim() === '')
    throw new WindowRefused(`cut-over window "${text}" is not ${WINDOW_FORMAT}`);
  const [from, to] = words[at].split('-');
  const opens = timeOfDay(from, 'its start', text);
  const closes = timeOfDay(to, 'its end', text);
  if (opens === closes) throw new WindowRefused(`cut-over window "${text}" opens and closes at the same time`);
  return {
    text,
    days: at === 1 ? weekdays(words[0], text) : new Array<boolean>(7).fill(true),
    opens,
    closes,
    timeZone: checkedTimeZone(words[at + 1] ?? 'UTC', text),
  };
}

/** The problem with a window's text, or undefined (for the input's check). */
export function windowProblem(text: string): string | undefined {
  try {
    parseCutOverWindow(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of `zone` at `ms`, read as if it were UTC (so its difference from `ms` is the zone's offset). */
function wallClockAsUtc(ms: number, zone: string): number {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

/** The instant at which `zone`'s clocks show `wall` (a wall clock read as UTC); in a DST gap, just after it. */
function instantOf(wall: number, zone: string): number {
  let guess = wall - (wallClockAsUtc(wall, zone) - wall);
  guess = wall - (wallClockAsUtc(guess, zone) - guess);
  return guess;
}

export type WindowState =
  | { inside: true; closesAt: number; window: string }
  | { inside: false; opensAt: number; closesAt: number; window: string };

/** Whether `now` is inside one of the windows (until when), or when the next one opens. */
export function windowState(now: number, windows: CutOverWindow[]): WindowState {
  let inside: { closesAt: number; window: string } | undefined;
  let next: { opensAt: number; closesAt: number; window: string } | undefined;
  for (const w of windows) {
    const today = Math.floor(wallClockAsUtc(now, w.timeZone) / DAY_MS) * DAY_MS;
    // Yesterday's window may still be open (it closes after midnight); a week ahead always holds the next.
    for (let day = -1; day <= 8; day++) {
      const midnight = today + day * DAY_MS;
      if (!w.days[new Date(midnight).getUTCDay()]) continue;
      const opensAt = instantOf(midnight + w.opens * 1000, w.timeZone);
      const closesAt = instantOf(midnight + (w.closes > w.opens ? 0 : DAY_MS) + w.closes * 1000, w.timeZone);
      if (opensAt <= now && now < closesAt) {
        if (!inside || closesAt > inside.closesAt) inside = { closesAt, window: w.text };
      } else if (opensAt > now && (!next || opensAt < next.opensAt)) {
        next = { opensAt, closesAt, window: w.text };
      }
    }
  }
  if (inside) return { inside: true, ...inside };
  if (!next) throw new Error('internal: no cut-over window opens within a week');
  return { inside: false, ...next };
}
