// The encoder is a real ffmpeg; killing or freezing it must not stop the frames for long.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { Mp3Output, type TaggedFrame } from '../src/outputs/mp3-output.ts';

async function feed(out: Mp3Output, seconds: number): Promise<void> {
  const chunk = new Float32Array(4800 * 2).map((_, i) => 0.2 * Math.sin(i / 20));
  for (let i = 0; i < seconds * 10; i++) {
    out.write(chunk);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const [how, signal] of [
  ['killed', 'SIGKILL'],
  ['frozen', 'SIGSTOP'],
] as const) {
  test(`an encoder that is ${how} is replaced and the frames go on`, { timeout: 60_000 }, async (t) => {
    const frames: TaggedFrame[] = [];
    const out = new Mp3Output(48000, 2, 128, (f) => frames.push(f), pino({ level: 'silent' }));
    t.after(() => out.close());
    out.start();
    await feed(out, 1.5);
    const pid = out.encoderPid();
    assert.ok(pid);
    process.kill(pid, signal);
    const before = frames.length;
    await feed(out, signal === 'SIGSTOP' ? 6 : 2);
    // The watchdog killed the frozen one; nothing of it may remain.
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    assert.equal(out.restarts, 1);
    assert.notEqual(out.encoderPid(), pid);
    assert.ok(frames.length - before > 20, `only ${frames.length - before} frames after the ${how} encoder`);
  });
}
