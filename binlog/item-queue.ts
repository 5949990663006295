// The queue between a binlog reader and the applier that takes from it: items in order, a
// failure that the next take throws (the items still queued are not handed over: what the
// applier has not taken is read again from its checkpoint), and a take that waits a while for
// the first item.
export class ItemQueue<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  /** The first failure stays: the later ones are its consequences. */
  fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  /** Takes up to `max` items, waiting at most `waitMs` for the first one. */
  async take(max: number, waitMs: number): Promise<T[]> {
    if (this.failure) throw this.failure;
    if (this.items.length === 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = null;
          resolve();
        }, waitMs);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      if (this.failure) throw this.failure;
    }
    return this.items.splice(0, max);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}
