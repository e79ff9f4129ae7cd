// What every control loop in the controller manager exposes to the composition root.
export interface ControlLoop {
  readonly name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}
