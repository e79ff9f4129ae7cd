// The pieces a CRD's schema drives, on plain objects: pruning, defaulting, the structural
// check, Ajv-backed validation worded like upstream, printer columns and version order.
import test from 'ava';
import { applyDefaults, prune, structuralCauses, unknownFieldsOf, type Schema } from '../../controller/apiserver/crd/structural-schema.js';
import { compileSchema, schemaProblems } from '../../controller/apiserver/crd/schema-validator.js';
import { parseColumnPath, printerFor } from '../../controller/apiserver/crd/printer-columns.js';
import { versionPriority } from '../../controller/apiserver/crd/registry.js';
import { validateCrd } from '../../controller/apiserver/crd/definition-rules.js';

const schema: Schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['target'],
      properties: {
        target: { type: 'string', minLength: 1 },
        keep: { type: 'integer', minimum: 1, default: 7 },
        mode: { type: 'string', enum: ['full', 'incremental'] },
        port: { 'x-kubernetes-int-or-string': true },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        hosts: { type: 'array', items: { type: 'object', properties: { name: { type: 'string', default: 'localhost' } } } },
      },
    },
    status: { type: 'object', properties: { phase: { type: 'string' } } },
  },
};

test('pruning drops unknown fields at any depth and keeps preserved and typed-map ones', (t) => {
  const obj: any = {
    apiVersion: 'lab.example.com/v1', kind: 'Backup', metadata: { name: 'a', labels: { x: 'y' } },
    junk: 1,
    spec: { target: '/x', bogus: true, extra: { anything: { goes: 1 } }, labels: { a: 'b' }, hosts: [{ name: 'h', nope: 1 }] },
  };
  t.deepEqual(unknownFieldsOf(obj, schema).sort(), ['junk', 'spec.bogus', 'spec.hosts[0].nope']);
  prune(obj, schema);
  t.deepEqual(obj, {
    apiVersion: 'lab.example.com/v1', kind: 'Backup', metadata: { name: 'a', labels: { x: 'y' } },
    spec: { target: '/x', extra: { anything: { goes: 1 } }, labels: { a: 'b' }, hosts: [{ name: 'h' }] },
  });
});

test('defaults fill absent fields, inside list items too, and never overwrite', (t) => {
  const obj: any = { spec: { target: '/x', hosts: [{}, { name: 'b' }] } };
  applyDefaults(obj, schema);
  t.is(obj.spec.keep, 7);
  t.deepEqual(obj.spec.hosts, [{ name: 'localhost' }, { name: 'b' }]);
  const kept: any = { spec: { keep: 3 } };
  applyDefaults(kept, schema);
  t.is(kept.spec.keep, 3);
});

test('validation names each field with upstream wording', (t) => {
  const validate = compileSchema(schema);
  const causes = schemaProblems(validate, { metadata: { name: 'x' }, spec: { keep: 0, mode: 'weekly', port: true } });
  const byField = Object.fromEntries(causes.map((c) => [c.field, c]));
  t.is(byField['spec.target']?.message, 'Required value');
  t.is(byField['spec.keep']?.message, 'Invalid value: 0: spec.keep in body should be greater than or equal to 1');
  t.is(byField['spec.mode']?.reason, 'FieldValueNotSupported');
  t.regex(byField['spec.mode']!.message, /supported values: "full", "incremental"/);
  t.truthy(byField['spec.port']);
  t.deepEqual(schemaProblems(validate, { spec: { target: '/x', port: 'http' } }), []);
  t.deepEqual(schemaProblems(validate, { spec: { target: '/x', port: 8080 } }), []);
  const typed = schemaProblems(validate, { spec: { target: 5 } });
  t.is(typed[0]?.reason, 'FieldValueTypeInvalid');
  t.is(typed[0]!.message, 'Invalid value: "integer": spec.target in body must be of type string: "integer"');
});

test('a schema is structural only with types everywhere and no references', (t) => {
  t.deepEqual(structuralCauses(schema, 'spec.versions[0].schema.openAPIV3Schema'), []);
  const causes = structuralCauses({ type: 'object', properties: { a: { properties: { b: { type: 'string' } } }, c: { $ref: '#/x' } } }, 'root');
  t.true(causes.some((c) => c.field === 'root.properties[a].type' && c.reason === 'FieldValueRequired'));
  t.true(causes.some((c) => c.field === 'root.properties[c].$ref' && c.reason === 'FieldValueForbidden'));
  t.true(structuralCauses({ type: 'array', items: { type: 'string' } }, 'r').some((c) => c.field === 'r.type'));
  t.true(structuralCauses({ type: 'object', properties: { l: { type: 'array' } } }, 'r').some((c) => c.field === 'r.properties[l].items'));
});

test('CRD objects are checked: name, group, one storage version, structural schemas', (t) => {
  const good = {
    metadata: { name: 'backups.lab.example.com' },
    spec: { group: 'lab.example.com', scope: 'Namespaced', names: { plural: 'backups', kind: 'Backup' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] },
  };
  t.deepEqual(validateCrd(good), []);
  const bad = structuredClone(good) as any;
  bad.metadata.name = 'backup.lab.example.com';
  bad.spec.versions.push({ name: 'v2', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { x: {} } } } });
  bad.spec.scope = 'Global';
  const fields = validateCrd(bad).map((c) => c.field);
  t.true(fields.includes('metadata.name'));
  t.true(fields.includes('spec.versions'));
  t.true(fields.includes('spec.scope'));
  t.true(fields.includes('spec.versions[1].schema.openAPIV3Schema.properties[x].type'));
});

test('printer columns follow JSON paths, and dates print as ages', (t) => {
  const printer = printerFor([
    { name: 'Target', type: 'string', jsonPath: '.spec.target' },
    { name: 'Keep', type: 'integer', jsonPath: '.spec.keep' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'First', type: 'string', jsonPath: '.spec.hosts[0].name' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ]);
  t.deepEqual(printer.columns.map((c) => c.name), ['Name', 'Target', 'Keep', 'Ready', 'First', 'Age']);
  const now = new Date('2026-01-01T00:10:00Z');
  const row = printer.print({ metadata: { name: 'n', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { target: '/x', keep: 7, hosts: [{ name: 'h1' }] }, status: { conditions: [{ type: 'Other', status: 'False' }, { type: 'Ready', status: 'True' }] } }, now);
  t.deepEqual(row.cells, ['n', '/x', 7, 'True', 'h1', '10m']);
  t.deepEqual(printer.print({ metadata: { name: 'm' } }, now).cells.slice(1, 4), [null, null, null]);
  t.deepEqual(printerFor(undefined).columns.map((c) => c.name), ['Name', 'Age']);
  t.throws(() => parseColumnPath('spec.target'));
});

test('versions are ordered as Kubernetes orders them', (t) => {
  t.deepEqual(['v1alpha1', 'v1beta1', 'v2', 'v1', 'v1beta2', 'foo'].sort(versionPriority), ['v2', 'v1', 'v1beta2', 'v1beta1', 'v1alpha1', 'foo']);
});
