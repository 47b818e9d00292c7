// Opens the viewer in Debian's Chromium (WebGPU on SwiftShader) and saves screenshots, for the README and for
// looking at changes as a user would. Start the viewer (npm start), then one view at one size:
//   xvfb-run -a -s "-screen 0 1920x1080x24" npx tsx scripts/screenshot.ts "http://127.0.0.1:5173/#words=0:3&layer=1&head=2" out.png
// or several views at several window sizes, each saved as <folder>/<name>-<width>x<height>.png:
//   xvfb-run -a -s "-screen 0 1920x1080x24" npx tsx scripts/screenshot.ts --base http://127.0.0.1:5173/ \
//     --sizes 1024x700,1400x900,1920x1080 --out shots map="" heads="view=heads" pooled="view=pooled"
// (headed under xvfb-run: headless Chromium's page screenshots leave the WebGPU canvas blank).
// --zoom F zooms every view by F about the middle of its first map before the screenshot (as the mouse wheel does).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '../src/node/chromium.ts';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: screenshot.ts [URL [out.png]] | --base URL [--sizes WxH,...] [--out DIR] [--zoom F] name=hash ...');
  process.exit(0);
}
const option = (name: string) => {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const [, value] = args.splice(index, 2);
  return value;
};
const base = option('--base');
const sizes = (option('--sizes') ?? '1400x900').split(',').map((size) => {
  const match = /^(\d+)x(\d+)$/.exec(size);
  if (!match) throw new Error(`--sizes takes WxH,WxH,..., got "${size}"`);
  return { width: Number(match[1]), height: Number(match[2]) };
});
const folder = option('--out') ?? '.';
const zoom = Number(option('--zoom') ?? 1);
if (!(zoom >= 1)) throw new Error('--zoom takes a factor >= 1');
// Without --base: the old form, one URL and one file.
const shots = base
  ? args.map((arg) => {
      const [name, hash = ''] = arg.split(/=(.*)/s);
      return { url: `${base}${hash ? `#${hash}` : ''}`, file: (size: string) => join(folder, `${name}-${size}.png`) };
    })
  : [{ url: args[0] ?? 'http://127.0.0.1:5173/', file: () => args[1] ?? 'screenshot.png' }];
mkdirSync(folder, { recursive: true });

for (const { width, height } of sizes) {
  const browser = await launchChromium({ width, height });
  try {
    for (const shot of shots) {
      const page = await browser.newPage();
      await page.setViewport({ width, height });
      page.on('pageerror', (error) => console.error('[page error]', (error as Error).message));
      await page.goto(shot.url);
      await page.waitForFunction(() => document.body.dataset.ready, { timeout: 180_000 });
      await page.evaluate(() => (window as unknown as { steve?: { idle(): Promise<void> } }).steve?.idle());
      if (zoom > 1) {
        await page.evaluate(async (factor) => {
          type Handle = { viewer: { cells: readonly { rect: { x: number; y: number; width: number; height: number } }[]; zoomAt(f: number, x: number, y: number): void }; idle(): Promise<void> };
          const steve = (window as unknown as { steve: Handle }).steve;
          const rect = steve.viewer.cells[0]?.rect;
          if (rect) steve.viewer.zoomAt(factor, rect.x + rect.width / 2, rect.y + rect.height / 2);
          await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
          await steve.idle();
        }, zoom);
      }
      const path = shot.file(`${width}x${height}`);
      console.log(path, 'status:', await page.$eval('#status', (e) => e.textContent), '| note:', await page.$eval('#display-note', (e) => e.textContent));
      await page.screenshot({ path: path as `${string}.png` });
      await page.close();
    }
  } finally {
    await browser.close();
  }
}
