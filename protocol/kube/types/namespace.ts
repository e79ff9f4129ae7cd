// core/v1 Namespace.
import type { KubeObject } from '../types.js';

export interface Namespace extends KubeObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: 'Active' | 'Terminating'; conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[] };
}
