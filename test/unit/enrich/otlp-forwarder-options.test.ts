import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { otlpForwarderOptionsFromEnv } from '#functions/enrich/otlp-forwarder';

describe('OTLP forwarder settings from the environment', () => {
  it('reads the endpoint, encoding, request bound and token settings', () => {
    assert.deepEqual(
      otlpForwarderOptionsFromEnv({
        OTLP_ENDPOINT: 'https://ingest.example',
        OTLP_COMPRESSION: 'none',
        OTLP_MAX_REQUEST_BYTES: '1048576',
        OTLP_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp',
        OTLP_TOKEN_HEADER: 'lightstep-access-token',
      }),
      {
        endpoint: 'https://ingest.example',
        compression: 'none',
        maxRequestBytes: 1_048_576,
        tokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp',
        tokenHeader: 'lightstep-access-token',
      },
    );
    assert.deepEqual(otlpForwarderOptionsFromEnv({ OTLP_ENDPOINT: 'https://ingest.example' }), {
      endpoint: 'https://ingest.example',
      compression: 'gzip',
    });
  });

  it('refuses a setting it cannot honour, naming it', () => {
    const endpoint = { OTLP_ENDPOINT: 'https://ingest.example' };
    assert.throws(
      () => otlpForwarderOptionsFromEnv({ ...endpoint, OTLP_COMPRESSION: 'zstd' }),
      /OTLP_COMPRESSION/,
    );
    for (const bad of ['4MiB', '0', '-1', '1e6', ' 100', '99999999999', '1023'])
      assert.throws(
        () => otlpForwarderOptionsFromEnv({ ...endpoint, OTLP_MAX_REQUEST_BYTES: bad }),
        /OTLP_MAX_REQUEST_BYTES/,
        bad,
      );
  });
});
