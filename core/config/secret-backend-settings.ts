/**
 * The secret backend, as the Datadog Agent's secret_backend_* settings (declared with the other daemon
 * settings in daemon-settings-table.ts).
 */
export interface SecretBackendSettings {
  readonly command: string;
  readonly arguments: readonly string[];
  readonly timeoutSeconds: number;
  /** The Agent's secret_backend_command_allow_group_exec_perm: the group may read and run the file. */
  readonly allowGroupExec: boolean;
}

/** The Agent's default secret_backend_timeout. */
export const DEFAULT_SECRET_BACKEND_TIMEOUT_SECONDS = 30;
