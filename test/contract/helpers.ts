/**
 * Small helpers shared by the contract suites: waiting for a condition with a deadline (never
 * asserting a duration), a manual gate, and a LIFO cleanup stack bound to a test.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { TributaryError } from '../../src/errors.js';
import type { HeaderValue, Headers, TransportAdmin } from '../../src/stream/transport/types.js';

/** A record read back from a topic (headers as text). */
export interface ReadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `condition` until it is true; fails with `what` (and the last detail) once `timeoutMs`
 * has passed. The deadline only bounds the wait: nothing is asserted about how long it took.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; detail?: () => unknown } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) {
      const detail = options.detail ? ` (last state: ${JSON.stringify(await options.detail())})` : '';
      throw new Error(`timed out waiting for: ${what}${detail}`);
    }
    await sleep(options.intervalMs ?? 25);
  }
}

/** Like waitFor, but a timeout is an expected outcome: resolves to whether the condition came true. */
export async function becomesTrue(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() <= deadline) {
    if (await condition()) return true;
    await sleep(25);
  }
  return condition();
}

export interface Gate {
  readonly promise: Promise<void>;
  readonly opened: boolean;
  open(): void;
}

export function gate(): Gate {
  let release!: () => void;
  let opened = false;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    promise,
    get opened() {
      return opened;
    },
    open() {
      opened = true;
      release();
    },
  };
}

/** Registers one `t.after` that runs the pushed cleanups last-in first-out, each even if another failed. */
export function cleanups(t: TestContext): (fn: () => unknown) => void {
  const stack: Array<() => unknown> = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const fn of stack.reverse()) {
      try {
        await fn();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (fn) => void stack.push(fn);
}

export function headerText(value: HeaderValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : value;
}

export function headersAsText(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const text = headerText(v);
    if (text !== undefined) out[k] = text;
  }
  return out;
}

/** Committed offset per partition (-1n when the group has none), as the admin API reports it. */
export async function committedByPartition(admin: TransportAdmin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  for (const o of await admin.committedOffsets(groupId, topic)) out.set(o.partition, BigInt(o.offset));
  return out;
}

export async function endOffsets(admin: TransportAdmin, topic: string): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  for (const o of await admin.topicOffsets(topic)) out.set(o.partition, BigInt(o.high));
  return out;
}

/** True when the group has committed every partition of `topic` up to its end offset. */
export async function committedToEnd(admin: TransportAdmin, groupId: string, topic: string): Promise<boolean> {
  const [committed, ends] = await Promise.all([committedByPartition(admin, groupId, topic), endOffsets(admin, topic)]);
  for (const [partition, end] of ends) {
    if (end === 0n) continue;
    if ((committed.get(partition) ?? -1n) !== end) return false;
  }
  return true;
}

export async function offsetsSnapshot(admin: TransportAdmin, groupId: string, topic: string): Promise<{ committed: Record<number, string>; end: Record<number, string> }> {
  const [committed, ends] = await Promise.all([committedByPartition(admin, groupId, topic), endOffsets(admin, topic)]);
  return {
    committed: Object.fromEntries([...committed].map(([p, o]) => [p, o.toString()])),
    end: Object.fromEntries([...ends].map(([p, o]) => [p, o.toString()])),
  };
}

/** The TributaryError a call fails with (an assertion error when it succeeds or fails otherwise). */
export async function failure(promise: Promise<unknown>): Promise<TributaryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TributaryError, `expected a TributaryError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}
