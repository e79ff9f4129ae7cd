// core/v1 Secret, the fields read from it.
import type { KubeObject } from '../types.js';

export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  immutable?: boolean;
}
