/**
 * The quick-start demo as a new user meets it: it fits 80 columns (and stays readable at 60), uses
 * colour only on a terminal without NO_COLOR, shows its progress, and prints the AWS SDK's Node-version
 * notice once, at the end, in one line, instead of the SDK's 7-line warning in the middle.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DemoScreen, wrap, type ScreenStream } from '../../app/demo-screen.js';
import { SDK_WARNING_SWITCH, takeOverSdkNodeWarning } from '../../core/runtime/node-support.js';

const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));
const run = promisify(execFile);
const ESC = '\u001b[';

class FakeTerminal implements ScreenStream {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns: number,
    private readonly colours = true,
  ) {}
  write(text: string): boolean {
    this.text += text;
    return true;
  }
  hasColors(): boolean {
    return this.colours;
  }
}

const widths = (text: string): number[] =>
  text
    .split(ESC)
    .map((part, index) => (index === 0 ? part : part.replace(/^[0-9;]*[A-Za-z]/, '')))
    .join('')
    .split(/[\n\r]/)
    .map((line) => [...line].length);

test('wrap keeps every line within the width, breaks at the given characters and indents', () => {
  const datagram =
    'aws.lambda.invocations:92|c|#functionname:orders-handler,resource:orders-handler,region:us-east-1|T1796112240';
  const lines = wrap(datagram, 40, '    ', ',|');
  assert.ok(
    lines.every((line) => line.length <= 40),
    lines.join('\n'),
  );
  assert.equal(lines.join('').replace(/ {4}/g, ''), datagram);
  assert.ok(lines.slice(1).every((line) => line.startsWith('    ')));
  assert.deepEqual(wrap('a verylongwordthatcannotfit', 10), ['a', 'verylongwo', 'rdthatcann', 'otfit']);
});

test('the screen: colour and an in-place progress line on a terminal only; NO_COLOR wins; 60-80 columns', () => {
  const tty = new FakeTerminal(true, 200);
  const screen = new DemoScreen(tty, {});
  assert.equal(screen.width, 80);
  screen.heading('amazon_lambda: 59 metric names');
  screen.progress('  3/20 s   12 lines received');
  screen.progress('  4/20 s   13 lines received');
  screen.line('done');
  assert.ok(tty.text.includes(`${ESC}1m`), 'a heading is bold on a terminal');
  assert.ok(tty.text.includes(`\r${ESC}2K  4/20 s`), 'the progress line redraws in place');

  const narrow = new FakeTerminal(true, 60);
  const small = new DemoScreen(narrow, { NO_COLOR: '1' });
  assert.equal(small.width, 60);
  assert.equal(small.colour, false);
  small.list(
    'metrics: ',
    Array.from({ length: 40 }, (_, i) => `aws.lambda.metric_${i}`),
    '  ',
    3,
  );
  small.datagram(`aws.lambda.duration:1|g|#${'tag:value,'.repeat(20)}host:`);
  assert.ok(!narrow.text.includes(ESC), 'NO_COLOR: no escape codes');
  assert.ok(Math.max(...widths(narrow.text)) <= 60, narrow.text);
  assert.match(narrow.text, /… \(\+\d+\)\n/);

  const file = new FakeTerminal(false, 200);
  const logged = new DemoScreen(file, {});
  logged.progress('  5/20 s');
  logged.heading('x');
  assert.equal(logged.colour, false);
  assert.ok(!file.text.includes(ESC) && !file.text.includes('\r'));
  assert.match(file.text, /^ {2}5\/20 s\n/);
});

test("the AWS SDK's Node warning is replaced by one line below Node 22, untouched from 22 on", () => {
  const env: NodeJS.ProcessEnv = {};
  const notice = takeOverSdkNodeWarning(env, 'v20.20.2');
  assert.equal(env[SDK_WARNING_SWITCH], 'true');
  assert.match(notice ?? '', /^Node v20\.20\.2: supported by dogwatch; .*January 2027.*Node >= 22/);
  assert.equal(takeOverSdkNodeWarning({}, 'v22.1.0'), undefined);
  assert.equal(takeOverSdkNodeWarning({}, 'v24.0.0'), undefined);
  const chosen: NodeJS.ProcessEnv = { [SDK_WARNING_SWITCH]: 'false' };
  assert.equal(takeOverSdkNodeWarning(chosen, 'v20.0.0'), undefined, "a user's own choice is kept");
  assert.equal(chosen[SDK_WARNING_SWITCH], 'false');
});

test('npm start (the demo) fits 80 columns, shows progress and no SDK warning mid-output', async () => {
  const { stdout, stderr } = await run(process.execPath, [CLI, 'demo', '--seconds', '3'], {
    env: { ...process.env, NO_COLOR: '' },
  });
  const long = stdout.split('\n').filter((line) => [...line].length > 80);
  assert.deepEqual(long, [], 'lines wider than 80 columns');
  assert.ok(!stdout.includes(ESC), 'no colour when stdout is not a terminal');
  assert.match(stdout, /^ +3\/3 s +CloudWatch time \d\d:\d\dZ +[\d,]+ lines received$/m);
  for (const check of ['amazon_lambda', 'amazon_api_gateway', 'amazon_rekognition'])
    assert.match(stdout, new RegExp(`■ ${check}: \\d+ metric names`));
  // Events are events, not metric names.
  assert.doesNotMatch(stdout, /_e\{/);
  assert.doesNotMatch(`${stdout}${stderr}`, /NodeVersionSupportWarning|\(node:\d+\) Warning/);
  if (Number(process.versions.node.split('.')[0]) < 22)
    assert.match(stdout, /Note: Node v[\d.]+: supported by dogwatch/);
});
