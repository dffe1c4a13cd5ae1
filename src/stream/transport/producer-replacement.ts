/**
 * How a transport's idempotent producers are shared by the lanes of a stream, and why a producer
 * whose send failed is never used again — the rule both Kafka clients' transports follow, written
 * once so it can be tested without a broker (test/unit/producer-replacement.test.ts).
 *
 * Why: an idempotent producer numbers each partition's batches (a sequence per producer id), and
 * the broker drops a batch whose numbers it has already written as a duplicate, answering success.
 * Both clients reuse a failed request's numbers (@platformatic/kafka advances a partition's sequence
 * only when the answer comes; kafkajs takes them back). A batch the broker wrote while its answer
 * was lost (a request timed out during a failover, the ISR shrinking) therefore leaves the producer
 * one batch behind the broker, and its next batch of the same size to that partition is dropped
 * while answered as written: records lost with no error (seen in the three-broker fault scenario,
 * test/faults/three-brokers.test.ts). A new producer has a new producer id and starts from sequence 0;
 * the failed send's records are retried through it by the lane (at least once, never lost).
 *
 *   send ok      → the producer is used again
 *   send failed  → that producer is closed; the next send gets a new one
 *   broker lost the producer's state → the idle ones are closed too (the broker forgot them as well)
 */

/** What both kinds of sharing need to know about the client's producers. */
export interface ProducerLifecycle<P> {
  /** A new connected producer (new producer id). */
  open(): P | Promise<P>;
  /** Closes a replaced producer; a failure to close is ignored (it is not used again either way). */
  close(producer: P): Promise<void>;
  /** Whether a send's error says the broker lost the producer's idempotence state (then told to `onStateLost`). */
  stateLost(error: unknown): boolean;
  onStateLost?(error: unknown): void;
}

export interface SharedProducers<P> {
  /** Runs one send on a producer; when it throws, that producer is replaced and the error rethrown. */
  use<T>(send: (producer: P) => Promise<T>): Promise<T>;
  /** Closes every producer still open (a send still running fails on its own). */
  closeAll(): Promise<void>;
}

/**
 * Up to `max` producers, each doing one send at a time (for @platformatic/kafka, whose producer reads
 * a partition's sequence when a send starts: two concurrent sends of one producer to one partition
 * would carry the same numbers). A send takes a free producer, opens a new one while fewer than
 * `max` exist, or waits for the next to finish; sends of different lanes overlap, and a lane's own
 * sends stay in order (it sends again only after its last send ended).
 */
export function exclusiveProducers<P>(lifecycle: ProducerLifecycle<P>, max: number): SharedProducers<P> {
  const idle: P[] = [];
  const waiting: Array<{ resolve: (producer: P) => void; reject: (error: unknown) => void }> = [];
  const open = new Set<P>();
  // Producers being opened count towards `max` (open() may be asynchronous).
  let opening = 0;
  const opened = async (): Promise<P> => {
    opening++;
    try {
      const producer = await lifecycle.open();
      open.add(producer);
      return producer;
    } finally {
      opening--;
    }
  };
  const retire = (producer: P) => {
    open.delete(producer);
    void lifecycle.close(producer).catch(() => undefined);
  };
  const acquire = (): Promise<P> => {
    const free = idle.pop();
    if (free !== undefined) return Promise.resolve(free);
    if (open.size + opening < max) return opened();
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
  const release = (producer: P) => {
    const next = waiting.shift();
    if (next) next.resolve(producer);
    else idle.push(producer);
  };
  return {
    async use(send) {
      const using = await acquire();
      try {
        const result = await send(using);
        release(using);
        return result;
      } catch (error) {
        retire(using);
        if (lifecycle.stateLost(error)) {
          lifecycle.onStateLost?.(error);
          // What made the broker forget this producer (a restart, a rollback of its state) made it
          // forget the idle ones too: replaced now, not at their next send, which would fail after
          // the fault has passed and publish that send's records a second time.
          for (const stale of idle.splice(0)) retire(stale);
        }
        // A send waiting for a producer gets a new one (a failed open fails that send, not this one).
        const next = waiting.shift();
        if (next) opened().then(next.resolve, next.reject);
        throw error;
      }
    },
    async closeAll() {
      const all = [...open];
      open.clear();
      idle.length = 0;
      await Promise.all(all.map((p) => lifecycle.close(p)));
    },
  };
}

/**
 * One producer shared by every lane at once (for kafkajs, whose producer numbers concurrent sends
 * itself), replaced once — by whichever send saw the failure first — when a send failed; the next
 * send opens the new one. Sends of other lanes still on the old one fail and are retried by them.
 * A failed open fails that send and is tried again by the next.
 */
export function sharedProducer<P>(lifecycle: ProducerLifecycle<P>, first?: P): SharedProducers<P> {
  let current: Promise<P> | undefined = first === undefined ? undefined : Promise.resolve(first);
  const acquire = (): Promise<P> => {
    if (current) return current;
    const opening = Promise.resolve(lifecycle.open());
    current = opening;
    opening.catch(() => {
      if (current === opening) current = undefined;
    });
    return opening;
  };
  return {
    async use(send) {
      const held = acquire();
      const using = await held;
      try {
        return await send(using);
      } catch (error) {
        if (current === held) {
          if (lifecycle.stateLost(error)) lifecycle.onStateLost?.(error);
          current = undefined;
          await lifecycle.close(using).catch(() => undefined);
        }
        throw error;
      }
    },
    async closeAll() {
      const last = current;
      current = undefined;
      const producer = await last?.catch(() => undefined);
      if (producer !== undefined) await lifecycle.close(producer);
    },
  };
}
