/**
 * Calls made in one turn of the event loop, sent as one: the runtime hands back the offsets of a
 * batch that combined several partitions at once, and one OffsetCommit request for all of them
 * costs the broker one request instead of one per partition. Every caller's promise settles with
 * the shared call (a failure fails every offset in it; offsets are cumulative, so re-sending one
 * that did land is harmless).
 *
 *   commit(p0@12), commit(p3@40), commit(p5@7)  (same turn)  ─►  send([p0@12, p3@40, p5@7])
 */
export function coalesced<T>(send: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  let pending: { items: T[]; done: Promise<void> } | undefined;
  return (item) => {
    if (!pending) {
      const items: T[] = [];
      const done = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          pending = undefined;
          send(items).then(resolve, reject);
        });
      });
      pending = { items, done };
    }
    pending.items.push(item);
    return pending.done;
  };
}
