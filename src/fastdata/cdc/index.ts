/** CDC adapters: every source format becomes one ChangeEvent (see change-event.ts). */
export { isSkip } from './change-event.js';
export type {
  AdapterInput,
  AdapterResult,
  CdcAdapter,
  ChangeEvent,
  ChangeOperation,
  ChangePosition,
  Row,
  SkipReason,
} from './change-event.js';
export { debezium } from './debezium.js';
export type { DebeziumOptions } from './debezium.js';
export { goldenGate } from './golden-gate.js';
export type { GoldenGateOptions } from './golden-gate.js';
export { basic, db2 } from './basic.js';
export { customAdapter } from './custom.js';
export type { CustomAdapterFunction, PsAdapterOutput, RtuAdapterOutput } from './custom.js';
