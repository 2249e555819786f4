// Input through the cellsd web page: noVNC in Debian's headless chromium, driven by
// playwright-core, as a person at a browser would tap and type.
//
//   node novnc_input.mjs WEB_URL [--user-data-dir DIR] [--timeout S]
//
// Opens WEB_URL (cellsd --web), waits until noVNC in the iframe #phone is connected and
// its canvas shows a picture, and prints {"step":"ready","canvas":{...}}. Then reads one
// JSON command a line on stdin and prints {"step":"done","n":N} after each (or
// {"step":"error",...} and exits 1):
//
//   {"click": [X, Y]}     a mouse click at the canvas' pixel (X, Y): the panel's
//                         coordinates, status bar included (noVNC scales the canvas)
//   {"type": "TEXT"}      TEXT typed on the keyboard, into the focused canvas
//   {"press": "KEY"}      one key (playwright's names: "Enter", "Backspace", ...)
//
// End of input closes the browser; exit status 0.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { connectedPhoneFrame, launchChromium, sleep } from './phone_page.mjs';

const argv = process.argv.slice(2);
const positional = [];
let userDataDir = null, timeoutS = 20;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--user-data-dir' && i + 1 < argv.length) userDataDir = argv[++i];
  else if (argv[i] === '--timeout' && i + 1 < argv.length) timeoutS = Number(argv[++i]);
  else positional.push(argv[i]);
}
if (positional.length !== 1 || !(timeoutS > 0)) {
  process.stderr.write('usage: node novnc_input.mjs WEB_URL [--user-data-dir DIR] [--timeout S]\n');
  process.exit(2);
}
const [webUrl] = positional;
const ownProfile = !userDataDir;
if (ownProfile) userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cells-chromium-'));
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// The canvas' size and whether it shows anything but black (a few points sampled).
async function canvasState(frame) {
  return frame.evaluate(() => {
    const c = document.querySelector('#screen canvas');
    if (!c || !c.width || !c.height) return null;
    const ctx = c.getContext('2d');
    let lit = false;
    for (const [fx, fy] of [[0.5, 0.01], [0.5, 0.5], [0.1, 0.9]]) {
      const d = ctx.getImageData(Math.floor(fx * c.width), Math.floor(fy * c.height), 1, 1).data;
      lit = lit || d[0] || d[1] || d[2];
    }
    return { width: c.width, height: c.height, lit: !!lit };
  });
}

let context = null;
let status = 1;
try {
  context = await launchChromium(userDataDir, timeoutS);
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(timeoutS * 1000);
  await page.goto(webUrl, { waitUntil: 'load' });
  const { frame } = await connectedPhoneFrame(page, timeoutS);
  let state = null;
  for (const deadline = Date.now() + timeoutS * 1000; !(state && state.lit); await sleep(100)) {
    state = await canvasState(frame).catch(() => null);
    if (Date.now() > deadline) throw new Error('no picture in the canvas: ' + JSON.stringify(state));
  }
  const canvas = frame.locator('#screen canvas');
  emit({ step: 'ready', canvas: state, box: await canvas.boundingBox() });

  const rl = readline.createInterface({ input: process.stdin });
  let n = 0;
  for await (const line of rl) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line);
    if (cmd.click) {
      // The box is re-read: the page may have laid itself out again.
      const box = await canvas.boundingBox();
      const [px, py] = cmd.click;
      await page.mouse.click(box.x + (px + 0.5) * box.width / state.width,
                             box.y + (py + 0.5) * box.height / state.height);
    } else if (typeof cmd.type === 'string') {
      await page.keyboard.type(cmd.type, { delay: 20 });
    } else if (typeof cmd.press === 'string') {
      await page.keyboard.press(cmd.press);
    } else {
      throw new Error('unknown command: ' + line);
    }
    emit({ step: 'done', n: ++n });
  }
  status = 0;
} catch (e) {
  emit({ step: 'error', error: String(e && e.message || e) });
} finally {
  if (context) await context.close().catch(() => {});
  if (ownProfile) fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(status);
