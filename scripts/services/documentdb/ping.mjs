// Readiness of the MongoDB-wire store for scripts/infra: authenticate with the URL given and run
// `ping` (an open port alone says nothing: the gateway listens before PostgreSQL answers).
// Exit 0 when it answers within 3 s. Uses the repository's own mongodb driver.
import { MongoClient } from 'mongodb';

const client = new MongoClient(process.argv[2], { serverSelectionTimeoutMS: 3000, connectTimeoutMS: 3000 });
try {
  await client.db('admin').command({ ping: 1 });
  process.exitCode = 0;
} catch {
  process.exitCode = 1;
} finally {
  await client.close().catch(() => {});
}
