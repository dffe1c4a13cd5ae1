/**
 * Calls made in one turn of the event loop, handled together: the first call schedules the
 * handling for the next turn, and every call until then joins it. Each caller gets the result the
 * handler gives its item (a promise per item, so a group that finishes early settles early).
 *
 *   const commit = sameTurn(send);  commit(p0@12); commit(p3@40)  (same turn)  ─►  send([p0@12, p3@40])
 *
 * The runtime gathers the partition batches one fetch handed over this way (runtime/gather.ts), and
 * both consumers the offset commits of a combined batch (one OffsetCommit request).
 */
interface Joined<T, R> {
  readonly item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export function sameTurn<T, R>(handle: (items: readonly T[]) => ReadonlyArray<Promise<R>>): (item: T) => Promise<R> {
  let pending: Array<Joined<T, R>> | undefined;
  return (item) =>
    new Promise<R>((resolve, reject) => {
      if (!pending) {
        const joined: Array<Joined<T, R>> = [];
        pending = joined;
        setImmediate(() => {
          pending = undefined;
          let results: ReadonlyArray<Promise<R>>;
          try {
            results = handle(joined.map((j) => j.item));
          } catch (error) {
            for (const j of joined) j.reject(error);
            return;
          }
          joined.forEach((j, i) => (results[i] ?? Promise.reject(new Error('no result for an item'))).then(j.resolve, j.reject));
        });
      }
      pending.push({ item, resolve, reject });
    });
}

/**
 * `sameTurn` for calls answered together: one `send` of every item of the turn, whose outcome is
 * each caller's (the consumers' offset commits: one OffsetCommit request; offsets are cumulative,
 * so re-sending one that landed after a failure is harmless).
 */
export function inOneCall<T>(send: (items: readonly T[]) => Promise<void>): (item: T) => Promise<void> {
  return sameTurn<T, void>((items) => {
    const sent = send(items);
    return items.map(() => sent);
  });
}
