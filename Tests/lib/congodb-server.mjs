// congodb-server.mjs - runs the CongoDB test server (MongoDB wire protocol,
// in memory) from the npm package @push.rocks/smartmongo that
// Tests/lib/congodb.sh installs into a cache folder.
//   node Tests/lib/congodb-server.mjs CACHE_DIR PORT
// Prints "ready mongodb://127.0.0.1:PORT" when it accepts connections; stops
// on SIGTERM/SIGINT. For the tests only: no authentication, no durability.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [cache, port] = process.argv.slice(2);
if (!cache || !port) {
  console.error('usage: congodb-server.mjs CACHE_DIR PORT');
  process.exit(2);
}
const entry = path.join(cache, 'node_modules/@push.rocks/smartmongo/dist_ts/congodb/index.js');
const { CongoServer } = await import(pathToFileURL(entry).href);
const server = new CongoServer({ port: Number(port), host: '127.0.0.1', storage: 'memory' });
await server.start();
console.log(`ready mongodb://127.0.0.1:${port}`);
const stop = async () => {
  try {
    await server.stop();
  } finally {
    process.exit(0);
  }
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
