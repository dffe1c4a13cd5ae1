/**
 * A queue of one: the tasks given to it run one after another, in the order given. A task's failure
 * is its caller's; the next task runs all the same.
 *
 *   const serial = oneAtATime();  serial(a); serial(b)   ─►  a runs, then b (even if a failed)
 *
 * Both Kafka transports run a transactional producer's transactions through one: concurrent
 * transactions of one producer fence each other ("old epoch").
 */
export function oneAtATime(): <T>(task: () => Promise<T>) => Promise<T> {
  let previous: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>) => {
    const run = previous.then(task);
    previous = run.catch(() => undefined);
    return run;
  };
}
