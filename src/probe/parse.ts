// Splits the probe script's output into one record per target: each body is followed by a trailer
// `@@NONCE INDEX http CODE exit CODE err MESSAGE`.

export interface ProbeRecord {
  body: string;
  httpCode: number | undefined;
  curlExit: number | undefined;
  /** curl's own message, e.g. "Recv failure: Connection reset by peer". */
  curlError: string | undefined;
}

export function parseProbeOutput(stdout: string, nonce: string, count: number): Array<ProbeRecord | undefined> {
  const records: Array<ProbeRecord | undefined> = new Array(count).fill(undefined);
  const trailer = new RegExp(`^@@${nonce} (\\d+) http (\\d{3}) exit (\\d+) err ?(.*)$`);
  let body: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = trailer.exec(line);
    if (!m) {
      body.push(line);
      continue;
    }
    const index = Number(m[1]);
    // The trailer starts with a newline of its own: the body is everything before that one.
    if (body.at(-1) === '') body.pop();
    if (index < count)
      records[index] = {
        body: body.join('\n'),
        httpCode: Number(m[2]),
        curlExit: Number(m[3]),
        curlError: m[4] || undefined,
      };
    body = [];
  }
  return records;
}

/** Whether the output has any trailer at all: a curl without the write-out variables writes none. */
export function hasTrailers(stdout: string, nonce: string): boolean {
  return stdout.includes(`@@${nonce} `) && new RegExp(`^@@${nonce} \\d+ http \\d{3} exit \\d+`, 'm').test(stdout);
}
