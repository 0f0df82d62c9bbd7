/**
 * A photo as the data set's images are: grey, a light object on a dark
 * background, cropped to the object and fitted, centred, into a square of
 * the data's size (Fashion-MNIST's garments fill their 28x28 along the longer
 * side). Plain arithmetic on pixels, no Node or DOM, so the web page
 * (app/page.ts) and Node run the same function.
 */

/** Pixels as a canvas gives them: `width * height` RGBA quadruples, 0-255, row by row. */
export interface RgbaImage {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

/** A pixel this much brighter than the background (0-255, after inversion) belongs to the object. */
const OBJECT_LEVEL = 16;

/** The image's grey levels over a white backdrop (a transparent pixel is background, as on a page). */
function grey(image: RgbaImage): Float32Array {
  const { data, width, height } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`an image must be at least 1x1 pixels, got ${width}x${height}`);
  }
  if (data.length !== width * height * 4) {
    throw new RangeError(`a ${width}x${height} RGBA image has ${width * height * 4} values, got ${data.length}`);
  }
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const alpha = data[4 * i + 3] / 255;
    const luma = 0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2];
    out[i] = alpha * luma + (1 - alpha) * 255;
  }
  return out;
}

/** The median grey level of the image's outermost pixels: its background. */
function borderLevel(pixels: Float32Array, width: number, height: number): number {
  const border: number[] = [];
  for (let x = 0; x < width; x++) border.push(pixels[x], pixels[(height - 1) * width + x]);
  for (let y = 1; y < height - 1; y++) border.push(pixels[y * width], pixels[y * width + width - 1]);
  border.sort((a, b) => a - b);
  return border[Math.floor(border.length / 2)];
}

/**
 * `image` as one `size` x `size` grey image of 0-255, light object on dark.
 * A light background is inverted; the background level becomes 0 and the
 * brightest pixel 255; the object (what stands out from the background) is
 * cropped and scaled, keeping its proportions, until its longer side fills
 * the square, then centred. An image already of the data's form (size x size,
 * dark background) is kept as it is, pixel for pixel.
 */
export function prepareImage(image: RgbaImage, size = 28): Uint8Array {
  const { width, height } = image;
  let pixels = grey(image);
  const background = borderLevel(pixels, width, height);
  const inverted = background > 127;
  if (inverted) pixels = pixels.map((v) => 255 - v);
  if (!inverted && width === size && height === size) return Uint8Array.from(pixels, (v) => Math.round(v));
  const floor = inverted ? 255 - background : background;
  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  let brightest = floor;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixels[y * width + x];
      brightest = Math.max(brightest, v);
      if (v - floor < OBJECT_LEVEL) continue;
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
      left = Math.min(left, x);
      right = Math.max(right, x);
    }
  }
  // Nothing stands out (a blank image): the whole frame, all dark.
  if (bottom < 0) return new Uint8Array(size * size);
  const boxWidth = right - left + 1;
  const boxHeight = bottom - top + 1;
  const scale = size / Math.max(boxWidth, boxHeight);
  const outWidth = Math.max(1, Math.round(boxWidth * scale));
  const outHeight = Math.max(1, Math.round(boxHeight * scale));
  const offsetX = Math.round((size - outWidth) / 2);
  const offsetY = Math.round((size - outHeight) / 2);
  const stretch = 255 / Math.max(1, brightest - floor);
  const out = new Uint8Array(size * size);
  // Each output pixel is the mean of the source pixels it covers (area averaging), so a large photo
  // shrinks without aliasing, and a small one grows as blocks.
  for (let oy = 0; oy < outHeight; oy++) {
    const y0 = top + (oy * boxHeight) / outHeight;
    const y1 = top + ((oy + 1) * boxHeight) / outHeight;
    for (let ox = 0; ox < outWidth; ox++) {
      const x0 = left + (ox * boxWidth) / outWidth;
      const x1 = left + ((ox + 1) * boxWidth) / outWidth;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const h = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const w = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += w * h * pixels[y * width + x];
          area += w * h;
        }
      }
      const v = (sum / area - floor) * stretch;
      out[(offsetY + oy) * size + offsetX + ox] = Math.round(Math.min(255, Math.max(0, v)));
    }
  }
  return out;
}
