// The kind registry holds together: one entry per kind and resource, the protobuf
// tables the modules bring name only messages that exist, every kind has a schema, and
// what routing serves is exactly what the modules declare.
import test from 'ava';
import { KINDS, kindNamed, kindOfApiVersion, kindOfResource } from '../../controller/apiserver/kinds/index.js';
import { kindApiVersion } from '../../controller/apiserver/kinds/kind-definition.js';
import { MESSAGES } from '../../controller/apiserver/protobuf/messages/index.js';
import { RESOURCES } from '../../controller/apiserver/resources.js';
import { unknownFields } from '../../controller/apiserver/validation/index.js';

const SCALARS = new Set(['string', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'bytes', 'Quantity', 'IntOrString', 'Time', 'MicroTime', 'RawExtension', 'FieldsV1']);

test('each kind, resource and short name is declared once', (t) => {
  const seen = (key: (k: (typeof KINDS)[number]) => string[]) => {
    const all = KINDS.flatMap(key);
    return all.filter((x, i) => all.indexOf(x) !== i);
  };
  t.deepEqual(seen((k) => [`${k.group}/${k.kind}`]), []);
  t.deepEqual(seen((k) => [`${k.group}/${k.resource}`]), []);
  t.deepEqual(seen((k) => (k.shortNames ?? []).map((s) => `${k.group}/${s}`)), []);
  for (const k of KINDS) {
    t.is(kindNamed(k.group, k.kind), k);
    t.is(kindOfResource(k.group, k.resource), k);
    t.is(kindOfApiVersion(kindApiVersion(k), k.kind), k);
  }
  t.is(kindNamed('core', 'Pod')?.resource, 'pods');
});

test('served resources are the declared kinds, in declaration order', (t) => {
  t.deepEqual(RESOURCES.map((r) => `${r.group}/${r.version}/${r.resource}/${r.kind}/${r.namespaced}`), KINDS.map((k) => `${k.group}/${k.version}/${k.resource}/${k.kind}/${k.scope === 'Namespaced'}`));
  for (const r of RESOURCES) {
    const k = kindNamed(r.group, r.kind)!;
    t.is(r.statusSubresource, k.strategy.statusSubresource, r.kind);
    t.is(r.hasGeneration, k.strategy.generation, r.kind);
    t.is(r.statusSubresource, (k.subresources ?? []).includes('status'), `${r.kind}: a status strategy goes with a status subresource`);
  }
});

test('protobuf tables name only messages that exist', (t) => {
  for (const k of KINDS) if (k.protobuf) t.truthy(MESSAGES[k.protobuf.message], `${k.kind}: ${k.protobuf.message}`);
  const missing: string[] = [];
  for (const [name, table] of Object.entries(MESSAGES)) {
    for (const [num, [json, type]] of Object.entries(table)) {
      const target = type.startsWith('map:') ? type.slice(4) : type;
      if (!SCALARS.has(target) && !MESSAGES[target]) missing.push(`${name}.${json} (${num}): ${target}`);
    }
  }
  t.deepEqual(missing, []);
});

test('every kind has a schema: unknown fields are found', (t) => {
  for (const k of KINDS) {
    t.deepEqual(unknownFields(k.group, k.version, k.kind, { metadata: { name: 'x' }, notAField: 1 }), ['notAField'], k.kind);
  }
});
