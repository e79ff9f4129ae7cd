// The node's last desired pod set on disk, so pods keep running (and come back after a
// reboot) while the control plane is away. Written atomically and checksummed (see
// ../checked-json.ts); skipped when nothing changed. A damaged file is set aside and the
// agent waits for the controller rather than running a wrong set.
import path from 'node:path';
import type { DesiredPodsPayload } from '../../protocol/mqtt/payloads.js';
import { PayloadError, checkDesiredPods } from '../../protocol/mqtt/validate.js';
import { DamagedFile, readCheckedJson, sealJsonText, setAside, writeFileAtomically } from '../checked-json.js';

export const DESIRED_FILE = 'desired-pods.json';

export class DesiredStore {
  private lastWritten?: string;

  constructor(private readonly dataDir: string) {}

  get file(): string {
    return path.join(this.dataDir, DESIRED_FILE);
  }

  /**
   * The saved set, or undefined when there is none. Throws (having set the file aside) on a
   * damaged file or one that is not a desired set: it is checked as the MQTT payload is.
   */
  async load(): Promise<DesiredPodsPayload | undefined> {
    const parsed = await readCheckedJson(this.file);
    if (parsed === undefined) return undefined;
    let set: DesiredPodsPayload;
    try {
      set = checkDesiredPods(parsed, 'saved pods');
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      throw new DamagedFile(this.file, `does not hold a desired pod set: ${err.message}`, await setAside(this.file));
    }
    this.lastWritten = JSON.stringify(set);
    return set;
  }

  async save(p: DesiredPodsPayload): Promise<void> {
    const text = JSON.stringify(p);
    if (text === this.lastWritten) return;
    await writeFileAtomically(this.file, sealJsonText(text), 0o600); // holds secrets and tokens
    this.lastWritten = text;
  }
}
