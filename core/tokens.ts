/**
 * Service identifiers of the root container. Checks and the engine inject by these tokens with an
 * explicit @inject(TOKEN), which works with any TypeScript transpiler (no emitDecoratorMetadata).
 */
export const ClockToken = Symbol.for('dogwatch.Clock');
/** The root logger; in an instance's child container, the instance's child logger. */
export const LoggerToken = Symbol.for('dogwatch.Logger');
export const StatusRegistryToken = Symbol.for('dogwatch.StatusRegistry');
/** Folder for durable per-instance state (watermarks). */
export const StateDirToken = Symbol.for('dogwatch.StateDir');
/** dogwatch's own metrics (core/runtime/self-telemetry.ts). */
export const SelfTelemetryToken = Symbol.for('dogwatch.SelfTelemetry');
/** The process's one CursorStore (core/state/cursor-store.ts): what every source delivered. */
export const CursorStoreToken = Symbol.for('dogwatch.CursorStore');
