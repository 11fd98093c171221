/** gzip / zlib detection by magic bytes, and symmetric (de)compression so output keeps the input's. */
import { deflateSync, gunzipSync, gzipSync, inflateSync, type ZlibOptions } from 'node:zlib';

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

/**
 * Past this, decompressed data is refused (and the record passed through): a
 * 1 MB Kinesis record of gzip can claim gigabytes, and must not take the
 * function's memory down with the batch.
 */
export const maxDecompressedBytes = 64 * 1024 * 1024;

/**
 * Telemetry records are small (a few KB), and zlib's fixed cost per call —
 * allocating and clearing a 32 KB window and 16 KB output chunks — outweighs
 * compressing them. A window just large enough for the data finds every match
 * the full one would, so the output is byte for byte zlib's default at about
 * half the cost. The output chunk holds a small record whole (a second chunk
 * costs a copy), and a large one's usual output (a quarter or less), not the
 * whole input: zlib hands back a view of its chunk, and a batch's outputs are
 * all held until they are sent.
 */
function sizedFor(length: number): ZlibOptions {
  // Deflate looks back at most 2^windowBits − 262 bytes; 9 is the least zlib takes.
  let windowBits = 9;
  while (windowBits < 15 && (1 << windowBits) - 262 < length) windowBits++;
  const expected = length < 16 * 1024 ? length : Math.ceil(length / 4);
  return { windowBits, chunkSize: Math.max(64, Math.min(expected + 64, 256 * 1024)) };
}

/**
 * `out` in memory of its own size when it holds only part of zlib's output
 * chunk: a small record must not keep a large chunk alive for the rest of the batch.
 */
function ownMemory(out: Buffer): Buffer {
  return out.buffer.byteLength - out.length > 4096 ? Buffer.from(out) : out;
}

/**
 * A zlib header names its window size; consumers that sniff for zlib look for
 * the usual 32 KB one (0x78). Declaring a larger window than was used is
 * valid (RFC 1950), so the header is written as the default one.
 */
function withDefaultZlibHeader(out: Buffer): Buffer {
  out[0] = 0x78;
  const flags = (out[1] as number) & 0xe0;
  out[1] = flags | ((31 - ((0x78 * 256 + flags) % 31)) % 31);
  return out;
}

/** The size a gzip stream's trailer gives for its (last) member: a first guess at the output. */
function gzipSizeHint(data: Buffer): number {
  return data.length >= 18 ? data.readUInt32LE(data.length - 4) : 0;
}

export function decompress(
  data: Buffer,
  compression: Compression,
  maxOutputLength = maxDecompressedBytes,
): Buffer {
  if (compression === 'none') return data;
  // zlib has no size trailer: guess a typical ratio for text; more chunks are taken if it is short.
  const hint = compression === 'gzip' ? gzipSizeHint(data) : data.length * 4;
  const options = {
    chunkSize: Math.max(64, Math.min(hint || 16 * 1024, 1024 * 1024)),
    maxOutputLength,
  };
  return compression === 'gzip' ? gunzipSync(data, options) : inflateSync(data, options);
}

/**
 * What one invocation may decompress, in all and per record: a batch of
 * records that each stay under a fixed cap can still inflate to many times
 * the function's memory, and decoding takes a multiple of the decompressed
 * size (a JSON line's bookkeeping outweighs a short line). Records past
 * either limit are passed through undecoded.
 */
export class DecompressionBudget {
  constructor(
    public remaining: number,
    readonly perRecord = maxDecompressedBytes,
  ) {}

  /**
   * Sized to a function of `memoryMiB`: an eighth of it per invocation, a
   * sixty-fourth per record (16 MiB at 1,024 MiB; at most 64 MiB), so one
   * record's decoding stays well inside the memory whatever its format.
   */
  static forMemory(memoryMiB: number): DecompressionBudget {
    const bytes = memoryMiB * 1024 * 1024;
    return new DecompressionBudget(
      Math.floor(bytes / 8),
      Math.min(maxDecompressedBytes, Math.floor(bytes / 64)),
    );
  }
}

export type Decompressed =
  | { plain: Buffer }
  | { refused: 'undecodable' | 'decompression-cap' | 'decompression-budget'; reason: string };

/**
 * Decompresses within the per-record cap and what is left of `budget`,
 * charging the budget for the bytes produced (or, past a limit, for the
 * limit: that much was inflated before zlib stopped).
 */
export function decompressWithin(
  data: Buffer,
  compression: Compression,
  budget?: DecompressionBudget,
): Decompressed {
  if (compression === 'none') return { plain: data };
  const cap = budget?.perRecord ?? maxDecompressedBytes;
  const remaining = budget ? Math.max(0, budget.remaining) : Number.POSITIVE_INFINITY;
  const limit = Math.min(cap, remaining);
  const byBudget = limit < cap;
  if (limit === 0)
    return { refused: 'decompression-budget', reason: "the invocation's decompression budget is spent" };
  try {
    const plain = decompress(data, compression, limit);
    if (budget) budget.remaining -= plain.length;
    return { plain };
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      if (budget) budget.remaining -= limit;
      return byBudget
        ? {
            refused: 'decompression-budget',
            reason: `inflates past the invocation's remaining ${limit} bytes`,
          }
        : { refused: 'decompression-cap', reason: `inflates past ${cap} bytes` };
    }
    return {
      refused: 'undecodable',
      reason: `${compression} data does not decompress: ${(error as Error).message}`,
    };
  }
}

export function compress(data: Buffer, compression: Compression): Buffer {
  if (compression === 'none') return data;
  const options = sizedFor(data.length);
  return ownMemory(
    compression === 'gzip' ? gzipSync(data, options) : withDefaultZlibHeader(deflateSync(data, options)),
  );
}
