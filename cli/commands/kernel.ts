import { parse } from "../args.js";
import type { Command } from "../io.js";
// Aliased: biome's React hook rule flags any call to a `use*` function outside components.
import { paint, useColor as colorEnabled } from "../io.js";
import { InputError } from "../../src/errors/index.js";
import { KERNEL_DISPLAY_NAME, KERNEL_NAME, installKernel, kernelStatus } from "../../src/notebook/kernel.js";

const usage = "quixlab kernel install|status [--json]";

const command: Command = {
  summary: "install or show the tslab Jupyter kernel that runs the notebooks",
  help: `usage: ${usage}

  install   write the '${KERNEL_NAME}' kernel spec ("${KERNEL_DISPLAY_NAME}") into your Jupyter data dir
            (jupyter --data-dir)/kernels, running this project's node_modules/.bin/tslab. Idempotent; re-run it
            after moving the project or changing node.
  status    show the kernel Jupyter resolves for '${KERNEL_NAME}' and whether it is this project's.

Then open a notebook: 'jupyter lab notebooks/ohlc.ipynb' (or jupyter notebook), or open the .ipynb in VS Code
(Jupyter extension) and pick "${KERNEL_DISPLAY_NAME}" as the kernel.

options:
  --json    print the result as one JSON object

exit codes: 0 ok, 1 status: kernel missing or stale, 2 Jupyter not installed or bad usage`,
  async run(argv, io) {
    const color = colorEnabled(io.stdout, io.env);
    const { values, positionals } = parse(argv, { json: { type: "boolean" } }, usage);
    const [action, ...extra] = positionals;
    if ((action !== "install" && action !== "status") || extra.length > 0) {
      throw new InputError(action ? `unknown kernel action '${[action, ...extra].join(" ")}'` : "missing action", {
        remedy: `usage: ${usage}`,
      });
    }
    if (action === "install") {
      const res = await installKernel({ env: io.env });
      if (values.json) io.stdout.write(`${JSON.stringify({ kernel: KERNEL_NAME, ...res })}\n`);
      else {
        const verb = res.changed ? "installed" : "already up to date:";
        io.stdout.write(`${paint(color, 32, "✓")} ${verb} kernel '${KERNEL_NAME}' (${KERNEL_DISPLAY_NAME}) → ${res.file}\n`);
        io.stdout.write(`  runs: ${res.spec.argv.join(" ")}\n`);
      }
      return 0;
    }
    const st = await kernelStatus({ env: io.env });
    if (values.json) io.stdout.write(`${JSON.stringify({ kernel: KERNEL_NAME, ...st })}\n`);
    else if (st.current) {
      io.stdout.write(`${paint(color, 32, "✓")} kernel '${KERNEL_NAME}' is installed in ${st.resourceDir}\n`);
      io.stdout.write(`  runs: ${st.argv?.join(" ")}\n`);
    } else {
      io.stdout.write(`${paint(color, 31, "✗")} ${st.problem}\n`);
      if (st.argv) io.stdout.write(`  runs:     ${st.argv.join(" ")}\n`);
      io.stdout.write(`  expected: ${st.expectedArgv.join(" ")}\n  fix: quixlab kernel install\n`);
    }
    return st.current ? 0 : 1;
  },
};

export default command;
