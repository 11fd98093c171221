/**
 * The local stand-in for API Gateway (HTTP API, payload 2.0): turns each HTTP
 * request into the event API Gateway would build, runs the REQUEST authorizer
 * first (identity source: the Authorization header; simple responses; results
 * cached per token), then the API handler, and writes its result back as API
 * Gateway does. The handlers are the very modules Lambda runs.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  Context,
} from 'aws-lambda';
import { lambdaContext } from '#infra/local/lambda-context';

type Authorizer = (
  event: APIGatewayRequestAuthorizerEventV2,
  context: Context,
) => Promise<APIGatewaySimpleAuthorizerWithContextResult<Record<string, unknown>>>;
type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

export interface LocalGatewayOptions {
  port: number;
  authorizer: Authorizer;
  handler: ApiHandler;
  /** How long an authorizer result is reused for the same token (API Gateway's result TTL). */
  authorizerCacheSeconds?: number;
  /** The deployed route: `$default`, so the API function answers every path (and unknown ones with problem+json). */
  routeKey?: string;
}

/** API Gateway's payload limit. */
const maxPayloadBytes = 10 * 1024 * 1024;
const textTypes = /^(text\/|application\/([\w.+-]*json|xml|x-www-form-urlencoded|javascript))/i;

const message = (res: ServerResponse, status: number, text: string) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ message: text }));
};

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxPayloadBytes) return 'too-large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const decodePath = (path: string) => {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
};

/** The payload-2.0 event for a request, as API Gateway builds it (headers lower-cased, duplicates comma-joined). */
export function buildHttpApiEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    const value = req.rawHeaders[i + 1] as string;
    if (name === 'cookie') cookies.push(...value.split(/; */).filter(Boolean));
    else headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams)
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  const rawPath = decodePath(url.pathname);
  const proxyPrefix = routeKey.includes('{proxy+}')
    ? routeKey.split(' ')[1]?.replace('{proxy+}', '')
    : undefined;
  const now = new Date();
  const isText = body.length === 0 || textTypes.test(headers['content-type'] ?? '');
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: url.search.slice(1),
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    ...(proxyPrefix && rawPath.startsWith(proxyPrefix)
      ? { pathParameters: { proxy: rawPath.slice(proxyPrefix.length) } }
      : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2) {
  // A handler that returns a bare value gets API Gateway's inferred 200 JSON response.
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(typeof result === 'string' ? result : JSON.stringify(result));
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body === undefined ? '' : result.body;
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

export interface LocalGateway {
  url: string;
  server: Server;
  stop(): Promise<void>;
}

export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const routeKey = options.routeKey ?? '$default';
  const ttlMs = (options.authorizerCacheSeconds ?? 300) * 1000;
  const cache = new Map<
    string,
    { at: number; context: Record<string, unknown> | undefined; allowed: boolean }
  >();

  async function authorize(event: APIGatewayProxyEventV2, token: string) {
    const hit = cache.get(token);
    if (hit && Date.now() - hit.at < ttlMs) return hit;
    const authorizerEvent: APIGatewayRequestAuthorizerEventV2 = {
      ...(event as unknown as APIGatewayRequestAuthorizerEventV2),
      type: 'REQUEST',
      routeArn: `arn:aws:execute-api:us-east-1:000000000000:local/$default/${event.requestContext.http.method}${event.rawPath}`,
      identitySource: [token],
    };
    const result = await options.authorizer(authorizerEvent, lambdaContext('portolan-authorizer'));
    const entry = { at: Date.now(), context: result.context, allowed: result.isAuthorized };
    if (cache.size > 10_000) cache.clear();
    cache.set(token, entry);
    return entry;
  }

  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      if (body === 'too-large') return message(res, 413, 'Request Entity Too Large');
      const event = buildHttpApiEvent(req, body, routeKey);
      const token = event.headers.authorization;
      if (!token) return message(res, 401, 'Unauthorized');
      let authorization: Awaited<ReturnType<typeof authorize>>;
      const authorizerStart = performance.now();
      try {
        authorization = await authorize(event, token);
      } catch {
        return message(res, 500, 'Internal Server Error');
      }
      if (!authorization.allowed) return message(res, 403, 'Forbidden');
      (event.requestContext as unknown as Record<string, unknown>).authorizer = {
        lambda: authorization.context,
      };
      const handlerStart = performance.now();
      const result = await options.handler(event, lambdaContext('portolan-api'));
      // Server-Timing splits the handler's own time from the gateway's (bench/api reads it).
      const ms = (from: number, to: number) => (to - from).toFixed(2);
      res.setHeader(
        'server-timing',
        `authorizer;dur=${ms(authorizerStart, handlerStart)}, handler;dur=${ms(handlerStart, performance.now())}`,
      );
      writeResult(res, result);
    } catch (error) {
      console.error('local gateway: the handler threw', error);
      if (!res.headersSent) message(res, 500, 'Internal Server Error');
      else res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
