// Opens the viewer in Debian's Chromium (WebGPU on SwiftShader) and saves a screenshot, for the README and for
// looking at changes: start the viewer (npm start), then
//   xvfb-run -a -s "-screen 0 1400x950x24" node scripts/screenshot.mjs "http://127.0.0.1:5173/#w1=3&l=1&h=2" out.png
import puppeteer from 'puppeteer-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url = 'http://127.0.0.1:5173/', out = '/tmp/viewer.png', wait = '60000'] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium',
  headless: !process.env.DISPLAY,
  args: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader', '--disable-vulkan-surface',
    '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    `--user-data-dir=${mkdtempSync(join(tmpdir(), 'steve-chrome-'))}`, '--window-size=1400,950'],
  defaultViewport: { width: 1400, height: 900 },
});
const page = await browser.newPage();
page.on('console', (m) => console.log('[page]', m.type(), m.text()));
page.on('pageerror', (e) => console.log('[pageerror]', e.message));
await page.goto(url);
await page.waitForFunction(() => document.body.dataset.ready, { timeout: Number(wait) });
await page.evaluate(() => window.steve?.idle());
console.log('status:', await page.$eval('#status', (e) => e.textContent));
await page.screenshot({ path: out });
await browser.close();
