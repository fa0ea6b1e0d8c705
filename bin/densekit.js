#!/usr/bin/env node
// The compiled CLI (`npm run build` or scripts/setup.sh produce dist/).
import '../dist/src/cli/run.js';
