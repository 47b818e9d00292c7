import wf from 'wavefile';
import fs from 'node:fs';
const dir='tests/fixtures/audio/';
for (const f of fs.readdirSync(dir).filter(f=>f.endsWith('.wav'))) {
  const b = new Uint8Array(fs.readFileSync(dir+f));
  try { const w = new wf.WaveFile(b); const s = w.getSamples(true, Float64Array);
    console.log(f, 'bitDepth', w.bitDepth, 'fmt', w.fmt.audioFormat, 'bits', w.fmt.bitsPerSample, 'n', s.length, Array.from(s.slice(0,3)), 'last', s[s.length-1]);
  } catch(e) { console.log(f, 'THROWS', e.constructor.name, e.message); }
}
const b = new Uint8Array(fs.readFileSync(dir+'pcm_s16_16k.wav')).slice(0, 1000);
const w = new wf.WaveFile(b); console.log('truncated s16: n', w.getSamples(true).length, 'data.chunkSize', w.data.chunkSize);
