// For each line of the file argv[2] (one JSON text per line, as Herald serialized it), checks
// that JSON.stringify(JSON.parse(line)) === line: the property EKDSend's receivers rely on.
// Prints each mismatch; exit 0 when none.
import { readFileSync } from "node:fs";
const lines = readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.length > 0);
let bad = 0;
for (const line of lines) {
  const again = JSON.stringify(JSON.parse(line));
  if (again !== line) {
    bad++;
    if (bad <= 20) console.log(`herald: ${line}\njs:     ${again}`);
  }
}
console.log(`${lines.length} texts, ${bad} differ`);
process.exit(bad === 0 ? 0 : 1);
