import wf from 'wavefile';
function mk(k){
  const parts=[];
  const hdr = Buffer.alloc(12); hdr.write('RIFF',0); hdr.writeUInt32LE(0,4); hdr.write('WAVE',8); parts.push(hdr);
  for(let i=0;i<k;i++){const c=Buffer.alloc(12); c.write('LIST',0); c.writeUInt32LE(4,4); c.write('INFO',8); parts.push(c);}
  return new Uint8Array(Buffer.concat(parts));
}
for (const k of [10,15,18,20,22]) { const t=Date.now(); try { new wf.WaveFile(mk(k)); } catch(e) { } console.log(k, Date.now()-t,'ms'); }
