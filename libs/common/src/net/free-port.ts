import { createServer } from 'node:net';

/**
 * A TCP port nothing listens on at this instant, on 127.0.0.1 (the OS picks it; another process
 * could take it before the caller binds it, a race tests, benchmarks and the demo accept).
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no free TCP port on 127.0.0.1');
  return address.port;
}
