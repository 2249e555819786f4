// The cellsd web page in Debian's headless chromium, driven by playwright-core.
//
//   node novnc.mjs WEB_URL OUT_DIR [--user-data-dir DIR] [--external-switch]
//                  [--touch FX,FY] [--start-stop NAME] [--restart] [--timeout S]
//
// Opens WEB_URL (cellsd --web), waits until noVNC in the iframe #phone is connected and its
// canvas shows a picture (not all black), screenshots the canvas (OUT_DIR/1-initial.png),
// clicks the button of another running VP, waits until the picture changes, screenshots
// again (OUT_DIR/2-clicked.png). With --external-switch it then prints
// {"step":"waiting-for-external-switch"} on stdout and waits for one line on stdin (the
// caller switches the foreground some other way, e.g. `cell switch`), waits for the picture
// to change again and screenshots it (OUT_DIR/3-external.png). With --touch it then clicks
// the canvas at (FX, FY), fractions of its size, with the mouse (a touch in the VP), waits
// until the canvas shows the launcher's yellow mark there, and prints {"step":"4-touched"}.
// With --start-stop NAME it clicks NAME's stop button, waits until the list says it is
// stopped ({"step":"5-stopped"}), clicks its start button and waits until it runs
// ({"step":"6-started"}). With --restart it prints {"step":"waiting-for-restart"}, waits
// until the page has lost cellsd (noVNC's status no longer "Connected", the list's
// "unreachable" line shown: {"step":"7-lost"}), reads one line on stdin (the caller has
// started cellsd again), and waits, without reloading, until noVNC is connected again,
// the canvas shows a picture and the list a foreground VP: 8-reconnected.png.
//
// Every step prints one JSON line on stdout; OUT_DIR/summary.json has them all. Samples
// are read from the canvas' own pixels (getImageData, in framebuffer coordinates), the PNGs
// are what the browser renders. Exit status 0 when every step worked, 1 otherwise.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { connectedPhoneFrame, launchChromium, sleep } from './phone_page.mjs';

function usage() {
  process.stderr.write('usage: node novnc.mjs WEB_URL OUT_DIR [--user-data-dir DIR] ' +
                       '[--external-switch] [--touch FX,FY] [--start-stop NAME] ' +
                       '[--restart] [--timeout S]\n');
  process.exit(2);
}

const argv = process.argv.slice(2);
const positional = [];
let userDataDir = null, externalSwitch = false, timeoutS = 20, touch = null;
let startStop = null, restart = false;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--user-data-dir' && i + 1 < argv.length) userDataDir = argv[++i];
  else if (argv[i] === '--external-switch') externalSwitch = true;
  else if (argv[i] === '--touch' && i + 1 < argv.length) touch = argv[++i].split(',').map(Number);
  else if (argv[i] === '--timeout' && i + 1 < argv.length) timeoutS = Number(argv[++i]);
  else if (argv[i] === '--start-stop' && i + 1 < argv.length) startStop = argv[++i];
  else if (argv[i] === '--restart') restart = true;
  else if (argv[i].startsWith('--')) usage();
  else positional.push(argv[i]);
}
if (positional.length !== 2 || !(timeoutS > 0)) usage();
const [webUrl, outDir] = positional;
fs.mkdirSync(outDir, { recursive: true });
const ownProfile = !userDataDir;
if (ownProfile) userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cells-chromium-'));

const summary = { url: webUrl, steps: [], ok: false };
function emit(obj) {
  summary.steps.push(obj);
  process.stdout.write(JSON.stringify(obj) + '\n');
}
function writeSummary() {
  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
}

// Points of the 720x1280 framebuffer, as fractions of its size: the status bar right of
// its text, and the launcher's background low on the left, clear of its text (name and
// clock in the top third, "Cells" centred at the bottom) and of the square (middle third).
const POINTS = { bar: [0.97, 0.008], bg: [0.04, 0.8] };

// What the noVNC canvas shows: its size and the colours at POINTS, or null if no canvas.
async function canvasState(frame) {
  return frame.evaluate((points) => {
    const c = document.querySelector('#screen canvas');
    if (!c || !c.width || !c.height) return null;
    const ctx = c.getContext('2d');
    const out = { width: c.width, height: c.height, status:
                  (document.getElementById('status') || {}).textContent || '' };
    for (const [k, [fx, fy]] of Object.entries(points)) {
      const d = ctx.getImageData(Math.floor(fx * c.width), Math.floor(fy * c.height), 1, 1).data;
      out[k] = '#' + [d[0], d[1], d[2]].map((v) => v.toString(16).padStart(2, '0')).join('');
    }
    return out;
  }, POINTS);
}

// Polls until pred(state) holds for two reads in a row (a settled picture).
async function waitCanvas(frame, pred, what) {
  const deadline = Date.now() + timeoutS * 1000;
  let last = null, prev = null;
  for (;;) {
    last = await canvasState(frame).catch(() => null);
    if (last && pred(last) && prev && pred(prev) && prev.bar === last.bar && prev.bg === last.bg)
      return last;
    prev = last;
    if (Date.now() > deadline)
      throw new Error(`${what}: not after ${timeoutS}s (canvas: ${JSON.stringify(last)})`);
    await sleep(100);
  }
}

// The colour of the canvas at the point P (fractions of its size).
async function pointColour(frame, p) {
  return frame.evaluate(([fx, fy]) => {
    const c = document.querySelector('#screen canvas');
    if (!c || !c.width) return null;
    const d = c.getContext('2d').getImageData(Math.floor(fx * c.width),
                                              Math.floor(fy * c.height), 1, 1).data;
    return [d[0], d[1], d[2]];
  }, p);
}

const near = (c, want, tol) => !!c && c.every((v, i) => Math.abs(v - want[i]) <= tol);

async function waitPoint(frame, p, pred, what) {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const c = await pointColour(frame, p).catch(() => null);
    if (pred(c)) return c;
    if (Date.now() > deadline)
      throw new Error(`${what}: not after ${timeoutS}s (colour ${JSON.stringify(c)})`);
    await sleep(100);
  }
}

async function pageVps(page) {
  return page.evaluate(() => [...document.querySelectorAll('#vps button[data-vp]')].map((b) => ({
    name: b.dataset.vp, text: b.textContent, fg: b.classList.contains('fg'),
    disabled: b.disabled })));
}

// Polls until pred(the page's VP list) holds; returns the list.
async function waitVps(page, pred, what) {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const vps = await pageVps(page).catch(() => []);
    if (pred(vps)) return vps;
    if (Date.now() > deadline)
      throw new Error(`${what}: not after ${timeoutS}s: ${JSON.stringify(vps)}`);
    await sleep(100);
  }
}

async function waitFgButton(page, name) {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const vps = await pageVps(page);
    if (vps.some((v) => v.fg && v.name === name)) return vps;
    if (Date.now() > deadline)
      throw new Error(`the page's foreground button is not ${name} after ${timeoutS}s: ` +
                      JSON.stringify(vps));
    await sleep(100);
  }
}

async function shot(page, frame, file, state, extra) {
  const canvas = frame.locator('#screen canvas');
  const box = await canvas.boundingBox();
  await canvas.screenshot({ path: path.join(outDir, file), animations: 'disabled' });
  const vps = await pageVps(page);
  emit({ step: file.replace(/\.png$/, ''), png: file, canvas: state, box,
         foreground: (vps.find((v) => v.fg) || {}).name || null, vps, ...extra });
}

function readLine() {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin });
    let done = false;
    const finish = (line) => { if (!done) { done = true; rl.close(); resolve(line); } };
    rl.once('line', finish);
    rl.once('close', () => finish(null));
  });
}

let context = null;
let status = 1;
try {
  context = await launchChromium(userDataDir, timeoutS);
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(timeoutS * 1000);
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  page.on('pageerror', (e) => consoleLines.push('pageerror: ' + e.message));
  summary.console = consoleLines;

  await page.goto(webUrl, { waitUntil: 'load' });
  await page.waitForSelector('#vps button.fg');
  const { iframe, frame } = await connectedPhoneFrame(page, timeoutS);
  summary.iframe_src = await iframe.getAttribute('src');
  const black = (s) => s.bar === '#000000' && s.bg === '#000000';
  const first = await waitCanvas(frame, (s) => !black(s), 'a picture in the noVNC canvas');
  const vps0 = await pageVps(page);
  const fg0 = vps0.find((v) => v.fg);
  await shot(page, frame, '1-initial.png', first, {});

  const other = vps0.find((v) => !v.fg && !v.disabled);
  if (!other) throw new Error('no other running VP to switch to: ' + JSON.stringify(vps0));
  const t0 = Date.now();
  await page.click(`#vps button[data-vp="${other.name}"]`);
  await waitFgButton(page, other.name);
  const second = await waitCanvas(frame, (s) => s.bar !== first.bar && s.bg !== first.bg,
                                  `the picture after clicking ${other.name}`);
  await shot(page, frame, '2-clicked.png', second, { clicked: other.name, from: fg0.name,
                                                    ms: Date.now() - t0 });

  if (externalSwitch) {
    emit({ step: 'waiting-for-external-switch' });
    const line = await readLine();
    if (line === null) throw new Error('stdin closed while waiting for the external switch');
    const t1 = Date.now();
    const third = await waitCanvas(frame, (s) => s.bar !== second.bar && s.bg !== second.bg,
                                   'the picture after the external switch');
    await shot(page, frame, '3-external.png', third, { ms: Date.now() - t1 });
  }
  if (touch) {
    // The click is a touch in the foreground VP, whose launcher then draws its yellow
    // mark there: wait to see it in the canvas (noVNC sends the pointer events
    // asynchronously; closing the browser at once could lose them).
    const box = await frame.locator('#screen canvas').boundingBox();
    const x = box.x + touch[0] * box.width, y = box.y + touch[1] * box.height;
    await page.mouse.click(x, y);
    const marked = await waitPoint(frame, touch, (c) => near(c, [0xff, 0xd4, 0x00], 12),
                                   'the touch mark in the canvas');
    emit({ step: '4-touched', at: [x, y], box, colour: marked });
  }
  if (startStop) {
    const row = `#vps .row[data-row="${startStop}"]`;
    const stateIs = (st) => (vps) => vps.some((v) => v.name === startStop &&
                                                    v.text === `${startStop} (${st})`);
    await page.click(`${row} button.stop`);
    await waitVps(page, stateIs('stopped'), `${startStop} stopped`);
    emit({ step: '5-stopped', vps: await pageVps(page) });
    await page.click(`${row} button.start`);
    await waitVps(page, stateIs('running'), `${startStop} running`);
    emit({ step: '6-started', vps: await pageVps(page) });
  }
  if (restart) {
    emit({ step: 'waiting-for-restart' });
    await frame.waitForFunction(
      () => !/^Connected/.test((document.getElementById('status') || {}).textContent || ''));
    await page.waitForFunction(
      () => /unreachable/.test(document.getElementById('conn').textContent));
    emit({ step: '7-lost', status: await frame.evaluate(
      () => document.getElementById('status').textContent) });
    const line = await readLine();
    if (line === null) throw new Error('stdin closed while waiting for the restart');
    const t2 = Date.now();
    await frame.waitForFunction(
      () => /^Connected/.test((document.getElementById('status') || {}).textContent || ''));
    const back = await waitCanvas(frame, (s) => !black(s), 'a picture after the restart');
    await waitVps(page, (vps) => vps.some((v) => v.fg), 'a foreground VP after the restart');
    await shot(page, frame, '8-reconnected.png', back, { ms: Date.now() - t2 });
  }
  summary.ok = true;
  status = 0;
} catch (e) {
  summary.error = String(e && e.stack || e);
  emit({ step: 'error', error: String(e && e.message || e) });
} finally {
  if (context) await context.close().catch(() => {});
  if (ownProfile) fs.rmSync(userDataDir, { recursive: true, force: true });
  writeSummary();
}
process.exit(status);
