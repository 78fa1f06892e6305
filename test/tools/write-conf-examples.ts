/**
 * Regenerates conf.d/<check>.d/conf.yaml.example from each check's schema (the single source of the
 * documentation). `npm run examples`; test/unit/conf-examples.test.ts fails when a file is stale.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Container } from 'inversify';
import { builtinChecksModule } from '../../checks/index.js';
import { CheckDefinitionToken, type CheckDefinition } from '../../core/check/check.js';
import { renderConfExample } from '../../core/config/example-writer.js';
import { packageRoot } from '../../core/package-root.js';

export function builtinDefinitions(): CheckDefinition[] {
  const container = new Container();
  container.load(builtinChecksModule);
  return container.getAll<CheckDefinition>(CheckDefinitionToken);
}

export function examplePath(name: string): string {
  return join(packageRoot(), 'conf.d', `${name}.d`, 'conf.yaml.example');
}

if (process.argv[1]?.endsWith('write-conf-examples.js')) {
  for (const definition of builtinDefinitions()) {
    const path = examplePath(definition.name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, renderConfExample(definition));
    console.log(`wrote ${path}`);
  }
}
