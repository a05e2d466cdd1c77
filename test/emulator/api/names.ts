// Generated names as the API server and controllers make them (k8s.io/apimachinery/pkg/util/rand:
// an alphabet without vowels and look-alike characters, so names never spell words).
import { randomInt } from 'node:crypto';

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMS[randomInt(ALPHANUMS.length)];
  return out;
}

/** rand.SafeEncodeString: maps each character of a hash onto the same alphabet. */
export function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += ALPHANUMS[text.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

/** FNV-1a 32-bit, the hash behind the pod-template-hash label. */
export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
