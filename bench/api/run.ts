/**
 * API benchmark: throughput and latency of GET and PUT through the local gateway
 * (authorizer + handler + DynamoDB Local), side by side in one run, with the
 * handler's own time split out via the gateway's Server-Timing header.
 *
 *   npx tsx bench/api/run.ts [--duration 10] [--connections 10]
 *
 * The local stack runs in its own process (as `npm start` does) so the load
 * generator does not share its event loop.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { adminHeaders } from '../support/admin-headers.ts';
import { startStackProcess } from '../support/stack-process.ts';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' } },
});
const duration = Number(values.duration);
const connections = Number(values.connections);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

interface Row {
  scenario: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  handlerP50: number;
  handlerP99: number;
  authorizerP50: number;
  handlerShare: number;
  non2xx: number;
}

async function measure(scenario: string, url: string, request: autocannon.Request): Promise<Row> {
  const handler: number[] = [];
  const authorizer: number[] = [];
  const onResponse = (_status: number, _body: string, _context: unknown, headers: Record<string, string>) => {
    const timing = headers['server-timing'] ?? '';
    const dur = (name: string) => Number(new RegExp(`${name};dur=([\\d.]+)`).exec(timing)?.[1] ?? Number.NaN);
    handler.push(dur('handler'));
    authorizer.push(dur('authorizer'));
  };
  const result = await autocannon({
    url,
    connections,
    duration,
    requests: [{ ...request, onResponse } as autocannon.Request],
  });
  handler.sort((a, b) => a - b);
  authorizer.sort((a, b) => a - b);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    scenario,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    handlerP50: percentile(handler, 50),
    handlerP99: percentile(handler, 99),
    authorizerP50: percentile(authorizer, 50),
    handlerShare: mean(handler) / Math.max(0.001, result.latency.average),
    non2xx: result.non2xx,
  };
}

const { state, stop } = await startStackProcess();
try {
  const headers = await adminHeaders(state);
  const teams = Array.from({ length: 50 }, (_, i) => `bench-team-${i}`);
  for (const id of teams) {
    await fetch(`${state.apiUrl}/v1/teams/${id}`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ name: id }),
    });
  }
  await fetch(`${state.apiUrl}/v1/services/bench-service`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({
      team: 'bench-team-0',
      tier: 'tier-1',
      selectors: [{ attribute: 'faas.name', match: 'prefix', value: 'bench-' }],
    }),
  });

  let counter = 0;
  const rows = [
    await measure('GET /v1/services/{id}', state.apiUrl, {
      method: 'GET',
      path: '/v1/services/bench-service',
      headers,
    }),
    await measure('PUT /v1/teams/{id} (a change: transaction + audit event)', state.apiUrl, {
      method: 'PUT',
      headers,
      setupRequest: (req: autocannon.Request) => {
        counter++;
        return {
          ...req,
          path: `/v1/teams/${teams[counter % teams.length]}`,
          body: JSON.stringify({ name: `Team ${counter}` }),
        };
      },
    } as autocannon.Request),
  ];
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`\nAPI through the local gateway: ${connections} connections, ${duration}s each, one run\n`);
  console.log(
    '| scenario | req/s | p50 | p99 | handler p50 | handler p99 | authorizer p50 | handler share of latency | non-2xx |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.scenario} | ${r.requestsPerSecond} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.handlerP50)} | ${ms(r.handlerP99)} | ${ms(r.authorizerP50)} | ${(r.handlerShare * 100).toFixed(0)}% | ${r.non2xx} |`,
    );
  }
  const get = rows[0] as Row;
  const put = rows[1] as Row;
  console.log(`\nPUT/GET throughput ratio: ${(put.requestsPerSecond / get.requestsPerSecond).toFixed(2)}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/api.json',
    JSON.stringify({ at: new Date().toISOString(), connections, duration, rows }, null, 2),
  );
} finally {
  await stop();
}
