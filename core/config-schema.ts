/**
 * The one configuration schema for both sides (§4.2). Each leaf declares its type, default and
 * documentation; the loader derives validation, environment names (ARES_ + upper-cased path) and the
 * README table from this table, so the three cannot drift apart.
 */
export type SettingType = 'string' | 'integer' | 'number' | 'boolean';

export interface SettingSpec {
  type: SettingType;
  default?: string | number | boolean;
  /** Allowed values for strings. */
  enum?: readonly string[];
  min?: number;
  max?: number;
  /** `url`: must parse as a URL with one of `schemes`. */
  schemes?: readonly string[];
  doc: string;
  /** Never printed or logged. */
  secret?: boolean;
}

export type SchemaNode = { [key: string]: SchemaNode | SettingSpec };

export function isSetting(node: SchemaNode | SettingSpec): node is SettingSpec {
  return typeof (node as SettingSpec).type === 'string' && typeof (node as SettingSpec).doc === 'string';
}

export const CONFIG_SCHEMA = {
  log: {
    level: {
      type: 'string',
      default: 'info',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      doc: 'pino log level (JSON lines on stdout)',
    },
  },
  central: {
    host: { type: 'string', default: '127.0.0.1', doc: 'address the HTTP API listens on' },
    port: { type: 'integer', default: 8080, min: 0, max: 65535, doc: 'HTTP API port (0 = any free port)' },
    tls_cert: { type: 'string', doc: 'PEM certificate chain file; with tls_key, central serves HTTPS' },
    tls_key: { type: 'string', doc: 'PEM private key file for tls_cert', secret: true },
    allow_insecure_http: {
      type: 'boolean',
      default: false,
      doc: 'serve plain HTTP on a non-loopback address (only behind a TLS-terminating reverse proxy)',
    },
    trust_proxy: {
      type: 'boolean',
      default: false,
      doc: 'take the client address from X-Forwarded-For (set when behind a reverse proxy)',
    },
    mqtt_port: {
      type: 'integer',
      default: 8883,
      min: 0,
      max: 65535,
      doc: 'MQTT over TLS port (mutual TLS for devices)',
    },
    mqtt_url: {
      type: 'string',
      schemes: ['mqtts', 'mqtt'],
      doc: 'external Mosquitto (dynamic-security plugin) as mqtts://user:password@host:port, the login central administers it with; unset = embedded broker',
      secret: true,
    },
    mqtt_device_url: {
      type: 'string',
      schemes: ['mqtts'],
      doc: 'with mqtt_url: the external broker listener hubs connect to with their certificates (use_identity_as_username)',
    },
    mqtt_ca_file: {
      type: 'string',
      doc: "with mqtt_url: PEM CA bundle that signs the external broker's certificate; default central's own CA",
    },
    redis_url: {
      type: 'string',
      schemes: ['redis', 'rediss'],
      doc: 'shared state in Redis; unset = in memory (one instance)',
    },
    redis_prefix: {
      type: 'string',
      default: 'ares:',
      doc: 'prefix of every Redis key central writes (separates deployments, or test runs, sharing one Redis)',
    },
    database: {
      type: 'string',
      doc: 'sqlite:<path> or postgres://…; default sqlite:<data_dir>/central.db',
      secret: true,
    },
    data_dir: { type: 'string', default: './data/central', doc: 'database, CA key, JWT key, mail outbox' },
    public_url: { type: 'string', schemes: ['http', 'https'], doc: 'URL devices and apps use to reach the API' },
    retention_days: { type: 'integer', default: 365, min: 1, max: 36500, doc: 'raw telemetry retention' },
    smtp_url: {
      type: 'string',
      schemes: ['smtp', 'smtps'],
      doc: 'SMTP server for password-reset mail; unset = .eml files in <data_dir>/outbox/',
      secret: true,
    },
    mail_from: { type: 'string', default: 'Ares <no-reply@ares.invalid>', doc: 'From address of mail central sends' },
    jwt_ttl_s: { type: 'integer', default: 3600, min: 60, max: 2592000, doc: 'access-token lifetime in seconds' },
    jwt_key_file: {
      type: 'string',
      doc: 'HS256 key file shared by all central instances; default <data_dir>/jwt.key (created on first start)',
    },
    metrics_token: { type: 'string', doc: 'bearer token required by GET /metrics; unset = open', secret: true },
    body_limit_kb: { type: 'integer', default: 1024, min: 1, max: 65536, doc: 'largest request body accepted' },
    login_max_failures: {
      type: 'integer',
      default: 5,
      min: 1,
      max: 1000,
      doc: 'failed logins per account (and 4× that per address) before throttling for login_lockout_s',
    },
    login_lockout_s: { type: 'integer', default: 900, min: 1, max: 86400, doc: 'login throttle window' },
    presence_timeout_s: {
      type: 'integer',
      default: 90,
      min: 5,
      max: 86400,
      doc: 'a connected hub silent this long (no heartbeat, state or result) shows as TIMEOUT to its apps; hubs send a heartbeat every 30 s',
    },
    alert_escalation_s: {
      type: 'integer',
      default: 120,
      min: 10,
      max: 86400,
      doc: 'a fall alert nobody has acknowledged or cancelled this long is sent again to every member of the hub',
    },
    alert_escalation_max: {
      type: 'integer',
      default: 5,
      min: 0,
      max: 100,
      doc: 'how many times an unacknowledged fall alert is sent again (0 = never), alert_escalation_s apart',
    },
    hub_offline_alert_s: {
      type: 'integer',
      default: 300,
      min: 30,
      max: 604800,
      doc: 'a hub with fall detection (an imu or radar component) that central has not heard from this long raises a detection-down alert; more than hub.components_poll_s',
    },
    webhook_max_attempts: {
      type: 'integer',
      default: 15,
      min: 1,
      max: 100,
      doc: 'deliveries of one webhook or mail notification before it is marked failed',
    },
    webhook_retry_s: {
      type: 'integer',
      default: 5,
      min: 1,
      max: 3600,
      doc: 'first retry delay of a failed notification; it doubles each time (with jitter), at most an hour',
    },
    webhook_timeout_ms: {
      type: 'integer',
      default: 10000,
      min: 100,
      max: 120000,
      doc: 'how long one webhook delivery may take',
    },
    webhook_allow_private: {
      type: 'boolean',
      default: false,
      doc: 'allow webhook URLs on loopback or private networks (a receiver on your own LAN); off, so a user cannot make central call its own internal services',
    },
    auth_cache_ms: {
      type: 'integer',
      default: 5000,
      min: 0,
      max: 60000,
      doc: 'how long an instance reuses a looked-up user and roles; another instance’s role change or password reset is seen within this (0 = look up on every request)',
    },
  },
  hub: {
    state_dir: {
      type: 'string',
      default: '/var/lib/ares-hub',
      doc: 'identity, credentials, buffer.db, component cache',
    },
    host_root: { type: 'string', default: '/', doc: 'every host path (/proc, /sys, /etc) is read under this root' },
    hardware_variant: { type: 'string', default: 'Standard', doc: 'product SKU (not detectable)' },
    central_url: { type: 'string', schemes: ['http', 'https'], doc: 'central API URL (required once provisioned)' },
    components_poll_s: { type: 'integer', default: 30, min: 1, max: 86400, doc: 'component-list poll interval' },
    gpio: { type: 'string', default: 'auto', enum: ['auto', 'pigpio', 'sim'], doc: 'GPIO backend' },
    mqtt_port: { type: 'integer', default: 1883, min: 0, max: 65535, doc: 'local MQTT broker port (LAN)' },
    http_port: { type: 'integer', default: 8000, min: 0, max: 65535, doc: 'local HTTP port (LAN)' },
    mqtt_tls_port: {
      type: 'integer',
      default: 8883,
      min: 0,
      max: 65535,
      doc: 'local MQTT over TLS port, served when mqtt_tls_cert and mqtt_tls_key are set',
    },
    mqtt_tls_cert: {
      type: 'string',
      doc: 'PEM certificate (chain) for the LAN broker’s TLS listener; unset = plain MQTT only',
    },
    mqtt_tls_key: { type: 'string', doc: 'PEM private key for mqtt_tls_cert', secret: true },
    buffer_max_mb: { type: 'integer', default: 256, min: 1, max: 65536, doc: 'store-and-forward buffer cap' },
    buffer_commit_ms: {
      type: 'integer',
      default: 2000,
      min: 0,
      max: 60000,
      doc: 'group-commit interval of the telemetry lane',
    },
    ble: { type: 'string', default: 'auto', enum: ['auto', 'sim', 'off'], doc: 'BLE provisioning transport' },
    ble_window_s: { type: 'integer', default: 600, min: 10, max: 86400, doc: 'longest BLE advertising window' },
  },
} as const satisfies SchemaNode;
