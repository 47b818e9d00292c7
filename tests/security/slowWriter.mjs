// A process that writes like `steve export` and is interrupted in the middle: it commits first.txt, then writes
// second.bin slowly until a signal arrives. Used by atomicOutputs.test.ts. Arguments: the output folder.
import { register } from 'tsx/esm/api';

register();
const { AtomicOutput, commitOutputs, handleInterrupts, writeFileAtomic } = await import('../../src/node/atomicWrite.ts');
const folder = process.argv[2];
handleInterrupts();
await writeFileAtomic(`${folder}/first.txt`, 'new first\n');
const sidecar = await AtomicOutput.open(`${folder}/second.bin.json`);
await sidecar.write('{"new": true}\n');
const second = await AtomicOutput.open(`${folder}/second.bin`);
process.stdout.write('writing\n');
for (let i = 0; i < 600; i++) {
  await second.write(new Uint8Array(1 << 16).fill(7));
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await commitOutputs([sidecar, second]);
