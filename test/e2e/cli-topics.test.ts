/**
 * Topic provisioning as an operator meets it, on the real broker: `tributary run` against a
 * topology whose source topic does not exist stops at once (exit 2) naming it and the command that
 * creates it; `tributary topics` lists what is missing (exit 1); `topics --create` creates every
 * topic with its partitions and cleanup policy; then `run` starts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { services, uniqueName } from '../integration/services.js';
import { cli, freePort, startCli, until } from './helpers.js';

describe('tributary topics, and run with missing topics', () => {
  it('run fails fast naming the missing source topic; topics lists and creates them; then run starts', async () => {
    const input = uniqueName('e2e-topics-in');
    const output = uniqueName('e2e-topics-out');
    const env = { E2E_INPUT: input, E2E_OUTPUT: output, E2E_NAME: uniqueName('e2e-topics'), MONGODB_URL: '', KAFKA_BROKERS: services.kafkaBrokers.join(',') };
    const fixture = 'test/e2e/fixtures/echo-topology.ts';
    const admin = new Kafka({ brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const started = Date.now();
      const refused = cli(['run', fixture, '--http-port', '0'], env);
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, new RegExp(`^tributary: TRB_CONFIG: 1 topic the streams read is missing on the brokers: ${input} \\(source, read by ingest:echo\\)\\. Create them with: tributary topics ${fixture} --create`, 'm'));
      assert.ok(Date.now() - started < 30_000, 'no retrying for minutes');

      const listed = cli(['topics', fixture, '--format', 'json'], env);
      assert.equal(listed.status, 1, listed.stderr);
      const plan = JSON.parse(listed.stdout) as { topics: Array<{ topic: string; role: string; state: unknown }>; missing: string[] };
      const control = `${env.E2E_NAME}.control`;
      assert.deepEqual(plan.topics.map((t) => [t.topic, t.role, t.state ?? 'missing']), [[input, 'source', 'missing'], [output, 'output', 'missing'], [`${input}.dlq`, 'dead-letter', 'missing'], [control, 'control', 'missing']]);
      assert.deepEqual(plan.missing, [input, output, `${input}.dlq`, control]);

      const created = cli(['topics', fixture, '--create', '--partitions', '3'], env);
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, new RegExp(`^  ${input.replace(/\./g, '\\.')} +source +3 +1 +delete +created$`, 'm'));
      // The control topic as run would create it: one partition, compacted (whatever --partitions says).
      assert.match(created.stdout, new RegExp(`^  ${control.replace(/\./g, '\\.')} +control +1 +1 +compact +created$`, 'm'));
      const metadata = await admin.fetchTopicMetadata({ topics: [input, output, `${input}.dlq`, control] });
      assert.deepEqual(Object.fromEntries(metadata.topics.map((t) => [t.name, t.partitions.length])), { [input]: 3, [output]: 3, [`${input}.dlq`]: 3, [control]: 1 });
      assert.equal(cli(['topics', fixture], env).status, 0, 'nothing missing any more');

      const port = await freePort();
      const run = startCli(['run', fixture, '--http-port', String(port)], { ...process.env, ...env, LOG_LEVEL: 'warn' });
      try {
        await until('the stream to be ready', async () => ((await fetch(`http://127.0.0.1:${port}/-/ready`)).status === 200 ? true : undefined), 60_000);
      } finally {
        run.child.kill('SIGTERM');
        assert.equal(await run.exited, 0, run.output());
      }
    } finally {
      await admin.deleteTopics({ topics: [input, output, `${input}.dlq`, `${env.E2E_NAME}.control`] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
