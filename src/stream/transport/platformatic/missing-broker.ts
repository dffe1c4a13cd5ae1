/**
 * A guard against @platformatic/kafka 1.35 connecting to a broker its metadata no longer lists.
 *
 * The library looks a node up in its cached cluster metadata and hands the result, `undefined`
 * when the node is gone, to its connection pool, which reads `broker.host` and throws a TypeError
 * from inside a socket callback: an uncaught exception that ends the process. It happens to every
 * consumer group whose coordinator dies in a multi-broker cluster, because the consumer remembers
 * its group's coordinator for good (`#findGroupCoordinator` never forgets `#coordinatorId`).
 *
 *   client[getConnection](undefined, cb)  ─►  cb(NetworkError 'broker … not in the metadata') (retriable)
 *                                        └─►  onMissing()  (the owner decides: new client or not)
 *   client[getConnection](broker, cb), retired  ─►  cb(UserError 'client retired') (not retried)
 *
 * "Retired" is for a client being replaced: its last group operations (the LeaveGroup of close)
 * would otherwise be retried for minutes against a coordinator that is gone.
 *
 * The hook is the library's private connection method, found by its symbol's description: if a
 * release renames it, `guardMissingBroker` returns false and `test/unit/platformatic-missing-broker.test.ts`
 * fails, rather than the guard silently doing nothing.
 */
import { NetworkError, UserError } from '@platformatic/kafka';

const GET_CONNECTION = 'plt.kafka.base.getConnection';

type ConnectionCallback = (error: Error | null, connection?: unknown) => void;
type GetConnection = (broker: unknown, callback: ConnectionCallback) => void;

/** The library's private connection method symbol, looked up on the client's prototype chain. */
function connectionSymbol(client: object): symbol | undefined {
  for (let proto: object | null = Object.getPrototypeOf(client); proto; proto = Object.getPrototypeOf(proto)) {
    const found = Object.getOwnPropertySymbols(proto).find((s) => s.description === GET_CONNECTION);
    if (found) return found;
  }
  return undefined;
}

export interface MissingBrokerGuard {
  /** A node the client wanted is not in its metadata. */
  onMissing(): void;
  /** True once the client is being replaced: every connection is refused, for good. */
  retired(): boolean;
}

/** Installs the guard on one client; false when the library has no such method (see above). */
export function guardMissingBroker(client: object, guard: MissingBrokerGuard): boolean {
  const symbol = connectionSymbol(client);
  const target = client as Record<symbol, unknown>;
  const original = symbol ? target[symbol] : undefined;
  if (!symbol || typeof original !== 'function') return false;
  const getConnection = original as GetConnection;
  target[symbol] = function guarded(this: unknown, broker: unknown, callback: ConnectionCallback) {
    if (guard.retired()) {
      callback(new UserError('this Kafka client was retired: it is being replaced'));
      return;
    }
    if (broker === undefined || broker === null) {
      guard.onMissing();
      callback(new NetworkError('a broker this client needs is not in the cluster metadata (it left the cluster)'));
      return;
    }
    getConnection.call(this, broker, callback);
  };
  return true;
}
