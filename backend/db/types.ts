import type { Generated } from 'kysely';

/**
 * Central's tables, one schema for SQLite and PostgreSQL. Portable column choices: timestamps are
 * epoch milliseconds (bigint), booleans are 0/1 integers, JSON is text. Responses convert to ISO 8601.
 */
export interface Database {
  users: UsersTable;
  roles: RolesTable;
  user_roles: UserRolesTable;
  hardware_variants: HardwareVariantsTable;
  devices: DevicesTable;
  device_pin_configs: DevicePinConfigsTable;
  supported_components: SupportedComponentsTable;
  attached_components: AttachedComponentsTable;
  user_devices: UserDevicesTable;
  telemetry_data: TelemetryDataTable;
  firmware_updates: FirmwareUpdatesTable;
  device_certificates: DeviceCertificatesTable;
  device_challenges: DeviceChallengesTable;
  device_commands: DeviceCommandsTable;
  password_resets: PasswordResetsTable;
  audit_log: AuditLogTable;
  admin_alerts: AdminAlertsTable;
  mqtt_credentials: MqttCredentialsTable;
  device_alerts: DeviceAlertsTable;
  user_webhooks: UserWebhooksTable;
  notifications: NotificationsTable;
  notification_attempts: NotificationAttemptsTable;
}

export interface DeviceAlertsTable {
  id: string;
  device_id: number;
  type: string;
  /** `resolved`: a detection-down alert whose cause went away (the node speaks again, the hub is back). */
  status: 'open' | 'acknowledged' | 'cancelled' | 'resolved';
  ts: number;
  seq: number;
  node_id: string | null;
  component_id: string | null;
  prob: number | null;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  cancelled_by: string | null;
  cancelled_at: number | null;
  created_at: number;
  /** Times the alert was sent again because nobody acknowledged it. */
  escalations: Generated<number>;
  escalated_at: number | null;
  resolved_at: number | null;
  /** Why detection is down (detection_down, hub_offline). */
  reason: string | null;
  /** Decisions the hub's cooldown suppressed as duplicates of this alert. */
  duplicates: Generated<number>;
}

export interface UserWebhooksTable {
  id: Generated<number>;
  user_id: number;
  url: string;
  /** JSON array of event names. */
  events: string;
  secret: string;
  created_at: number;
}

export interface NotificationsTable {
  id: Generated<number>;
  user_id: number;
  channel: 'webhook' | 'email';
  webhook_id: number | null;
  event: string;
  device_id: number;
  alert_id: string | null;
  dedupe_key: string;
  /** The JSON body (webhook) or mail text, fixed when queued. */
  payload: string;
  status: 'pending' | 'delivered' | 'failed' | 'skipped';
  attempts: Generated<number>;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface NotificationAttemptsTable {
  id: Generated<number>;
  notification_id: number;
  at: number;
  duration_ms: number;
  ok: number;
  http_status: number | null;
  error: string | null;
}

export interface MqttCredentialsTable {
  username: string;
  user_id: number;
  secret_hash: string;
  created_at: number;
  expires_at: number;
}

export interface UsersTable {
  id: Generated<number>;
  username: string;
  email: string;
  password_hash: string;
  created_at: number;
  last_login_at: number | null;
  is_active: number;
  /** Carried in access tokens as `tv`; bumping it (password reset) revokes every token issued before. */
  token_version: number;
}

export interface RolesTable {
  id: Generated<number>;
  name: string;
  description: string | null;
}

export interface UserRolesTable {
  user_id: number;
  role_id: number;
}

export interface HardwareVariantsTable {
  id: Generated<number>;
  name: string;
  description: string | null;
}

export type DeviceStatus = 'registered' | 'claimed' | 'provisioned';

export interface DevicesTable {
  id: Generated<number>;
  cpu_serial: string;
  device_uuid: string;
  hardware_version: string;
  hardware_variant: string;
  public_key: string;
  claim_code_hash: string;
  status: DeviceStatus;
  /** HMAC key for device requests: created at claim, deleted at unlink; never logged. */
  shared_secret: string | null;
  created_at: number;
  claimed_at: number | null;
  last_seen_at: number | null;
  /** Device clock minus central clock at the last signed request, in seconds (recorded, never enforced). */
  clock_skew_s: number | null;
}

export interface DevicePinConfigsTable {
  id: Generated<number>;
  hardware_version: string;
  hardware_variant: string;
  component_type: string;
  pin_number: number;
  pin_mode: string | null;
  default_state: string | null;
  description: string | null;
  /** 1 when several components may share this pin (e.g. a shared bus). */
  shareable: number;
}

export interface SupportedComponentsTable {
  id: Generated<number>;
  component_type: string;
  display_name: string;
  category: 'sensor' | 'actuator' | 'internal_module';
  description: string | null;
  component_metadata: string | null;
  telemetry_category: string | null;
}

export interface AttachedComponentsTable {
  id: Generated<number>;
  device_id: number;
  component_type: string;
  name: string | null;
  pin_number: number | null;
  pin_mode: string | null;
  default_state: string | null;
  config: string | null;
  created_at: number;
}

export type DeviceRole = 'owner' | 'viewer';

export interface UserDevicesTable {
  id: Generated<number>;
  user_id: number;
  device_id: number;
  role: DeviceRole;
  nickname: string | null;
  created_at: number;
}

export interface TelemetryDataTable {
  id: Generated<number>;
  device_id: number;
  seq: number;
  lane: string;
  type: string;
  ts: number;
  received_at: number;
  component_type: string | null;
  component_id: string | null;
  node_id: string | null;
  metric: string | null;
  value: number | null;
  data: string | null;
  /** The hub's own timestamp when `ts` was repaired (its clock was not synchronised), else null. */
  hub_ts: number | null;
  clock_synced: Generated<number>;
}

export interface FirmwareUpdatesTable {
  id: Generated<number>;
  version: string;
  sha256: string;
  size: number;
  manifest: string;
  signature: string;
  notes: string | null;
  package_path: string | null;
  created_at: number;
}

export interface DeviceCertificatesTable {
  serial: string;
  device_id: number;
  pem: string;
  not_before: number;
  not_after: number;
  issued_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
}

export interface DeviceChallengesTable {
  nonce: string;
  device_uuid: string;
  expires_at: number;
}

export interface DeviceCommandsTable {
  id: string;
  device_id: number;
  component_id: string | null;
  component_type: string | null;
  action: string;
  payload: string;
  status: 'queued' | 'delivered' | 'done' | 'failed' | 'expired';
  result: string | null;
  created_at: number;
  expires_at: number;
  updated_at: number;
}

export interface PasswordResetsTable {
  user_id: number;
  code_hash: string;
  expires_at: number;
  attempts_left: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  ts: number;
  actor_user_id: number | null;
  action: string;
  target: string | null;
  details: string | null;
  ip: string | null;
}

export interface AdminAlertsTable {
  id: Generated<number>;
  ts: number;
  type: string;
  device_id: number | null;
  device_uuid: string | null;
  cpu_serial: string | null;
  details: string | null;
}
