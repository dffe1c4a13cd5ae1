/**
 * The options of `tributary demo` (the command itself is demo.ts): declared like every other
 * command's, so its parser refuses what it does not read and its --help lists what it does.
 */
import type { CommandSpec } from '../command.js';

export const demoSpec: CommandSpec = {
  name: 'demo',
  summary: 'run the customer-360 example end to end and check it',
  positionals: [],
  description: `Runs the example topology topologies/customer-360.ts end to end. A seeded generator plays the CDC
history of four source tables into it: CRM customers (Debezium, Avro through the schema registry),
orders and order lines (Debezium JSON), marketing preferences (GoldenGate JSON), with inserts,
updates, deletes, foreign-key moves, key changes, snapshots, duplicate and replayed deliveries.
The demo prints a few sv_customers views and a summary, then checks the views against the oracle
(recomputed from the projections) and the projections against the generated source tables.

By default everything runs on the embedded engine (in-memory broker, schema registry and store:
nothing to install, no network). With --real, --kafka, --registry, --mongo or --config it runs on
real services: topics with 3 partitions and a database, named uniquely per run, are created and kept.`,
  sections: [
    {
      title: 'Options',
      keys: ['events', 'customers', 'real', 'kafka', 'registry', 'mongo', 'config', 'cdc'],
      help: {
        registry: 'Confluent-compatible schema registry (implies real services)',
        mongo: 'MongoDB connection string (implies real services)',
        config: 'JSON config file: its kafka-brokers, registry and mongo (implies real services)',
      },
      note: 'The environment variables (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, MONGODB_URL, TRIBUTARY_CONFIG, …) are read only with --real; a flag alone implies real services.',
    },
  ],
};
