// How the end-to-end drivers run their steps: each one timed, its failure reported with the
// driver's line where it failed, and the run going on to the next; finish() prints the count
// and sets the exit code (0 only when every step passed).
'use strict';

function steps(script) {
  let failures = 0;
  async function step(name, fn) {
    const started = Date.now();
    try {
      await fn();
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      failures++;
      const where = e && e.stack ? e.stack.split('\n').filter((l) => l.includes(script)).slice(0, 1).join('') : '';
      console.log(`FAIL ${name} (${Date.now() - started} ms): ${e && e.constructor ? e.constructor.name : ''}: ${e && e.message}${where}`);
    }
  }
  function finish() {
    console.log(failures === 0 ? 'all steps passed' : `${failures} step(s) failed`);
    process.exitCode = failures === 0 ? 0 : 1;
  }
  return { step, finish };
}

module.exports = { steps };
