/**
 * The few OAuth requests a person's login makes (discovery, token, device
 * authorization, revocation), over node:https so that a private CA (the local
 * stack's dev CA) can be trusted for exactly these requests.
 */
import { request } from 'node:https';

/** An issuer's answer larger than this is not an OAuth answer. */
const maxResponseBytes = 1024 * 1024;

export interface OAuthResponse {
  status: number;
  body: Record<string, unknown>;
}

export function oauthRequest(
  url: string,
  options: { form?: Record<string, string>; ca?: string; timeoutMs?: number } = {},
): Promise<OAuthResponse> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.form ? 'POST' : 'GET',
        headers: {
          accept: 'application/json',
          ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(options.ca ? { ca: options.ca } : {}),
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.length > maxResponseBytes)
            req.destroy(new Error(`answer larger than ${maxResponseBytes} bytes`));
        });
        res.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            const parsed: unknown = JSON.parse(text);
            if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
          } catch {
            body = text ? { error: text.slice(0, 200) } : {};
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs / 1000}s`)));
    req.on('error', (error) => reject(new Error(`${new URL(url).origin}: ${error.message}`)));
    req.end(options.form ? new URLSearchParams(options.form).toString() : undefined);
  });
}

/** `error: description` of a refused OAuth request, for messages. */
export const oauthError = ({ status, body }: OAuthResponse) =>
  `${String(body.error ?? status)}${body.error_description ? `: ${String(body.error_description)}` : ''}`;
