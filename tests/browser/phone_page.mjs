// What the browser scripts share: Debian's headless chromium started by playwright-core,
// and the cellsd web page's noVNC frame once it is connected.
import { chromium } from 'playwright-core';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A persistent context in USER_DATA_DIR; every wait of its pages times out after TIMEOUT_S.
export async function launchChromium(userDataDir, timeoutS) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 1400 },
    timeout: timeoutS * 1000,
  });
}

// The page's iframe#phone (noVNC) once its frame has loaded and noVNC says "Connected".
export async function connectedPhoneFrame(page, timeoutS) {
  const iframe = await page.waitForSelector('iframe#phone');
  let frame = null;
  for (const deadline = Date.now() + timeoutS * 1000; !frame; await sleep(50)) {
    frame = await iframe.contentFrame();
    if (!frame && Date.now() > deadline) throw new Error('iframe#phone has no frame');
  }
  await frame.waitForLoadState('load');
  await frame.waitForFunction(
    () => /^Connected/.test((document.getElementById('status') || {}).textContent || ''));
  return { iframe, frame };
}
