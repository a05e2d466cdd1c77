// What each exec failure a real API server reports comes to: the Statuses on channel 3 and the answers to a
// refused upgrade, verbatim as Kubernetes 1.32 writes them (the emulator's exec-status presets produce the
// same bytes; test/emulator/exec-status.test.ts asserts them on the wire).
import { describe, expect, it } from 'vitest';
import { exitCodeOf, refusalFailure, statusFailure } from '../../src/kube/exec-failure.js';

const at = { namespace: 'test1', name: 'sleep-6b9f8d7c4-x2x8q', container: 'sleep' };
const internal = (cause: string) => ({
  metadata: {},
  status: 'Failure',
  message: `Internal error occurred: ${cause}`,
  reason: 'InternalError',
  details: { causes: [{ message: cause }] },
  code: 500,
});

describe('exit codes on channel 3', () => {
  it('reads Success as 0 and NonZeroExitCode from its ExitCode cause', () => {
    expect(exitCodeOf({ metadata: {}, status: 'Success' })).toBe(0);
    expect(
      exitCodeOf({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        message: 'command terminated with non-zero exit code: command terminated with exit code 137',
        details: { causes: [{ reason: 'ExitCode', message: '137' }] },
      }),
    ).toBe(137);
    expect(exitCodeOf(internal('unable to upgrade connection: pod does not exist'))).toBeUndefined();
  });
});

describe('a Status on channel 3 without an exit code', () => {
  it.each([
    [
      'the kubelet cannot be dialled',
      'error sending request: Post "https://172.18.0.2:10250/exec/...": dial tcp 172.18.0.2:10250: connect: connection refused',
    ],
    [
      'the dial times out',
      'error sending request: Post "https://172.18.0.2:10250/exec/...": dial tcp 172.18.0.2:10250: i/o timeout',
    ],
    ['the container is restarting', 'unable to upgrade connection: container not found ("sleep")'],
  ])('%s: transient, worth another try', (_what, cause) => {
    const e = statusFailure(internal(cause), at);
    expect(e.kind).toBe('transient');
    expect(e.message).toBe(`exec in test1/sleep-6b9f8d7c4-x2x8q failed: Internal error occurred: ${cause}`);
    expect(e.status).toMatchObject({ code: 500, reason: 'InternalError' });
  });

  it('ServiceUnavailable and a reasonless 503 are transient', () => {
    expect(statusFailure({ status: 'Failure', reason: 'ServiceUnavailable', code: 503, message: 'x' }, at).kind).toBe(
      'transient',
    );
    expect(statusFailure({ status: 'Failure', code: 503, message: 'error dialing backend: EOF' }, at).kind).toBe(
      'transient',
    );
  });

  it('the pod is gone: "pod does not exist" wrapped as InternalError by the translator, or a NotFound', () => {
    expect(statusFailure(internal('unable to upgrade connection: pod does not exist'), at).kind).toBe('gone');
    expect(
      statusFailure({ status: 'Failure', reason: 'NotFound', code: 404, message: 'pods "sleep-x" not found' }, at).kind,
    ).toBe('gone');
  });

  it('a command the runtime cannot start: no retry', () => {
    const e = statusFailure(
      internal(
        'error executing command in container: failed to exec in container: failed to start exec "ab12": OCI runtime exec failed: exec failed: unable to start container process: exec: "sh": executable file not found in $PATH: unknown',
      ),
      at,
    );
    expect(e.kind).toBe('command');
    expect(e.message).toContain('executable file not found');
  });

  it('Forbidden after the upgrade names the permission', () => {
    const e = statusFailure({ status: 'Failure', reason: 'Forbidden', code: 403, message: 'denied' }, at);
    expect(e.kind).toBe('command');
    expect(e.message).toMatch(/check pods\/exec permissions/);
  });
});

describe('a refused upgrade, with the body client-node drops', () => {
  it('400 for a container the pod lacks: a configuration error carrying the server message', () => {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'container curl is not valid for pod sleep-6b9f8d7c4-x2x8q',
      reason: 'BadRequest',
      code: 400,
    });
    const e = refusalFailure(400, body, { ...at, container: 'curl' });
    expect(e.kind).toBe('config');
    expect(e.status?.message).toBe('container curl is not valid for pod sleep-6b9f8d7c4-x2x8q');
    expect(e.message).toContain('container curl is not valid for pod sleep-6b9f8d7c4-x2x8q');
  });

  it("404 is gone; the v4 kubelet's plain-text 500 is transient and keeps its text", () => {
    expect(refusalFailure(404, '{"kind":"Status","reason":"NotFound","code":404}', at).kind).toBe('gone');
    expect(refusalFailure(404, 'pod does not exist', at).kind).toBe('gone');
    const e = refusalFailure(500, 'container not found ("sleep")', at);
    expect(e.kind).toBe('transient');
    expect(e.message).toBe('exec upgrade to test1/sleep-6b9f8d7c4-x2x8q refused: 500: container not found ("sleep")');
  });

  it('401/403 are not retried and say which permission', () => {
    const e = refusalFailure(403, '{"kind":"Status","message":"pods \\"x\\" is forbidden","code":403}', at);
    expect(e.kind).toBe('command');
    expect(e.message).toMatch(/refused \(403\): pods "x" is forbidden: check pods\/exec permissions/);
  });
});
