/**
 * The scan's fast paths (keys compared as bytes unless they hold an escape or
 * a byte outside ASCII, values skipped by a byte-class table) read what a
 * JSON parser reads, on requests whose keys are written with and without
 * escapes and whose values are arbitrary JSON.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scanJsonRequest } from '#shared/telemetry/json-scan';
import { otlpListKeys } from '#shared/telemetry/otlp-json';

const runs = Number(process.env.FUZZ_RUNS ?? 300);

/** `text` as a JSON string, each character escaped as `\uXXXX` where `escape` says so. */
function spelled(text: string, escaped: boolean[]): string {
  let out = '"';
  for (const [i, ch] of [...text].entries()) {
    const plain = JSON.stringify(ch).slice(1, -1);
    out += escaped[i % Math.max(1, escaped.length)]
      ? [...ch].map((_, k) => `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`).join('')
      : plain;
  }
  return `${out}"`;
}

/** An object written with `keys` spelled by `spell`, values as JSON.stringify writes them. */
const objectText = (entries: [string, string][], spell: (key: string) => string) =>
  `{${entries.map(([key, value]) => `${spell(key)}:${value}`).join(',')}}`;

const value = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v));
const key = fc.oneof(
  fc.constantFrom('resource', 'attributes', 'scopeSpans', 'key', 'value', 'resourc', 'attributez'),
  fc.string({ maxLength: 6 }),
);
const attribute = fc.record({ key: fc.string({ maxLength: 8 }), value: fc.string({ maxLength: 8 }) });
const element = fc.record({
  attributes: fc.array(attribute, { maxLength: 3 }),
  resourceExtra: fc.array(fc.tuple(key, value), { maxLength: 2 }),
  envelopeExtra: fc.array(fc.tuple(key, value), { maxLength: 2 }),
});

describe('scanJsonRequest reads keys and skips values as a JSON parser does', { timeout: 120_000 }, () => {
  it('finds each resource attributes array JSON.parse finds, keys escaped or not', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...otlpListKeys),
        fc.array(element, { minLength: 1, maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        fc.constantFrom('', ' ', '\n  '),
        (listKey, elements, escapes, space) => {
          const spell = (k: string) => spelled(k, escapes);
          const envelopes = elements.map((e) => {
            const attributes = `[${space}${e.attributes
              .map((a) =>
                objectText(
                  [
                    ['key', JSON.stringify(a.key)],
                    ['value', JSON.stringify({ stringValue: a.value })],
                  ],
                  spell,
                ),
              )
              .join(`,${space}`)}${space}]`;
            const resource = objectText([...e.resourceExtra, ['attributes', attributes]], spell);
            return objectText([...e.envelopeExtra, ['resource', resource]], spell);
          });
          const text = Buffer.from(`{${space}${spell(listKey)}:${space}[${envelopes.join(',')}]${space}}`);
          const parsed = JSON.parse(text.toString()) as Record<
            string,
            { resource: { attributes: unknown } }[]
          >;
          const scanned = scanJsonRequest(text, otlpListKeys);
          assert.ok(scanned, 'the scan accepts what JSON.parse accepts');
          assert.equal(scanned.listKey, listKey);
          // An extra key that reads as `resource` or `attributes` repeats it: flagged, as a parser keeps only one.
          const repeats = elements.some(
            (e) =>
              e.envelopeExtra.some(([k]) => k === 'resource') ||
              e.resourceExtra.some(([k]) => k === 'attributes'),
          );
          assert.equal(scanned.duplicateKeys, repeats);
          if (repeats) return;
          assert.equal(scanned.complete, true);
          assert.deepEqual(
            scanned.resources.map((r) => r.attributes),
            (parsed[listKey] ?? []).map((e) => e.resource.attributes),
          );
          for (const r of scanned.resources) assert.equal(text[r.at], 0x5d);
        },
      ),
      { numRuns: runs },
    );
  });

  it('refuses a skipped value holding what JSON allows nowhere outside strings', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom('//c\n', '/*c*/', "'x'", 'NaN', 'undefined', '#', '\u00a0'),
        (inner, junk) => {
          const text = Buffer.from(`{"resourceSpans":[],"other":[${JSON.stringify(inner)},${junk}]}`);
          assert.equal(scanJsonRequest(text, otlpListKeys), undefined);
        },
      ),
      { numRuns: runs },
    );
  });
});
