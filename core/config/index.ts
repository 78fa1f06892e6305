/** conf.d and daemon settings: everything between the files a user writes and validated, typed config. */
export { ConfigError, ConfigProblem, formatKeyPath, type KeyPath } from './config-problem.js';
export { loadConfd, type ConfdLoadResult, type LoadConfdOptions } from './confd-loader.js';
export {
  daemonFileSchema,
  loadDaemonSettings,
  type DaemonFlags,
  type DaemonSettings,
  type DogStatsDSettings,
  type LoadDaemonSettingsOptions,
} from './daemon-settings.js';
export {
  CONFIG_FILE_SETTING,
  DAEMON_SETTINGS,
  DEFAULT_DATAGRAM_BYTES,
  type DaemonFile,
  type DaemonSettingKey,
} from './daemon-settings-table.js';
export {
  daemonFlagOptions,
  daemonSettingsMarkdownTable,
  type DaemonFlagOption,
} from './daemon-settings-docs.js';
export { type SecretBackendSettings } from './secret-backend-settings.js';
export { parseDogStatsDUrl, type DogStatsDTarget } from './dogstatsd-address.js';
export { closestMatch, levenshtein } from '../messages/did-you-mean.js';
export { substituteEnv, type Environment } from './env-substitution.js';
export { parseExampleOptionNames, renderConfExample, type ExampleOptionNames } from './example-writer.js';
export { canonicalJson, configHash, instanceId } from './instance-id.js';
export { parseListenAddress, type ListenAddress } from './listen-address.js';
export type { LoadedInstance } from './loaded-instance.js';
export { isSecretKeyName, MASK, maskSecrets, type MaskedInstance } from './mask-secrets.js';
export {
  buildInstanceSchema,
  RESERVED_INSTANCE_KEYS,
  reservedInstanceShape,
  type ReservedInstanceOptions,
} from './reserved-keys.js';
export {
  CommandSecretResolver,
  SecretBackendError,
  secretHandleOf,
  secretResolverFor,
  type SecretResolution,
  type SecretResolver,
} from './secret-resolver.js';
