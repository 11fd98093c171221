/**
 * A development certificate authority and a server certificate for 127.0.0.1
 * and localhost. The local OIDC issuer serves HTTPS with it (aws-jwt-verify
 * fetches JWKS over HTTPS only), and every client trusts exactly this CA —
 * nothing disables certificate checks. Generated at first start, kept with the
 * stack's state, never committed.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { writeFileAtomic } from '#infra/local/atomic-file';

export interface DevCertificates {
  caFile: string;
  caPem: string;
  key: string;
  cert: string;
}

const days = (n: number) => new Date(Date.now() + n * 86_400_000);

export async function ensureDevCertificates(dir: string): Promise<DevCertificates> {
  const files = {
    caFile: join(dir, 'dev-ca.pem'),
    key: join(dir, 'issuer-key.pem'),
    cert: join(dir, 'issuer-cert.pem'),
  };
  if (!existsSync(files.caFile) || !existsSync(files.key) || !existsSync(files.cert)) {
    mkdirSync(dir, { recursive: true });
    const ca = await generate([{ name: 'commonName', value: 'Portolan local dev CA' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate: days(825),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ],
    });
    const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate: days(825),
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    writeFileAtomic(files.key, server.private, { mode: 0o600 });
    writeFileAtomic(files.cert, server.cert);
    writeFileAtomic(files.caFile, ca.cert);
  }
  return {
    caFile: files.caFile,
    caPem: readFileSync(files.caFile, 'utf8'),
    key: readFileSync(files.key, 'utf8'),
    cert: readFileSync(files.cert, 'utf8'),
  };
}
