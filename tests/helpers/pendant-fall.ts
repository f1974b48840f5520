import type { MqttClient } from 'mqtt';

/**
 * A synthetic fall as a pendant streams it at 50 Hz: 5 s upright and still, a short free fall, the
 * impact, then 12 s lying on the side. The shipped imu-fall model raises one alert on it.
 */
export function syntheticFallSamples(): number[][] {
  const samples: number[][] = [];
  for (let i = 0; i < 250; i++) samples.push([0, -1, 0, 0, 0, 0]);
  for (let i = 0; i < 10; i++) samples.push([0, -0.16, 0, 183, 0, 0]);
  for (let i = 0; i < 3; i++) samples.push([3.5, -4.7, 1.2, 549, 244, 0]);
  for (let i = 0; i < 600; i++) samples.push([1, 0, 0, 0, 0, 0]);
  return samples;
}

/** Publishes the synthetic fall on local/{node}/imu in 1 s batches (QoS 1), as a LAN node does. */
export async function publishSyntheticFall(client: MqttClient, nodeId: string): Promise<void> {
  const samples = syntheticFallSamples();
  for (let i = 0, seq = 0; i < samples.length; i += 50, seq++)
    await client.publishAsync(
      `local/${nodeId}/imu`,
      JSON.stringify({ seq, rate_hz: 50, samples: samples.slice(i, i + 50) }),
      { qos: 1 },
    );
}
