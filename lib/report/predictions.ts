/** Most likely class per image, from `[N, numClasses]` probabilities in one flat row-major array. */
export function argMaxRows(probs: ArrayLike<number>, numClasses: number): Int32Array {
  const labels = new Int32Array(probs.length / numClasses);
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (probs[i * numClasses + k] > probs[i * numClasses + best]) best = k;
    labels[i] = best;
  }
  return labels;
}
