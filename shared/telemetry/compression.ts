/** gzip / zlib detection by magic bytes, and symmetric (de)compression so output keeps the input's. */
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';

export type Compression = 'gzip' | 'zlib' | 'none';

export function compressionOf(data: Uint8Array): Compression {
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) return 'gzip';
  // zlib: CM=8 (deflate) in the low nibble and a header checksum divisible by 31.
  if (
    data.length >= 2 &&
    ((data[0] as number) & 0x0f) === 8 &&
    (((data[0] as number) << 8) | (data[1] as number)) % 31 === 0
  ) {
    return 'zlib';
  }
  return 'none';
}

export function decompress(data: Buffer, compression: Compression): Buffer {
  if (compression === 'gzip') return gunzipSync(data);
  if (compression === 'zlib') return inflateSync(data);
  return data;
}

export function compress(data: Buffer, compression: Compression): Buffer {
  if (compression === 'gzip') return gzipSync(data);
  if (compression === 'zlib') return deflateSync(data);
  return data;
}
