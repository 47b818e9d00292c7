/**
 * Debian's Chromium with WebGPU on SwiftShader, for the browser tests, the browser benchmarks and screenshots.
 * One place for the flags, which were found by trial on these machines: without the Vulkan/SwiftShader ones there is
 * no adapter, and without the network ones Chromium keeps trying to reach hosts this machine cannot.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, LaunchOptions } from 'puppeteer-core';
import puppeteer from 'puppeteer-core';

/** Debian's Chromium (puppeteer's own download cannot work offline); CHROMIUM overrides it. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  // WebGPU on SwiftShader's software Vulkan, which Debian's chromium package ships
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
  '--disable-vulkan-surface',
  // as root, and with no network to reach
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // performance.memory unquantised, for the benchmarks
  '--enable-precise-memory-info',
];

/**
 * Launches Chromium with a fresh profile: headed when a display is there (under xvfb-run), so that page screenshots
 * include the WebGPU canvas; headless otherwise (the canvas still renders and toDataURL works).
 */
export function launchChromium(options: { width: number; height: number } & Omit<LaunchOptions, 'args'>): Promise<Browser> {
  const { width, height, ...rest } = options;
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: !process.env.DISPLAY,
    args: [...CHROMIUM_ARGS, `--window-size=${width + 20},${height + 50}`],
    defaultViewport: { width, height, deviceScaleFactor: 1 },
    ...rest,
    // A fresh profile each time unless the caller brings one (and deletes it afterwards).
    userDataDir: rest.userDataDir ?? mkdtempSync(join(tmpdir(), 'steve-chromium-')),
  });
}
