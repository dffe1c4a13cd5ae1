/**
 * A handle on the end of a stream's operator graph. Each handle is used once: `pipe()` appends
 * operators and returns the handle to pipe on, `split()` routes the records into named branches,
 * `merge()` joins branches of the same stream back into one. Records of one batch flow through the
 * whole graph together, so a split never breaks offset tracking: the batch commits once every
 * branch has finished with it.
 *
 *   const { big, rest } = t.stream('shop.orders', serdes).split({ big: (r) => r.value.total >= 100 });
 *   big.pipe(toTopic('shop.big-orders', { value: json() }));
 *   rest.pipe(mapValues(shrink)).merge(big.pipe(...))      // (a handle is used once: keep the one pipe() returned)
 */
import type { OperatorFunction } from 'rxjs';
import { TributaryError } from '../errors.js';
import { checkOperators } from './declaration-checks.js';
import type { PipelineSegment, StreamDefinition } from './definition.js';

type Op<A, B> = OperatorFunction<A, B>;

export type Branches<R, B extends Record<string, (record: R) => boolean>> = { readonly [K in keyof B | 'rest']: Stream<R> };

export class Stream<R> {
  #used = false;
  constructor(
    private readonly definition: StreamDefinition,
    private readonly segment: PipelineSegment,
  ) {}

  pipe(): Stream<R>;
  pipe<A>(op1: Op<R, A>): Stream<A>;
  pipe<A, B>(op1: Op<R, A>, op2: Op<A, B>): Stream<B>;
  pipe<A, B, C>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>): Stream<C>;
  pipe<A, B, C, D>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>): Stream<D>;
  pipe<A, B, C, D, E>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>, op5: Op<D, E>): Stream<E>;
  pipe<A, B, C, D, E, F>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>, op5: Op<D, E>, op6: Op<E, F>): Stream<F>;
  pipe<A, B, C, D, E, F, G>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>, op5: Op<D, E>, op6: Op<E, F>, op7: Op<F, G>): Stream<G>;
  pipe<A, B, C, D, E, F, G, H>(op1: Op<R, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>, op5: Op<D, E>, op6: Op<E, F>, op7: Op<F, G>, op8: Op<G, H>): Stream<H>;
  // No untyped catch-all overload: it would accept any mismatch. Chain .pipe() for more than 8.
  pipe(...operators: Array<Op<never, unknown>>): Stream<unknown> {
    this.#use('pipe');
    checkOperators(this.definition.name, operators);
    this.segment.operators.push(...(operators as Array<OperatorFunction<unknown, unknown>>));
    return new Stream(this.definition, this.segment);
  }

  /**
   * Routes each record to the first branch whose predicate accepts it, or to `rest`. A predicate
   * that throws sends the record to the error policy (TRB_PROCESS).
   *
   *   {total: 5}, {total: 500}  --split({ big: r => r.value.total >= 100 })-->  big: {total: 500}; rest: {total: 5}
   */
  split<B extends Record<string, (record: R) => boolean>>(branches: B): Branches<R, B> {
    const names = Object.keys(branches);
    if (names.length === 0 || names.includes('rest')) {
      throw new TributaryError('TRB_TOPOLOGY', `split() of stream '${this.definition.name}' needs at least one branch, none named 'rest' (the records no branch takes)`);
    }
    this.#use('split');
    const out: Record<string, Stream<unknown>> = {};
    const split = [...names, 'rest'].map((name) => {
      const segment = this.#segment({ kind: 'branch', of: this.segment.id, branch: name });
      out[name] = new Stream(this.definition, segment);
      return { name, segment: segment.id, predicate: name === 'rest' ? null : (branches[name] as (record: never) => boolean) };
    });
    this.segment.split = split;
    return out as Branches<R, B>;
  }

  /**
   * Joins this stream with other branches of the same stream: the records of all of them continue
   * as one (in no particular order across branches). To join two different streams, write one to a
   * topic the other reads.
   */
  merge(...others: ReadonlyArray<Stream<R>>): Stream<R> {
    const all = [this, ...others];
    if (all.some((s) => s.definition !== this.definition)) {
      throw new TributaryError('TRB_TOPOLOGY', `merge() joins branches of one stream ('${this.definition.name}'); to join two streams, write one to a topic the other reads`);
    }
    if (new Set(all.map((s) => s.segment)).size !== all.length) throw new TributaryError('TRB_TOPOLOGY', `merge() of stream '${this.definition.name}' names one branch twice`);
    for (const s of all) s.#use('merge');
    const merged = this.#segment({ kind: 'merge', of: all.map((s) => s.segment.id) });
    for (const s of all) s.segment.mergedInto = merged.id;
    return new Stream(this.definition, merged);
  }

  #segment(input: PipelineSegment['input']): PipelineSegment {
    const segment: PipelineSegment = { id: this.definition.segments.length, input, operators: [] };
    this.definition.segments.push(segment);
    return segment;
  }

  #use(what: string): void {
    if (this.#used) {
      throw new TributaryError('TRB_TOPOLOGY', `stream '${this.definition.name}' is already piped: chain .pipe() calls on the stream each returns, or split() it to branch (${what})`);
    }
    this.#used = true;
  }
}
