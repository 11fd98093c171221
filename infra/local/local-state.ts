/**
 * The running local stack as its clients see it (shared/local/local-state.ts),
 * and a Kinesis client for its emulator.
 */

import { createKinesisClient } from '#shared/aws/kinesis-client';
import type { LocalStackState } from '#shared/local/local-state';

export { type LocalStackState, localStateFile, readLocalState } from '#shared/local/local-state';

/** A Kinesis client for the local stack's kinesis-mock, with its generated credentials. */
export const localKinesisClient = (state: LocalStackState) =>
  createKinesisClient({ endpoint: state.kinesis.endpoint, region: state.region, credentials: state.aws });
