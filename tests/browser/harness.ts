/**
 * Browser tests: the demo served by Vite, opened in Debian's Chromium through puppeteer-core, with WebGPU on
 * SwiftShader. Headed under Xvfb when a display is available (scripts/test.sh runs the suite under xvfb-run), so
 * screenshots include the WebGPU canvas; headless otherwise (the canvas still renders, toDataURL still works).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import type { ViteDevServer } from 'vite';
import { createServer } from 'vite';
import { launchChromium } from '../../src/node/chromium.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS = join(ROOT, 'tests/artifacts');
export interface BrowserSession {
  server: ViteDevServer;
  browser: Browser;
  url: string;
  close(): Promise<void>;
}

export async function startBrowserSession(): Promise<BrowserSession> {
  const server = await createServer({ configFile: join(ROOT, 'vite.config.ts'), server: { host: '127.0.0.1', port: 5400 + Math.floor(Math.random() * 500) }, logLevel: 'error' });
  await server.listen();
  const url = server.resolvedUrls!.local[0];
  const browser = await launchChromium({ width: 1400, height: 900 });
  return {
    server,
    browser,
    url,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Opens the viewer (optionally with a URL hash) and waits until its first maps are on screen. */
export async function openViewer(session: BrowserSession, hash = ''): Promise<{ page: Page; errors: string[] }> {
  const page = await session.browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push((error as Error).message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/favicon/.test(message.location().url ?? '')) errors.push(message.text());
  });
  // Any WebGPU validation error fails the test (webgpu-utils' example-inject does the same).
  await page.evaluateOnNewDocument(() => {
    const original = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor) {
      const device = await original.call(this, descriptor);
      device.addEventListener('uncapturederror', (event) => console.error(`uncaptured WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`));
      return device;
    };
  });
  await page.goto(session.url + hash);
  await page.waitForFunction(() => document.body.dataset.ready, { timeout: 120_000 });
  await idle(page);
  return { page, errors };
}

export function idle(page: Page): Promise<void> {
  return page.evaluate(() => (window as unknown as { steve: { idle(): Promise<void> } }).steve.idle());
}

/** RGBA of the map canvas at CSS pixel (x, y), read through toDataURL as a user's screenshot would show it. */
export async function canvasPixels(page: Page, points: [number, number][]): Promise<number[][]> {
  return page.evaluate(async (points) => {
    const canvas = document.getElementById('map-canvas') as HTMLCanvasElement;
    const image = new Image();
    image.src = canvas.toDataURL('image/png');
    await image.decode();
    const scratch = document.createElement('canvas');
    scratch.width = image.width;
    scratch.height = image.height;
    const context = scratch.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const scale = canvas.width / canvas.clientWidth;
    return points.map(([x, y]) => Array.from(context.getImageData(Math.floor(x * scale), Math.floor(y * scale), 1, 1).data));
  }, points);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) as `${string}.png` });
}

/** Replaces AudioContext with one that records what would be played: (offset, duration) in seconds. */
export async function recordPlayback(page: Page) {
  await page.evaluateOnNewDocument(() => {
    const played: [number, number][] = [];
    (window as unknown as { played: [number, number][] }).played = played;
    class RecordingContext {
      state = 'running';
      currentTime = 0;
      outputLatency = 0;
      destination = {};
      createBuffer(_channels: number, length: number) {
        const data = new Float32Array(length);
        return { getChannelData: () => data };
      }
      createBufferSource() {
        return { buffer: null, onended: null, connect() {}, disconnect() {}, stop() {}, start: (_when: number, offset: number, duration: number) => played.push([offset, duration]) };
      }
      async resume() {}
      async close() {}
    }
    (window as unknown as { AudioContext: unknown }).AudioContext = RecordingContext;
  });
}
