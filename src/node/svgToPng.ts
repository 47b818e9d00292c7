/**
 * Rasterises a figure's SVG to PNG with resvg (Rust, shipped prebuilt inside its npm package), headless and
 * without a browser.
 *
 * resvg draws text only with fonts it is given. The figures ask for DejaVu Sans, then Liberation Sans: on Debian they
 * come with the packages fonts-dejavu-core and fonts-liberation (fontconfig, which Chromium depends on, pulls in
 * one of them). We hand resvg those files directly, which is much faster than letting it scan every system font;
 * only when neither is installed does it scan the system's font folders.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { encodeRgbaPng, setPngDpi } from './png.ts';

/**
 * resvg, loaded on the first PNG: loading it (its native addon, and a process report it reads to tell glibc from
 * musl) cost ~20 ms of every `steve` call, `--help` and SVG output included (bench/README.md, run 5).
 */
let resvgModule: typeof import('@resvg/resvg-js') | undefined;
function loadResvg(): typeof import('@resvg/resvg-js') {
  resvgModule ??= createRequire(import.meta.url)('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  return resvgModule;
}

/** Font files tried in order; the first family with a file present is the figure's font. */
export const FIGURE_FONTS = [
  { family: 'DejaVu Sans', files: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'] },
  {
    family: 'Liberation Sans',
    files: ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf'],
  },
] as const;

/** Options of svgToPng. */
export interface SvgToPngOptions {
  /** Output pixels per SVG pixel (2 doubles width and height). */
  readonly scale?: number;
  /** Written into the PNG's pHYs chunk when given. */
  readonly dpi?: number;
}

/** The PNG of an SVG document at `scale`, with the DPI recorded when asked. */
export function svgToPng(svg: string, options: SvgToPngOptions = {}): Buffer {
  const fonts = FIGURE_FONTS.map((font) => ({ family: font.family, files: font.files.filter((file) => existsSync(file)) })).filter(
    (font) => font.files.length > 0,
  );
  const { Resvg } = loadResvg();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: options.scale ?? 1 },
    font: fonts.length
      ? { loadSystemFonts: false, fontFiles: fonts.flatMap((font) => font.files), defaultFontFamily: fonts[0].family, sansSerifFamily: fonts[0].family }
      : { loadSystemFonts: true },
    // Nearest-neighbour for embedded rasters, so every frame of the map stays a sharp cell.
    imageRendering: 1,
    logLevel: 'off',
  });
  const image = resvg.render();
  const pixels = image.pixels;
  // resvg's own encoder took 25-45 ms of a figure (bench/README.md, run 5); ours takes ~10 ms for a smaller file of
  // the same pixels. It writes straight RGBA, so a figure with any transparent pixel (resvg's pixels are then
  // premultiplied) is left to resvg's, which un-premultiplies them.
  const png = isOpaque(pixels) ? encodeRgbaPng(pixels, image.width, image.height) : image.asPng();
  return options.dpi === undefined ? png : setPngDpi(png, options.dpi);
}

/** Whether every RGBA pixel has alpha 255. */
function isOpaque(pixels: Uint8Array): boolean {
  for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha] !== 255) return false;
  return true;
}
