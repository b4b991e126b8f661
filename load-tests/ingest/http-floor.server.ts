/**
 * The HTTP floor for the ingest benchmark: a bare Fastify that accepts the same single-sale POST
 * as ingest (plain JSON.parse of the body, as ingest configures it) and answers 202 with a fixed
 * receipt, without validation, auth or NATS. What it reaches is the most HTTP on this machine
 * can give a Node process, so readers see how much of it ingest uses.
 *
 * Run by bench-ingest.js as a child process: `FLOOR_PORT=<port> node http-floor.server.js`.
 */
import Fastify from 'fastify';

const port = Number(process.env.FLOOR_PORT ?? 0);
const receipt = '{"saleId":"bench-floor","status":"accepted","seq":1}';

const app = Fastify({
  logger: false,
  bodyLimit: 1024 * 1024,
  onProtoPoisoning: 'ignore',
  onConstructorPoisoning: 'ignore',
});

app.post('/v1/sales', async (request, reply) => {
  if (typeof request.body !== 'object' || request.body === null) {
    return reply.code(400).send({ error: 'expected a JSON object' });
  }
  return reply.code(202).header('content-type', 'application/json; charset=utf-8').send(receipt);
});

app.get('/health/ready', async () => ({ status: 'ready' }));

const close = () => {
  void app.close().then(() => process.exit(0));
};
process.on('SIGTERM', close);
process.on('SIGINT', close);

await app.listen({ port, host: '127.0.0.1' });
