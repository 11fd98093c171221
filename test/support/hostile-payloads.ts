/**
 * What a producer who can write to the input stream sends to break or fool
 * the enricher, and how a consumer reads what comes out: `JSON.parse`,
 * protobufjs, and the checks that make a first-wins or merging decoder read
 * the same (no repeated key in any JSON object, one `resource` field per
 * protobuf `Resource*`).
 */
import { gzipSync } from 'node:zlib';
import type { Service, Team } from '#shared/catalog/entity-schemas';
import type { SourceAttributes } from '#shared/ownership/ownership-context';
import type { CatalogSnapshot } from '#shared/ownership/resolve-ownership';
import { compileSelectors } from '#shared/ownership/selector-matcher';
import type { OwnershipSource } from '#shared/telemetry/enrich-records';
import { delimited, kplAggregate, otlpProto, sdkTraceRequest, varint } from './telemetry-payloads.ts';

/** `checkout` owned by `payments`, and every `/aws/lambda/checkout-*` log group with it. */
export function fixedCatalog(): OwnershipSource {
  const services: Record<string, Service> = {
    checkout: {
      id: 'checkout',
      team: 'payments',
      selectors: [{ attribute: 'aws.log.group.names', match: 'prefix', value: '/aws/lambda/checkout-' }],
    } as Service,
  };
  const teams: Record<string, Team> = { payments: { id: 'payments', name: 'Payments', contacts: {} } };
  const matcher = compileSelectors([{ id: 'checkout', selectors: services.checkout?.selectors ?? [] }]);
  const snapshot: CatalogSnapshot = {
    service: (id) => services[id],
    team: (id) => teams[id],
    repository: () => undefined,
    environment: () => undefined,
    selectors: () => matcher,
  };
  return { prefetch: async (_: SourceAttributes[]) => undefined, snapshot: () => snapshot };
}

const kv = (key: string, value: unknown) => ({ key, value });
const str = (s: string) => ({ stringValue: s });
const otlpJson = (resource: unknown) =>
  Buffer.from(JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [] }] }));

/** Records that crashed the whole batch: each must come out unchanged, alone. */
export function crashingRecords(service = 'checkout'): Record<string, Buffer> {
  const nestedKpl = () => {
    let data = sdkTraceRequest({ 'service.name': service }, 1);
    for (let depth = 0; depth < 2_000; depth++) data = kplAggregate([{ partitionKey: 'k', data }]);
    return data;
  };
  const cloudWatch = (fields: Record<string, unknown>) =>
    gzipSync(
      JSON.stringify({
        messageType: 'DATA_MESSAGE',
        owner: '123456789012',
        logStream: 's',
        subscriptionFilters: [],
        logEvents: [{ id: '1', timestamp: 1, message: 'm' }],
        ...fields,
      }),
    );
  return {
    'resource.attributes [null]': otlpJson({ attributes: [null] }),
    'resource.attributes an object': otlpJson({ attributes: { key: 'service.name' } }),
    'resource.attributes a number': otlpJson({ attributes: 5 }),
    'arrayValue.values not an array': otlpJson({
      attributes: [kv('service.name', str(service)), kv('tags', { arrayValue: { values: 'x' } })],
    }),
    'resource null': otlpJson(null),
    'two signals in one request': Buffer.from('{"resourceSpans":[],"resourceLogs":[{"resource":{}}]}'),
    'CloudWatch logGroup missing': cloudWatch({ 'ownership.team': 'x' }),
    'CloudWatch logGroup a number': cloudWatch({ logGroup: 5, 'ownership.team': 'x' }),
    'CloudWatch logGroup an object': cloudWatch({ logGroup: { a: 1 } }),
    'KPL nested 2,000 deep': nestedKpl(),
  };
}

/**
 * Spoofs: a record that makes a consumer read `ownership.team` other than
 * Portolan's. Each is a legitimate `checkout` record with a second, hidden
 * place for the producer's value.
 */
export function spoofingRecords(name = 'checkout'): Record<string, Buffer> {
  const service = kv('service.name', str(name));
  const evil = kv('ownership.team', str('evil'));
  const json = JSON.stringify;
  return {
    '"resourc\\u0065" after resource': Buffer.from(
      `{"resourceSpans":[{"resource":{"attributes":[${json(service)}]},"resourc\\u0065":{"attributes":[${json(service)},${json(evil)}]},"scopeSpans":[]}]}`,
    ),
    '"attribute\\u0073" after attributes': Buffer.from(
      `{"resourceSpans":[{"resource":{"attributes":[${json(service)}],"attribute\\u0073":[${json(service)},${json(evil)}]},"scopeSpans":[]}]}`,
    ),
    '"resource\\u0053pans" after resourceSpans': Buffer.from(
      `{"resourceSpans":[{"resource":{"attributes":[${json(service)}]}}],"resource\\u0053pans":[{"resource":{"attributes":[${json(service)},${json(evil)}]}}]}`,
    ),
    'two plain "attributes", the producer first': Buffer.from(
      `{"resourceSpans":[{"resource":{"attributes":[${json(service)},${json(evil)}],"attributes":[${json(service)}]}}]}`,
    ),
    '"ownership\\u002eteam" in a CloudWatch envelope': gzipSync(
      `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/lambda/${name}-prod","logStream":"s","subscriptionFilters":[],"logEvents":[],"ownership\\u002eteam":"evil"}`,
    ),
    'two resource fields in a protobuf ResourceSpans': protobufWithSecondResource(name),
    '"key" twice in a resource attribute, ownership.team first': Buffer.from(
      `{"resourceSpans":[{"resource":{"attributes":[${json(service)},{"key":"ownership.team","key":"x","value":{"stringValue":"evil"}}]}}]}`,
    ),
  };
}

/**
 * A real SDK request with a second resource attribute whose key is
 * `own\x80ership.team`: Buffer decodes the stray byte to U+FFFD, protobufjs
 * reading a Uint8Array drops it and finds `ownership.team`.
 */
export function protobufStrayByteKey(): Buffer {
  const request = otlpProto.traces.fromObject({
    resourceSpans: [
      {
        resource: {
          attributes: [kv('service.name', str('checkout')), kv('own\u0000ership.team', str('evil'))],
        },
      },
    ],
  });
  const bytes = Buffer.from(otlpProto.traces.encode(request).finish());
  bytes[bytes.indexOf(0)] = 0x80;
  return bytes;
}

/**
 * `"logGrou\u0070"`: Portolan must resolve the log group a consumer reads,
 * not another one (here the consumer reads a group nobody owns).
 */
export const escapedLogGroup = (service = 'checkout') =>
  gzipSync(
    `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/lambda/${service}-prod","logGrou\\u0070":"/aws/lambda/rogue","logStream":"s","subscriptionFilters":[],"logEvents":[]}`,
  );

const keyValue = (key: string, value: string) =>
  delimited(
    1,
    Buffer.concat([delimited(1, Buffer.from(key)), delimited(2, delimited(1, Buffer.from(value)))]),
  );

/** A real SDK request whose `ResourceSpans` gains a second `resource` holding `ownership.team=evil`. */
function protobufWithSecondResource(service: string): Buffer {
  const request = sdkTraceRequest({ 'service.name': service }, 1);
  const slots = protobufFields(request);
  const [first] = slots;
  if (!first) throw new Error('no ResourceSpans');
  const body = Buffer.concat([
    request.subarray(first.valueStart, first.valueEnd),
    delimited(1, keyValue('ownership.team', 'evil')),
  ]);
  return delimited(1, body);
}

/** A real SDK request whose `ResourceSpans` carries a group-encoded unknown field (field 15). */
export function protobufWithGroup(): Buffer {
  const request = sdkTraceRequest({ 'service.name': 'checkout' }, 1);
  const [first] = protobufFields(request);
  if (!first) throw new Error('no ResourceSpans');
  const group = Buffer.concat([
    varint((15 << 3) | 3),
    varint((1 << 3) | 0),
    varint(7),
    varint((15 << 3) | 4),
  ]);
  return delimited(1, Buffer.concat([request.subarray(first.valueStart, first.valueEnd), group]));
}

/** The fields of a protobuf message (a group's tags are stepped over, its fields read as siblings: enough here). */
export function protobufFields(buf: Buffer, start = 0, end = buf.length) {
  const fields: { field: number; wireType: number; valueStart: number; valueEnd: number }[] = [];
  let pos = start;
  const readVarint = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = buf[pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (pos < end) {
    const tag = readVarint();
    const wireType = tag & 7;
    if (wireType === 2) {
      const length = readVarint();
      fields.push({ field: tag >>> 3, wireType, valueStart: pos, valueEnd: pos + length });
      pos += length;
    } else if (wireType === 0) {
      readVarint();
      fields.push({ field: tag >>> 3, wireType, valueStart: pos, valueEnd: pos });
    } else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType !== 3 && wireType !== 4) throw new Error(`wire type ${wireType} in a test helper`);
  }
  return fields;
}

/**
 * `ownership.team` as each decoder reads an OTLP protobuf traces request: what
 * protobufjs decodes, and what a merging decoder lists (the attributes of
 * every `resource` field of each `ResourceSpans`).
 */
export function protobufOwnership(data: Uint8Array) {
  const buf = Buffer.from(data);
  const teams = (input: Uint8Array) => {
    const decoded = otlpProto.traces.toObject(otlpProto.traces.decode(input)) as {
      resourceSpans: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] } }[];
    };
    return decoded.resourceSpans.map((rs) =>
      (rs.resource?.attributes ?? [])
        .filter((a) => a.key === 'ownership.team')
        .map((a) => a.value.stringValue),
    );
  };
  // From a plain Uint8Array, as the AWS SDK hands a record's data over, protobufjs decodes UTF-8
  // itself and may read other keys than from a Buffer: where it decodes, that reading counts.
  let protobufjs = teams(buf);
  try {
    protobufjs = teams(new Uint8Array(buf));
  } catch {
    // It refuses what the Buffer reader took: that reading stands.
  }
  const merging = protobufFields(buf).map((rs) =>
    protobufFields(buf, rs.valueStart, rs.valueEnd)
      .filter((f) => f.field === 1)
      .flatMap((resource) =>
        protobufFields(buf, resource.valueStart, resource.valueEnd)
          .filter((f) => f.field === 1)
          .map((attribute) => {
            const [key, value] = protobufFields(buf, attribute.valueStart, attribute.valueEnd);
            const text = (f: typeof key) => (f ? buf.toString('utf8', f.valueStart, f.valueEnd) : '');
            const inner = value ? protobufFields(buf, value.valueStart, value.valueEnd)[0] : undefined;
            return { key: text(key), value: text(inner) };
          }),
      )
      .filter((a) => a.key === 'ownership.team')
      .map((a) => a.value),
  );
  return { protobufjs, merging };
}

/**
 * Paths of JSON objects in `text` that repeat a key (as a parser decodes
 * keys): where first-wins and last-wins decoders read different values.
 */
export function repeatedKeys(text: string): string[] {
  const found: string[] = [];
  let pos = 0;
  const space = () => {
    while (/\s/.test(text[pos] ?? '')) pos++;
  };
  const string = () => {
    const start = pos++;
    while (text[pos] !== '"') pos += text[pos] === '\\' ? 2 : 1;
    pos++;
    return JSON.parse(text.slice(start, pos)) as string;
  };
  const object = (path: string) => {
    pos++;
    const keys = new Set<string>();
    space();
    if (text[pos] === '}') {
      pos++;
      return;
    }
    for (;;) {
      space();
      const key = string();
      if (keys.has(key)) found.push(`${path}.${key}`);
      keys.add(key);
      space();
      pos++; // :
      value(`${path}.${key}`);
      space();
      if (text[pos++] === '}') return;
    }
  };
  const array = (path: string) => {
    pos++;
    space();
    if (text[pos] === ']') {
      pos++;
      return;
    }
    for (let i = 0; ; i++) {
      value(`${path}[${i}]`);
      space();
      if (text[pos++] === ']') return;
    }
  };
  const value = (path: string): void => {
    space();
    const c = text[pos];
    if (c === '{') object(path);
    else if (c === '[') array(path);
    else if (c === '"') string();
    else while (pos < text.length && !/[,\]}\s]/.test(text[pos] as string)) pos++;
  };
  value('$');
  return found;
}

/** Every `ownership.team` value a JSON consumer can find, at any depth, under any spelling. */
export function jsonOwnership(text: string): { lastWins: unknown; repeated: string[] } {
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const teams: unknown[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.key === 'ownership.team') teams.push((o.value as { stringValue?: unknown })?.stringValue);
      for (const [k, x] of Object.entries(o)) {
        if (k === 'ownership.team') teams.push(x);
        walk(x);
      }
    }
  };
  walk(parsed);
  return { lastWins: teams, repeated: repeatedKeys(text) };
}
