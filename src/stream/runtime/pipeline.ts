/**
 * One batch through a stream's operator graph: the decoded records enter the first segment; a
 * split segment's output is routed (each record once, to the first branch that takes it) into its
 * branch segments; a merge segment reads the outputs of the segments merged into it. The result
 * completes when every segment has finished with the batch.
 *
 *   records --[seg 0]--> route --big--> [seg 1] --\
 *                              \-rest-> [seg 2] ----> (merge) [seg 3] --> completes
 *
 * A stream without split() is just `from(records).pipe(...operators)`.
 */
import { connectable, filter, from, map, merge, Observable, Subject, type Connectable, type OperatorFunction } from 'rxjs';
import type { PipelineSegment, StreamDefinition } from '../definition.js';
import { DROPPED, guarded, type OperatorContext } from '../operators/define.js';
import type { AnyRecord } from '../record.js';

type Build = (op: OperatorFunction<unknown, unknown>) => OperatorFunction<unknown, unknown>;

interface Routed {
  readonly record: AnyRecord;
  readonly branch: number;
}

export function pipeline(definition: StreamDefinition, records: readonly AnyRecord[], context: OperatorContext, build: Build): Observable<unknown> {
  const { segments } = definition;
  const through = (source: Observable<unknown>, segment: PipelineSegment) => segment.operators.reduce((out, op) => out.pipe(build(op)), source);
  if (segments.length === 1) return through(from(records), segments[0] as PipelineSegment);

  const outputs = new Map<number, Observable<unknown>>();
  const routes = new Map<number, Connectable<Routed>>();
  // Created upstream first; connected downstream first, so no branch misses a record emitted at once.
  const connectables: Array<Connectable<Routed>> = [];

  const routed = (segment: PipelineSegment): Connectable<Routed> => {
    let route = routes.get(segment.id);
    if (!route) {
      const branches = segment.split ?? [];
      const choose = (record: AnyRecord): number => branches.findIndex((b) => b.predicate === null || (b.predicate as (r: AnyRecord) => boolean)(record));
      const source = output(segment).pipe(
        map((record) => {
          const branch = guarded(context, record as AnyRecord, 'TRB_PROCESS', choose);
          return branch === DROPPED ? null : { record: record as AnyRecord, branch };
        }),
        filter((r): r is Routed => r !== null),
      );
      route = connectable(source, { connector: () => new Subject<Routed>(), resetOnDisconnect: false });
      routes.set(segment.id, route);
      connectables.push(route);
    }
    return route;
  };

  const output = (segment: PipelineSegment): Observable<unknown> => {
    let out = outputs.get(segment.id);
    if (!out) {
      const input = segment.input;
      let source: Observable<unknown>;
      if (input.kind === 'source') source = from(records);
      else if (input.kind === 'merge') source = merge(...input.of.map((i) => output(segments[i] as PipelineSegment)));
      else {
        const parent = segments[input.of] as PipelineSegment;
        const index = (parent.split ?? []).findIndex((b) => b.segment === segment.id);
        source = routed(parent).pipe(
          filter((r) => r.branch === index),
          map((r) => r.record),
        );
      }
      out = through(source, segment);
      outputs.set(segment.id, out);
    }
    return out;
  };

  // The ends of the graph: segments neither split nor merged into another.
  const ends = segments.filter((s) => !s.split && s.mergedInto === undefined).map(output);
  return new Observable<unknown>((subscriber) => {
    const subscription = merge(...ends).subscribe(subscriber);
    for (const route of [...connectables].reverse()) subscription.add(route.connect());
    return subscription;
  });
}
