// Choosing among equally good nodes: random-looking, so equal nodes share the load, yet
// deterministic (a hash of the pod and the node), so the same state gives the same answer.

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Index of the best score; ties go to the candidate whose hash with `seed` is lowest. */
export function pickBest(scores: Float64Array, names: readonly string[], seed: string): number {
  let best = -Infinity;
  let chosen = -1;
  let chosenHash = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s < best) continue;
    const h = fnv1a(`${seed}/${names[i]}`);
    if (s > best || h < chosenHash) {
      best = s;
      chosen = i;
      chosenHash = h;
    }
  }
  return chosen;
}
