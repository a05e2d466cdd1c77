// A record of every request that changes the cluster (and every exec), so a test can prove what a
// run wrote and, above all, that a run against a shared cluster left nothing behind it did not own.
import { appendFileSync } from 'node:fs';

export interface AuditEntry {
  time: string;
  verb: 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
  user: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The HTTP status answered. */
  code: number;
  dryRun?: boolean;
  requestURI: string;
  userAgent?: string;
}

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export class AuditLog {
  private readonly list: AuditEntry[] = [];

  constructor(private readonly file?: string) {}

  record(entry: AuditEntry): void {
    this.list.push(entry);
    // Synchronous so that the file is complete the moment a response is sent; entries are small.
    if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }

  /** All entries so far, oldest first (a copy). */
  entries(): AuditEntry[] {
    return [...this.list];
  }

  /** The entries that succeeded (2xx) and were not dry runs: what actually changed the cluster. */
  writes(): AuditEntry[] {
    return this.list.filter((e) => e.code >= 200 && e.code < 300 && !e.dryRun);
  }

  clear(): void {
    this.list.length = 0;
  }
}
