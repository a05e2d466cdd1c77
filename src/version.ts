import { readFileSync } from 'node:fs';

/** meshprobe's own version, from the package.json shipped beside dist/ and src/. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
