/** Types for the part of aws-kinesis-agg its own declarations leave out (lib/kpl-agg.js). */
declare module 'aws-kinesis-agg' {
  export class RecordAggregator {
    addUserRecord(record: { partitionKey: string; explicitHashKey?: string; data: Buffer }): void;
    checkIfUserRecordFits(record: { partitionKey: string; explicitHashKey?: string; data: Buffer }): boolean;
    build(): { partitionKey: string; data: Buffer };
    length(): number;
  }
}
