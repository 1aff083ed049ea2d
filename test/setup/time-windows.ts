/** The most timestamps (ms) that fall in any window [t, t + windowMs): a rate limit's view of a log. */
export function peakInWindow(times: number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let start = 0, end = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end] < sorted[start] + windowMs) end++;
    peak = Math.max(peak, end - start);
  }
  return peak;
}
