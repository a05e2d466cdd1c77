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

const REVIEWS = new Set([
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authorization.k8s.io/subjectaccessreviews',
  'authentication.k8s.io/selfsubjectreviews',
  'authentication.k8s.io/tokenreviews',
]);

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

  /**
   * The entries that changed the cluster: succeeded (2xx), not dry runs, and not reviews (a
   * SelfSubjectAccessReview is a create that stores nothing).
   */
  writes(): AuditEntry[] {
    return this.list.filter(
      (e) => e.code >= 200 && e.code < 300 && !e.dryRun && !REVIEWS.has(`${e.apiGroup}/${e.resource}`),
    );
  }

  clear(): void {
    this.list.length = 0;
  }
}
