/**
 * A plain RxJS operator (not built on defineOperator) run under the stream's error policy, so a
 * `map` from 'rxjs' that throws behaves like Tributary's `map`: the record goes to the policy and
 * the stream goes on. The batch's records are pushed into the operator one at a time and its output
 * is held until it completes:
 *
 *   - a throw while a record is pushed in (a throwing map, filter, tap, scan accumulator) names that
 *     record: it goes to the policy (TRB_PROCESS), the output so far is dropped, and the operator
 *     runs again, from a fresh subscription, over the batch without the records that failed — the
 *     output is what the operator gives for the batch without them (side effects before the
 *     failure run again, as on any retried batch);
 *   - an error raised later (a rejected promise inside mergeMap, an error at completion) names no
 *     record: every record of the batch that entered the operator goes to the policy, and the
 *     operator produces nothing for this batch;
 *   - a retriable or setup error (failsTheBatch) fails the batch as a whole, as anywhere else; and
 *     so does any error when the operator's input is not records (their origin is unknown).
 *
 *   records a, b!, c  --rxjs map(f) where f(b) throws-->  f(a), f(c)     ~~> b dead-lettered
 */
import { mergeMap, Observable, Subject, toArray, type OperatorFunction } from 'rxjs';
import { failsTheBatch } from '../../errors.js';
import type { OperatorContext } from '../operators/define.js';
import { ORIGIN, type AnyRecord } from '../record.js';

type Outcome = { readonly ok: true; readonly output: unknown[] } | { readonly ok: false; readonly error: unknown; readonly failed?: number };

export function underPolicy(op: OperatorFunction<unknown, unknown>, context: OperatorContext): OperatorFunction<unknown, unknown> {
  return (source) =>
    source.pipe(
      toArray(),
      mergeMap((inputs) => runUnderPolicy(op, inputs, context)),
      mergeMap((output) => output),
    );
}

async function runUnderPolicy(op: OperatorFunction<unknown, unknown>, inputs: readonly unknown[], context: OperatorContext): Promise<unknown[]> {
  const left = new Set(inputs.keys());
  for (;;) {
    const outcome = await runOnce(op, inputs, left);
    if (outcome.ok) return outcome.output;
    const { error } = outcome;
    if (failsTheBatch(error) || !inputs.every(isRecord)) throw error;
    if (outcome.failed !== undefined) {
      context.reject(inputs[outcome.failed] as AnyRecord, error, 'TRB_PROCESS');
      left.delete(outcome.failed);
      continue;
    }
    for (const i of left) context.reject(inputs[i] as AnyRecord, error, 'TRB_PROCESS');
    return [];
  }
}

/** One subscription of the operator over the inputs still in the batch; says which input was being pushed when it failed. */
function runOnce(op: OperatorFunction<unknown, unknown>, inputs: readonly unknown[], left: ReadonlySet<number>): Promise<Outcome> {
  return new Promise((resolve) => {
    const subject = new Subject<unknown>();
    const output: unknown[] = [];
    let pushing: number | undefined;
    let settled = false;
    const settle = (outcome: Outcome) => {
      settled = true;
      resolve(outcome);
    };
    const subscription = new Observable<unknown>((subscriber) => op(subject).subscribe(subscriber)).subscribe({
      next: (value) => output.push(value),
      error: (error: unknown) => settle(pushing === undefined ? { ok: false, error } : { ok: false, error, failed: pushing }),
      complete: () => settle({ ok: true, output }),
    });
    for (const i of left) {
      if (settled) break;
      pushing = i;
      subject.next(inputs[i]);
      pushing = undefined;
    }
    if (!settled) subject.complete();
    if (settled) subscription.unsubscribe(); // an asynchronous operator settles later, and its subscription ends then
  });
}

function isRecord(value: unknown): value is AnyRecord {
  return typeof value === 'object' && value !== null && ORIGIN in value;
}
