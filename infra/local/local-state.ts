/**
 * The running local stack as its clients see it: `.portolan/local.json` (or
 * `PORTOLAN_LOCAL_STATE`), and a Kinesis client for its emulator. Light on
 * purpose: the CLI, the demo and the replay tool read it without loading the stack.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { LocalClient, LocalClientName } from '#infra/local/oidc-issuer';
import { createKinesisClient } from '#shared/aws/kinesis-client';

/** `.portolan/local.json`: PRODUCT.md's shape plus what local clients need to trust and reach it. */
export interface LocalStackState {
  apiUrl: string;
  issuer: string;
  tokenUrl: string;
  clients: Record<LocalClientName, LocalClient>;
  region: string;
  kinesis: { endpoint: string; inputStream: string; outputStream: string };
  dynamodb: { endpoint: string; tables: { catalog: string; audit: string } };
  /** The dev CA the issuer's certificate chains to (PEM file). */
  caFile: string;
  /** The `aud` the API accepts. */
  audience: string;
  /** Generated credentials the local AWS emulators accept. */
  aws: { accessKeyId: string; secretAccessKey: string };
}

export const localStateFile = (env: NodeJS.ProcessEnv = process.env) =>
  env.PORTOLAN_LOCAL_STATE ?? '.portolan/local.json';

/** The running local stack's state; undefined when none is running here. */
export function readLocalState(env: NodeJS.ProcessEnv = process.env): LocalStackState | undefined {
  const file = localStateFile(env);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalStackState) : undefined;
}

/** A Kinesis client for the local stack's kinesis-mock, with its generated credentials. */
export const localKinesisClient = (state: LocalStackState) =>
  createKinesisClient({ endpoint: state.kinesis.endpoint, region: state.region, credentials: state.aws });
