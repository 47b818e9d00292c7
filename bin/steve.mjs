#!/usr/bin/env node
// The `steve` command. The CLI is TypeScript run through tsx, so there is no build step to go stale.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
