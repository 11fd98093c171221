/**
 * The digest bucket on S3. Writes carry `If-None-Match: *` (the bucket policy
 * refuses any write without it), so an existing digest is never replaced; the
 * bucket's Object Lock default retention (compliance mode) then keeps every
 * object version for its retention, whoever asks to delete it.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { DigestStore } from '#shared/audit/digest-archive';

export function makeS3DigestStore(bucket: string, client = new S3Client({})): DigestStore {
  return {
    async createObject(key, body) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            IfNoneMatch: '*',
            ContentType: key.endsWith('.json') ? 'application/json' : 'application/x-pem-file',
            // Object Lock needs an integrity checksum on every write.
            ChecksumAlgorithm: 'SHA256',
          }),
        );
        return true;
      } catch (error) {
        // 412: the key exists; 409: a concurrent conditional write to it is in progress.
        const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
        if (status === 412 || status === 409) return false;
        throw error;
      }
    },
    async readObject(key) {
      try {
        const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await Body?.transformToString('utf8');
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined;
        throw error;
      }
    },
    async listKeys(prefix, { limit, after }) {
      const { Contents = [], IsTruncated } = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: limit, StartAfter: after }),
      );
      return { keys: Contents.flatMap((c) => (c.Key ? [c.Key] : [])), more: IsTruncated === true };
    },
  };
}
