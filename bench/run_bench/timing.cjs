// Timing helpers shared by the Node benchmark drivers.
'use strict';

// Milliseconds since `t0` (a process.hrtime.bigint()).
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

// The p-th percentile (nearest rank) of `v`.
const pct = (v, p) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))];
};

// Runs `fn` n times in a row; the duration of each, in ms.
async function timed(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(ms(t0));
  }
  return out;
}

module.exports = { ms, pct, timed };
