/** The benchmark topology as a file for `tributary run` (bench/backlog.ts runs it as a child process); names from the environment. */
import { buildTopology, type TableName } from './cdc-workload.js';

const prefix = process.env['BENCH_TOPIC_PREFIX'] ?? 'bench.';
export default buildTopology(process.env['BENCH_TOPOLOGY_NAME'] ?? 'bench', prefix, (table: TableName) => `${prefix}${table}`);
