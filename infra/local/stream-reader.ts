/**
 * Reading a local stream as a downstream consumer would: an iterator per
 * shard, each `read()` one `GetRecords` round over all of them. Shared by the
 * demo producer, the tests and the end-to-end benchmark.
 */
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';

export interface StreamReader {
  /** The records that arrived since the last read, from every shard. */
  read(): Promise<_Record[]>;
}

export async function openStreamReader(
  client: KinesisClient,
  streamName: string,
  from: 'TRIM_HORIZON' | 'LATEST' = 'TRIM_HORIZON',
): Promise<StreamReader> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  const iterators = await Promise.all(
    Shards.map(async (shard) => {
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId,
          ShardIteratorType: from,
        }),
      );
      return ShardIterator;
    }),
  );
  return {
    async read() {
      const records: _Record[] = [];
      for (const [i, iterator] of iterators.entries()) {
        if (!iterator) continue;
        const result = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        iterators[i] = result.NextShardIterator;
        records.push(...(result.Records ?? []));
      }
      return records;
    },
  };
}
