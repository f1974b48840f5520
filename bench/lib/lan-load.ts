// A worker thread that plays LAN nodes against the hub's broker, so the traffic's own cost does not
// count against the hub's event loop in bench/fall-path: `radar` nodes publish QoS1 frames at a fixed
// rate; `imu` nodes stream 50 Hz samples in batches of 5 (a fall every `fallEveryS` seconds).
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';

interface Load {
  port: number;
  radar: { node: string; password: string }[];
  radarPerSecond: number;
  imu: { node: string; password: string }[];
  seconds: number;
}
const load = workerData as Load;

function imuSequence(): number[][] {
  const s: number[][] = [];
  for (let i = 0; i < 150; i++)
    s.push([0.1 * Math.sin(i / 4), -1 + 0.2 * Math.sin(i / 2), 0, 20 * Math.sin(i / 3), 5, 2]);
  for (let i = 0; i < 10; i++) s.push([0, -0.16, 0, 183, 0, 0]);
  for (let i = 0; i < 3; i++) s.push([3.5, -4.7, 1.2, 549, 244, 0]);
  for (let i = 0; i < 300; i++) s.push([1, 0, 0, 0, 0, 0]);
  return s;
}

const clients: mqtt.MqttClient[] = [];
const timers: NodeJS.Timeout[] = [];
const frame = (i: number) =>
  JSON.stringify({ presence: 1, movement: 1, moving_range: 40 + (i % 10), dwell_state: 0, fall_state: 0, ts: i });
for (const r of load.radar) {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${load.port}`, { username: r.node, password: r.password });
  clients.push(c);
  let i = 0;
  const every = 1000 / load.radarPerSecond;
  timers.push(setInterval(() => c.publish(`local/${r.node}/radar`, frame(i++), { qos: 1 }), every));
}
const seq = imuSequence();
for (const n of load.imu) {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${load.port}`, { username: n.node, password: n.password });
  clients.push(c);
  let batch = 0;
  timers.push(
    setInterval(() => {
      const at = (batch * 5) % seq.length;
      c.publish(`local/${n.node}/imu`, JSON.stringify({ seq: batch++, rate_hz: 50, samples: seq.slice(at, at + 5) }), {
        qos: 0,
      });
    }, 100),
  );
}
parentPort!.postMessage('running');
setTimeout(() => {
  for (const t of timers) clearInterval(t);
  void Promise.all(clients.map((c) => c.endAsync())).then(() => parentPort!.postMessage('done'));
}, load.seconds * 1000);
