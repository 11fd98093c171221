import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleFetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { demoCatalog } from '#infra/local/demo-catalog';
import { startLocalStack } from '#infra/local/local-stack';
import { readLocalStack, tokenFor } from '../../support/local-stack.ts';

const state = readLocalStack();
const freePorts = Object.fromEntries(
  ['API', 'ISSUER', 'DYNAMODB', 'KINESIS', 'KINESIS_TLS'].map((name) => [`PORTOLAN_${name}_PORT`, '0']),
);
const tempDirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'portolan-stack-'));
  tempDirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('local stack', () => {
  it('writes local.json in the documented shape (endpoints, clients and their scopes, streams, tables)', () => {
    assert.match(state.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(state.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(state.tokenUrl.startsWith(`${state.issuer}/`));
    assert.deepEqual(Object.keys(state.clients).sort(), ['admin', 'ci', 'reader']);
    assert.deepEqual(state.clients.ci.scopes, ['portolan/catalog.read', 'portolan/catalog.write']);
    assert.deepEqual(state.clients.reader.scopes, ['portolan/catalog.read', 'portolan/audit.read']);
    assert.equal(state.clients.admin.scopes.length, 4);
    assert.equal(state.region, 'us-east-1');
    assert.match(state.kinesis.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(state.kinesis.inputStream && state.kinesis.outputStream);
    assert.ok(state.dynamodb.tables.catalog && state.dynamodb.tables.audit);
  });

  it('issues tokens that aws-jwt-verify verifies over HTTPS, trusting only the dev CA', async () => {
    const verifier = JwtVerifier.create(
      { issuer: state.issuer, audience: state.audience, jwksUri: `${state.issuer}/jwks` },
      {
        jwksCache: new SimpleJwksCache({
          fetcher: new SimpleFetcher({ defaultRequestOptions: { ca: readFileSync(state.caFile, 'utf8') } }),
        }),
      },
    );
    for (const client of ['ci', 'admin', 'reader'] as const) {
      const payload = await verifier.verify(await tokenFor(state, client));
      assert.equal(payload.client_id, state.clients[client].clientId);
      assert.deepEqual(String(payload.scope).split(' ').sort(), [...state.clients[client].scopes].sort());
    }
    const untrusting = JwtVerifier.create({
      issuer: state.issuer,
      audience: state.audience,
      jwksUri: `${state.issuer}/jwks`,
    });
    await assert.rejects(untrusting.verify(await tokenFor(state, 'reader')), /certificate/);
  });

  it('refuses a client secret it did not issue', async () => {
    await assert.rejects(
      tokenFor(
        { ...state, clients: { ...state.clients, ci: { ...state.clients.ci, clientSecret: 'wrong' } } },
        'ci',
      ),
      /refused \(401\)/,
    );
  });

  it('names a busy port and its variable instead of hanging', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startLocalStack({
          stateDir: tempDir(),
          inMemory: true,
          seed: false,
          env: { ...process.env, ...freePorts, PORTOLAN_DYNAMODB_PORT: String(port) },
        }),
        new RegExp(`port ${port} is already in use.*PORTOLAN_DYNAMODB_PORT`),
      );
    } finally {
      blocker.close();
    }
  });

  it('seeds the demo catalog, keeps data across restarts, and stops every child', async () => {
    const stateDir = tempDir();
    const options = { stateDir, seed: true, env: { ...process.env, ...freePorts } };
    const first = await startLocalStack(options);
    const token = await tokenFor(first.state, 'reader');
    const services = await fetch(`${first.state.apiUrl}/v1/services`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const ids = ((await services.json()) as { items: { id: string }[] }).items.map((s) => s.id).sort();
    assert.deepEqual(
      ids,
      demoCatalog
        .filter((e) => e.collection === 'services')
        .map((e) => e.doc.id)
        .sort(),
    );
    await first.stop();
    for (const pid of first.childPids) assert.equal(alive(pid), false, `process ${pid} outlived stop()`);

    const lines: string[] = [];
    const second = await startLocalStack({ ...options, log: (line) => lines.push(line) });
    try {
      assert.ok(lines.includes('demo catalog already present'), lines.join('\n'));
      const secondToken = await tokenFor(second.state, 'reader');
      const team = await fetch(`${second.state.apiUrl}/v1/teams/payments`, {
        headers: { authorization: `Bearer ${secondToken}` },
      });
      assert.equal(team.status, 200);
      assert.equal(team.headers.get('etag'), '"1"');
    } finally {
      await second.stop();
    }
  });
});
