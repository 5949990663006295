// Where Temporal is, for the worker and the CLI alike: @temporalio/envconfig's profiles (a
// TOML file, TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE) and environment variables, so address,
// namespace, TLS (CA, client certificate and key, server name) and API key are configured as
// for every other Temporal tool. Nothing configured means the CLI starts its own dev server.
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';

/** The variables envconfig reads (besides the profile file). */
export const TEMPORAL_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;

export type TemporalConnectionOptions = ClientConnectConfig['connectionOptions'];

/** The configured Temporal service, or undefined when none is (no address anywhere). */
export function configuredTemporal(): ClientConnectConfig | undefined {
  const cfg = loadClientConnectConfig();
  return cfg.connectionOptions.address ? cfg : undefined;
}
