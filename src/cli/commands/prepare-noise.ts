/**
 * The `voxkit prepare` targets for augmentation data: `musan` (split into 5 s chunks every 3 s)
 * and `rirs` (the list of small and medium simulated rooms).
 */
import { join } from 'node:path';
import { VoxkitError } from '../../errors.js';
import { prepareMusan } from '../../data/corpora/musan-node.js';
import { prepareRirs } from '../../data/corpora/rirs-node.js';
import type { PrepareTarget } from './prepare.js';

export const NOISE_PREPARE_TARGETS: Readonly<Record<string, PrepareTarget>> = Object.freeze({
  musan: {
    description: 'MUSAN noise, music and speech, split into 5 s chunks every 3 s for training augmentation',
    async run(opts, io) {
      const result = await prepareMusan({
        root: opts.root,
        ...(opts.out === undefined ? {} : { out: opts.out }),
        ...(opts.workers === undefined ? {} : { workers: opts.workers }),
        onProgress: ({ done, total }) => {
          if (!opts.json && total >= 100 && (done % 100 === 0 || done === total)) io.stderr(`splitting MUSAN ${done}/${total}\n`);
        },
      });
      if (opts.json) {
        io.stdout(`${JSON.stringify(result)}\n`);
        return;
      }
      const { chunks } = result;
      io.stdout(`musan       ${result.musan}\n`);
      io.stdout(`split       ${result.out}\n`);
      io.stdout(`recordings  ${result.recordings} (${result.splitNow} split now, ${result.recordings - result.splitNow - result.failed.length} done before)\n`);
      io.stdout(`chunks      music ${chunks.music}, speech ${chunks.speech}, noise ${chunks.noise}\n`);
      if (result.tooShort.length) io.stdout(`too short   ${result.tooShort.length} recording(s) of 5 s or less give no chunk\n`);
      io.stdout(`next        voxkit train --augment --musan ${result.out} --rirs <rirs.txt> …\n`);
      if (result.failed.length) {
        const first = result.failed[0];
        throw new VoxkitError('E_DATA', `${result.failed.length} MUSAN recording(s) could not be read and were left out; first: ${first.message}`, {
          file: join(result.musan, first.file),
        });
      }
    },
  },
  rirs: {
    description: 'RIRS_NOISES simulated room impulse responses (small and medium rooms) for training reverberation',
    async run(opts, io) {
      const result = await prepareRirs({ root: opts.root, ...(opts.out === undefined ? {} : { out: opts.out }) });
      if (opts.json) {
        io.stdout(`${JSON.stringify(result)}\n`);
        return;
      }
      io.stdout(`rooms       ${result.simulated}\n`);
      io.stdout(`kept        ${result.kept} impulse responses (${result.rooms.map((r) => `${r} ${result.byRoom[r]}`).join(', ')})\n`);
      const left = Object.entries(result.byRoom).filter(([room]) => !result.rooms.includes(room));
      if (left.length) io.stdout(`left out    ${left.map(([room, n]) => `${room} ${n}`).join(', ')}\n`);
      io.stdout(`list        ${result.listFile}\n`);
      io.stdout(`next        voxkit train --augment --rirs ${result.listFile} --musan <musan_split> …\n`);
    },
  },
});
