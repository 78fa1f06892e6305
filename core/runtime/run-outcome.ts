/** How one run of an instance ended, as the runner reports it to status and telemetry. */
export interface RunOutcome {
  readonly ok: boolean;
  readonly timedOut: boolean;
  readonly durationMs: number;
  readonly error?: string;
}
