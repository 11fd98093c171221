/**
 * Local stand-ins for the OIDC issuers of six CIs, one HTTPS server (the dev
 * CA's certificate) with one issuer per CI under its own path and its own RSA
 * key. Each publishes discovery and JWKS like the real one, and hands out job
 * tokens the way that CI does: GitHub's and Azure DevOps' token request
 * endpoints, Buildkite's agent API, and, for CIs that put the token in a
 * variable (GitLab, CircleCI, Bitbucket), the minted token itself.
 *
 * `npm test` starts it next to the local stack, which trusts every issuer
 * (`PORTOLAN_OIDC_ISSUERS`); tests "start a job" on a CI through a control
 * endpoint guarded by a per-run secret (`PORTOLAN_CI_ISSUERS`).
 */
import { createSign, generateKeyPairSync, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readLocalStack } from './local-stack.ts';

export const ciProviders = ['github', 'gitlab', 'circleci', 'buildkite', 'bitbucket', 'azure'] as const;
export type CiProvider = (typeof ciProviders)[number];

/** Fixed ids in the issuer URLs of the CIs whose issuer names the organisation or workspace. */
export const circleciOrgId = '7f0c2a53-3c5e-4d3b-9a1e-2b6f8c1d4e90';
export const bitbucketWorkspaceUuid = '{5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}';
export const azureOrganizationId = 'b3e1c6a2-7d4f-4e8a-9c1b-0f2e3d4c5b6a';

/** The audience a job's token carries when the job does not choose one. */
const fixedAudience: Partial<Record<CiProvider, string>> = {
  circleci: circleciOrgId,
  bitbucket: `ari:cloud:bitbucket::workspace/${bitbucketWorkspaceUuid.slice(1, -1)}`,
  azure: 'api://AzureADTokenExchange',
};
/** What the CIs whose jobs choose their audience are configured to ask for in tests. */
export const requestedAudience = 'portolan-ci';

const issuerPath: Record<CiProvider, string> = {
  github: '/github',
  gitlab: '/gitlab',
  circleci: `/circleci/org/${circleciOrgId}`,
  buildkite: '/buildkite',
  bitbucket: '/bitbucket/2.0/workspaces/acme/pipelines-config/identity/oidc',
  azure: `/azure/${azureOrganizationId}`,
};

export interface CiIssuersInfo {
  baseUrl: string;
  controlToken: string;
  issuers: Record<CiProvider, { issuer: string; audience: string }>;
}

/** What a started job gets from its CI: the variables a real job of that CI would have. */
export interface CiJob {
  env: Record<string, string>;
  /** The job's token, for CIs that hand it over directly. */
  token?: string;
}

interface Job {
  provider: CiProvider;
  claims: Record<string, unknown>;
  secret: string;
  /** Azure: the service connection the job may request tokens for. */
  serviceConnectionId?: string;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function sign(key: KeyObject, kid: string, payload: Record<string, unknown>) {
  const input = `${b64url({ alg: 'RS256', typ: 'JWT', kid })}.${b64url(payload)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

export async function startCiIssuers(options: { tls: { key: string; cert: string } }) {
  const keys = Object.fromEntries(
    ciProviders.map((provider) => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return [provider, { privateKey, publicKey, kid: `${provider}-${randomUUID().slice(0, 8)}` }];
    }),
  ) as Record<CiProvider, { privateKey: KeyObject; publicKey: KeyObject; kid: string }>;
  const controlToken = randomBytes(24).toString('base64url');
  const jobs = new Map<string, Job>();
  let baseUrl = '';
  const issuerOf = (provider: CiProvider) => `${baseUrl}${issuerPath[provider]}`;

  const mint = (job: Job, audience: string) => {
    const now = Math.floor(Date.now() / 1000);
    const { privateKey, kid } = keys[job.provider];
    return sign(privateKey, kid, {
      jti: randomUUID(),
      iss: issuerOf(job.provider),
      aud: audience,
      iat: now,
      nbf: now,
      exp: now + 300,
      ...job.claims,
    });
  };
  const bearer = (req: IncomingMessage, scheme: string) => {
    const header = req.headers.authorization ?? '';
    return header.toLowerCase().startsWith(`${scheme.toLowerCase()} `) ? header.slice(scheme.length + 1) : '';
  };
  const jobBySecret = (provider: CiProvider, secret: string) =>
    [...jobs.values()].find((job) => job.provider === provider && secret !== '' && job.secret === secret);

  async function createJob(req: IncomingMessage, res: ServerResponse) {
    if (bearer(req, 'Bearer') !== controlToken) return send(res, 401, { message: 'control token' });
    const body = (await readJson(req)) as Omit<Job, 'secret'> & { audience?: string };
    const job: Job = { ...body, secret: randomBytes(16).toString('hex') };
    const id = randomUUID();
    jobs.set(id, job);
    return send(res, 201, jobFor(job, id, body.audience));
  }

  /** The issuer's OpenID discovery document and key set; false when `tail` names neither. */
  function serveDiscovery(provider: CiProvider, tail: string, res: ServerResponse): boolean {
    if (tail === '/.well-known/openid-configuration') {
      send(res, 200, {
        issuer: issuerOf(provider),
        jwks_uri: `${issuerOf(provider)}/.well-known/jwks.json`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
      return true;
    }
    if (tail === '/.well-known/jwks.json') {
      const { publicKey, kid } = keys[provider];
      send(res, 200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
      return true;
    }
    return false;
  }

  /** Each CI's own token endpoint, as that CI serves it; false when the request is for none of them. */
  async function serveToken(
    provider: CiProvider,
    tail: string,
    req: IncomingMessage,
    url: URL,
    res: ServerResponse,
  ): Promise<boolean> {
    if (provider === 'github' && tail === '/_token' && req.method === 'GET') {
      githubToken(req, url, res);
      return true;
    }
    const buildkite = /^\/v3\/jobs\/([^/]+)\/oidc\/tokens$/.exec(tail);
    if (provider === 'buildkite' && buildkite && req.method === 'POST') {
      await buildkiteToken(buildkite[1] ?? '', req, res);
      return true;
    }
    if (provider === 'azure' && tail.endsWith('/oidctoken') && req.method === 'POST') {
      azureToken(req, url, res);
      return true;
    }
    return false;
  }

  function githubToken(req: IncomingMessage, url: URL, res: ServerResponse) {
    const job = jobBySecret('github', bearer(req, 'bearer'));
    if (!job) return send(res, 403, { message: 'Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable' });
    return send(res, 200, {
      count: 1,
      value: mint(job, url.searchParams.get('audience') ?? 'https://github.com/acme'),
    });
  }

  async function buildkiteToken(jobId: string, req: IncomingMessage, res: ServerResponse) {
    const job = jobs.get(jobId);
    if (!job || bearer(req, 'Token') !== job.secret) return send(res, 401, { message: 'Unauthorized' });
    const { audience } = await readJson(req);
    return send(res, 201, { token: mint(job, String(audience ?? 'https://buildkite.com/acme')) });
  }

  function azureToken(req: IncomingMessage, url: URL, res: ServerResponse) {
    const job = jobBySecret('azure', bearer(req, 'Bearer'));
    if (!job) return send(res, 401, { message: 'access token' });
    if (url.searchParams.get('api-version') === null) return send(res, 400, { message: 'api-version' });
    if (url.searchParams.get('serviceConnectionId') !== job.serviceConnectionId)
      return send(res, 404, { message: 'service connection not found' });
    return send(res, 200, { oidcToken: mint(job, fixedAudience.azure as string) });
  }

  const server = createServer({ key: options.tls.key, cert: options.tls.cert }, async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', baseUrl);
      if (req.method === 'POST' && url.pathname === '/_jobs') return await createJob(req, res);
      const provider = ciProviders.find(
        (p) => url.pathname === issuerPath[p] || url.pathname.startsWith(`${issuerPath[p]}/`),
      );
      if (!provider) return send(res, 404, { message: 'no such issuer' });
      const tail = url.pathname.slice(issuerPath[provider].length);
      const served = serveDiscovery(provider, tail, res) || (await serveToken(provider, tail, req, url, res));
      if (!served) send(res, 404, { message: 'not found' });
    } catch (error) {
      send(res, 400, { message: (error as Error).message });
    }
  });

  function jobFor(job: Job, id: string, audience?: string): CiJob {
    switch (job.provider) {
      case 'github':
        return {
          env: {
            ACTIONS_ID_TOKEN_REQUEST_URL: `${issuerOf('github')}/_token?api-version=2.0`,
            ACTIONS_ID_TOKEN_REQUEST_TOKEN: job.secret,
          },
        };
      case 'buildkite':
        return {
          env: {
            BUILDKITE: 'true',
            BUILDKITE_JOB_ID: id,
            BUILDKITE_AGENT_ACCESS_TOKEN: job.secret,
            BUILDKITE_AGENT_ENDPOINT: `${issuerOf('buildkite')}/v3`,
          },
        };
      case 'azure':
        return {
          env: {
            TF_BUILD: 'True',
            SYSTEM_OIDCREQUESTURI: `${issuerOf('azure')}/_apis/distributedtask/hubs/build/plans/${randomUUID()}/jobs/${id}/oidctoken`,
            SYSTEM_ACCESSTOKEN: job.secret,
          },
        };
      default:
        return { env: {}, token: mint(job, audience ?? fixedAudience[job.provider] ?? requestedAudience) };
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const info: CiIssuersInfo = {
    baseUrl,
    controlToken,
    issuers: Object.fromEntries(
      ciProviders.map((p) => [p, { issuer: issuerOf(p), audience: fixedAudience[p] ?? requestedAudience }]),
    ) as CiIssuersInfo['issuers'],
  };
  return {
    info,
    /** The stack's `PORTOLAN_OIDC_ISSUERS`: every stand-in, with the audience its jobs' tokens carry. */
    trusted: Object.values(info.issuers).map(({ issuer, audience }) => ({ issuer, audience: [audience] })),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** In a test: the stand-ins `npm test` started. */
export function ciIssuers(): CiIssuersInfo {
  const raw = process.env.PORTOLAN_CI_ISSUERS;
  if (!raw) throw new Error('PORTOLAN_CI_ISSUERS is not set: run the tests with `npm test`');
  return JSON.parse(raw) as CiIssuersInfo;
}

/** Starts a job on a CI with these claims about it (project, repository, branch…). */
export async function startCiJob(
  provider: CiProvider,
  claims: Record<string, unknown>,
  options: { audience?: string; serviceConnectionId?: string } = {},
): Promise<CiJob> {
  const { baseUrl, controlToken } = ciIssuers();
  const { caFile } = readLocalStack();
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      `${baseUrl}/_jobs`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${controlToken}`, 'content-type': 'application/json' },
        ca: readFileSync(caFile, 'utf8'),
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ provider, claims, ...options }));
  });
  if (status !== 201) throw new Error(`could not start a ${provider} job: ${body}`);
  return JSON.parse(body) as CiJob;
}
