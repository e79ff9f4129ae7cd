/**
 * Regenerates `schemas/kubernetes-definitions.json` from the installed kubernetes-models
 * packages (`npm run schemas`). Run it after upgrading them and review the diff: the
 * file is what the API server validates against and publishes as OpenAPI.
 */
import { writeFileSync } from 'node:fs';
import { readAllDefinitions, sourcePackages } from './schema-declarations.js';
import { definitionsFileUrl } from '../controller/apiserver/validation/schema-catalog.js';

const definitions = readAllDefinitions();
writeFileSync(definitionsFileUrl(), `${JSON.stringify({ source: sourcePackages(), definitions }, null, 1)}\n`);
console.log(`${Object.keys(definitions).length} definitions from ${sourcePackages()}`);
