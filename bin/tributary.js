#!/usr/bin/env node
// Registers the TypeScript loader so topology files (and Tributary itself) run without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
