// `-o yaml`: the same meshprobe/v1 document as `-o json`, for readers who diff YAML.
import { stringify } from 'yaml';
import type { ReportDocument } from './document.js';

export function renderYaml(doc: ReportDocument): string {
  // The JSON round trip drops `undefined` fields exactly as `-o json` does; without
  // aliasDuplicateObjects a shared object (a reason step) would come out as a YAML anchor.
  return stringify(JSON.parse(JSON.stringify(doc)), { aliasDuplicateObjects: false, lineWidth: 0 });
}
