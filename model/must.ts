// What the engine's own bookkeeping guarantees (a key column in the plan's columns, a column
// the inspector read): stated once, with a message that names what broke if it ever does.
export function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`internal: ${what} is missing`);
  return value;
}
