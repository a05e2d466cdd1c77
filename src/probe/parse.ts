// Splits the probe script's output into one record per target.

export interface ProbeRecord {
  body: string;
  httpCode: number | undefined;
  curlExit: number | undefined;
  /** curl's own message, e.g. "Recv failure: Connection reset by peer". */
  curlError: string | undefined;
}

const CURL_ERROR = /curl: \((\d+)\) (.*)$/;

export function parseProbeOutput(stdout: string, nonce: string, count: number): Array<ProbeRecord | undefined> {
  const records: Array<ProbeRecord | undefined> = new Array(count).fill(undefined);
  const marker = new RegExp(`^@@${nonce} (\\d+) (begin|http|exit)(?: (\\d+))?$`);
  let current: { index: number; body: string[]; httpCode?: number; curlError?: string } | undefined;
  for (const line of stdout.split('\n')) {
    const m = marker.exec(line);
    if (m) {
      const index = Number(m[1]);
      if (m[2] === 'begin') current = { index, body: [] };
      else if (current && current.index === index && m[2] === 'http') current.httpCode = Number(m[3]);
      else if (current && current.index === index && m[2] === 'exit' && index < count) {
        records[index] = { body: trimFraming(current.body).join('\n'), httpCode: current.httpCode, curlExit: Number(m[3]), curlError: current.curlError };
        current = undefined;
      }
      continue;
    }
    if (!current) continue;
    const err = CURL_ERROR.exec(line);
    if (err) {
      current.curlError = err[2];
      const before = line.slice(0, err.index);
      if (before) current.body.push(before);
    } else current.body.push(line);
  }
  return records;
}

/** The -w trailer starts with a newline, and the exit marker with another: drop the blank lines they leave. */
function trimFraming(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1] === '') end--;
  return lines.slice(0, end);
}
