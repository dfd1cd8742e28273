// `deno task demo:train` (the worked example) runs to the end against its spawned fake: the loss
// falls, and the sampling loop finds the answers likelier with the trained weights.

import assert from "node:assert/strict";

Deno.test({
  name: "demo:train trains, then samples the trained weights beside the base model",
  ignore: Deno.permissions === undefined, // Deno only: it runs the script with Deno
}, async () => {
  const script = new URL("../scripts/demo_train.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const losses = [...text.matchAll(/loss per token (\d+\.\d+)/g)].map((m) => Number(m[1]));
  assert.ok(losses.length >= 2 && losses.at(-1)! < losses[0]!, `losses ${losses}`);
  const base = [...text.matchAll(/base model: .*\(answer logprob\/token (-?\d+\.\d+)\)/g)]
    .map((m) => Number(m[1]));
  const trained = [...text.matchAll(/trained: {4}.*\(answer logprob\/token (-?\d+\.\d+)\)/g)]
    .map((m) => Number(m[1]));
  assert.equal(base.length, 3);
  assert.equal(trained.length, 3);
  trained.forEach((lp, i) => assert.ok(lp > base[i]!, `${lp} > ${base[i]}`));
});
