// One measured number, as the benchmark harness prints it.
export interface Metric {
  metric: string;
  value: number;
  unit: string;
  /** The target, when there is one. */
  goal?: { op: '>=' | '<='; value: number };
  note?: string;
}
