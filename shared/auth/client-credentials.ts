/**
 * OAuth 2.0 client-credentials token request (RFC 6749 §4.4), as CI runs it
 * against Cognito's or any issuer's token URL. Uses node:https so that a private
 * CA (the local stack's dev CA) can be trusted for exactly this request.
 */
import { request } from 'node:https';

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes; the client's full allowance when absent. */
  scope?: string;
  /** Extra CA certificates to trust (PEM). */
  ca?: string;
}

export class TokenRequestFailed extends Error {
  override name = 'TokenRequestFailed';
}

export async function requestAccessToken(credentials: ClientCredentials): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (credentials.scope) form.set('scope', credentials.scope);
  const basic = Buffer.from(
    `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`,
  ).toString('base64');
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      credentials.tokenUrl,
      {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        ...(credentials.ca ? { ca: credentials.ca } : {}),
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out after 10s')));
    req.on('error', (error) =>
      reject(new TokenRequestFailed(`token request to ${credentials.tokenUrl} failed: ${error.message}`)),
    );
    req.end(form.toString());
  });
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    // Reported below with the status.
  }
  if (status !== 200 || typeof parsed.access_token !== 'string') {
    const reason = parsed.error_description ?? parsed.error ?? body.slice(0, 200);
    throw new TokenRequestFailed(
      `token request to ${credentials.tokenUrl} was refused (${status}): ${String(reason)}`,
    );
  }
  return parsed.access_token;
}
