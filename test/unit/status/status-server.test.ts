import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { hostAllowed, StatusServer } from '../../../core/status/status-server.js';
import type { DaemonStatus } from '../../../core/status/status-registry.js';

function get(port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('/status and /health answer only requests addressed to an IP, localhost or the bound host (DNS rebinding)', async () => {
  const server = new StatusServer(() => ({ instances: [] }) as unknown as DaemonStatus);
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  try {
    assert.equal(await get(port, `127.0.0.1:${port}`, '/status'), 200);
    assert.equal(await get(port, `localhost:${port}`, '/health'), 200);
    assert.equal(await get(port, `attacker.example:${port}`, '/status'), 403);
    assert.equal(await get(port, 'attacker.example', '/health'), 403);
  } finally {
    await server.close();
  }
  assert.equal(hostAllowed('[::1]:5005', '::1'), true);
  assert.equal(hostAllowed('dogwatch.internal:5005', 'dogwatch.internal'), true, 'the configured name');
  assert.equal(hostAllowed('10.0.0.7:5005', '0.0.0.0'), true, 'a pod IP (kubelet probes)');
});
