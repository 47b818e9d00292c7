// Opens the viewer in Debian's Chromium (WebGPU on SwiftShader) and saves a screenshot, for the README and for
// looking at changes as a user would. Start the viewer (npm start), then:
//   xvfb-run -a -s "-screen 0 1400x950x24" npx tsx scripts/screenshot.ts "http://127.0.0.1:5173/#w1=3&l=1&h=2" out.png
// (headed under xvfb-run: headless Chromium's page screenshots leave the WebGPU canvas blank).
import { launchChromium } from '../src/node/chromium.ts';

const [url = 'http://127.0.0.1:5173/', out = 'screenshot.png'] = process.argv.slice(2);
const browser = await launchChromium({ width: 1400, height: 900 });
try {
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.error('[page error]', (error as Error).message));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready, { timeout: 120_000 });
  await page.evaluate(() => (window as unknown as { steve?: { idle(): Promise<void> } }).steve?.idle());
  console.log('status:', await page.$eval('#status', (e) => e.textContent));
  await page.screenshot({ path: out as `${string}.png` });
} finally {
  await browser.close();
}
