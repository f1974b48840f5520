import t from 'tap';
import { silentLogger } from '../../core/logger.js';
import type { LocalBroker } from '../../daemon/broker/local-broker.js';
import { Pipeline } from '../../daemon/components/pipeline.js';
import { StatePublisher } from '../../daemon/components/state-publisher.js';
import type { ComponentSpec } from '../../sync/components.js';

const spec = (id: number, component_type: string, name: string): ComponentSpec => ({
  id,
  component_type,
  name,
  pin_number: null,
  pin_mode: null,
  default_state: null,
  config: null,
});

function setup(email: string | null, components: ComponentSpec[]) {
  const sent: [string, Record<string, unknown>][] = [];
  const broker = {
    publish: async (topic: string, payload: string) =>
      void sent.push([topic, JSON.parse(payload) as Record<string, unknown>]),
  } as unknown as LocalBroker;
  // As the hub wires it: the publisher subscribes to the pipeline and reads the pipeline's cache.
  const pipeline = new Pipeline(silentLogger());
  const publisher = new StatePublisher({
    broker,
    deviceUuid: 'uuid-1',
    userEmail: () => email,
    components: () => components,
    latest: (id) => pipeline.latest(id),
    log: silentLogger(),
  });
  pipeline.on('lan', (out) => publisher.publish(out));
  return {
    sent,
    publisher: {
      publish: (o: Parameters<Pipeline['emit']>[0]) => pipeline.emit(o),
      health: publisher.health.bind(publisher),
    },
  };
}

t.test('nothing is published before the hub has an owner', async (t) => {
  const s = setup(null, [spec(1, 'led', 'Hall')]);
  s.publisher.publish({ componentId: 1, componentType: 'led', kind: 'state', name: 'state', state: 'ON', ts: 1 });
  t.same(s.sent, []);
});

t.test('latest state and readings, retained per type; per id when a type repeats', async (t) => {
  const s = setup('o@x.example', [spec(1, 'dht22', 'Living'), spec(2, 'dht22', 'Bedroom'), spec(3, 'led', 'Hall')]);
  s.publisher.publish({
    componentId: 1,
    componentType: 'dht22',
    kind: 'reading',
    name: 'temperature',
    value: 21.5,
    ts: 1000,
  });
  s.publisher.publish({
    componentId: 1,
    componentType: 'dht22',
    kind: 'reading',
    name: 'humidity',
    value: 45,
    ts: 2000,
  });
  s.publisher.publish({ componentId: 3, componentType: 'led', kind: 'state', name: 'state', state: 'ON', ts: 3000 });
  s.publisher.publish({ componentId: 3, componentType: 'led', kind: 'event', name: 'x', ts: 4000 });
  t.same(
    s.sent.map(([topic]) => topic),
    [
      'telemetry/o@x.example/uuid-1/dht22/status',
      'telemetry/o@x.example/uuid-1/dht22/1/status',
      'telemetry/o@x.example/uuid-1/dht22/status',
      'telemetry/o@x.example/uuid-1/dht22/1/status',
      'telemetry/o@x.example/uuid-1/led/status',
    ],
    'events are not states',
  );
  t.same(s.sent[2]![1], {
    component_id: 1,
    name: 'Living',
    health: 'ok',
    readings: { temperature: 21.5, humidity: 45 },
    ts: '1970-01-01T00:00:02.000Z',
  });
  t.match(s.sent[4]![1], { component_id: 3, state: 'ON', health: 'ok' });
});

t.test('a component that turns faulty is republished so LAN clients stop trusting it', async (t) => {
  const s = setup('o@x.example', [spec(5, 'dht22', 'Living')]);
  s.publisher.publish({
    componentId: 5,
    componentType: 'dht22',
    kind: 'reading',
    name: 'temperature',
    value: 21.5,
    ts: 1000,
  });
  s.publisher.health({ id: 5, component_type: 'dht22', health: 'faulty', reason: 'silent for more than 90 s' });
  t.match(s.sent.at(-1), [
    'telemetry/o@x.example/uuid-1/dht22/status',
    { health: 'faulty', reason: 'silent for more than 90 s', readings: { temperature: 21.5 } },
  ]);
  s.publisher.health({ id: 5, component_type: 'dht22', health: 'ok' });
  t.match(s.sent.at(-1)![1], { health: 'ok' });
  t.notOk('reason' in s.sent.at(-1)![1]);
});
