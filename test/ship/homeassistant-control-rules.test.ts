// Home Assistant controls, their pure half: the topics, and what each command asks of the API.
import test from 'ava';
import { pino } from 'pino';
import { Topics } from '../../protocol/mqtt/topics.js';
import { commandFilters, parseCommandTopic, workloadCommandTopic, cordonCommandTopic } from '../../controller/homeassistant/control-topics.js';
import { nodeCordonControl, workloadControls } from '../../controller/homeassistant/control-discovery.js';
import { HomeAssistantControls } from '../../controller/homeassistant/controls.js';
import { topicMatches } from '../../protocol/mqtt/topics.js';

const topics = new Topics('pikube');

test('command topics parse back, and only the controller-known shapes do', (t) => {
  const scale = workloadCommandTopic(topics, 'deployment', 'default', 'web', 'replicas');
  t.is(scale, 'pikube/v1/homeassistant/_workloads/deployment/default/web/replicas/set');
  t.deepEqual(parseCommandTopic(topics, scale), { target: 'workload', kind: 'deployment', namespace: 'default', name: 'web', action: 'replicas' });
  t.deepEqual(parseCommandTopic(topics, cordonCommandTopic(topics, 'pi-01')), { target: 'node', node: 'pi-01' });
  t.is(parseCommandTopic(topics, 'pikube/v1/homeassistant/_workloads/pod/default/web/replicas/set'), undefined);
  t.is(parseCommandTopic(topics, 'pikube/v1/homeassistant/pi-01/state'), undefined);
  for (const topic of [scale, cordonCommandTopic(topics, 'pi-01')]) t.true(commandFilters(topics).some((f) => topicMatches(f, topic)));
});

test('discovery: number and button for a Deployment, button and switch for a CronJob, a cordon switch per node', (t) => {
  const dep = workloadControls(topics, { kind: 'deployment', namespace: 'default', name: 'web', maxReplicas: 5 }, '0.1.0');
  t.deepEqual(dep.map((m) => m.topic), ['homeassistant/number/pikube_deployment_default_web/replicas/config', 'homeassistant/button/pikube_deployment_default_web/restart/config']);
  t.like(dep[0]!.payload, { max: 5, min: 0, state_topic: 'pikube/v1/homeassistant/_workloads/deployment/default/web/state', value_template: '{{ value_json.replicas }}' });
  const cj = workloadControls(topics, { kind: 'cronjob', namespace: 'ops', name: 'backup', maxReplicas: 10 }, '0.1.0');
  t.deepEqual(cj.map((m) => m.topic.split('/')[1]), ['button', 'switch']);
  t.like(nodeCordonControl(topics, 'pi-01', '0.1.0').payload, { command_topic: 'pikube/v1/homeassistant/pi-01/cordon/set', state_topic: 'pikube/v1/homeassistant/pi-01/cordon/state' });
});

test('each command becomes the API request kubectl would make; nonsense payloads are refused', (t) => {
  const controls = new HomeAssistantControls({ link: {} as never, topics, informers: {} as never, execute: async () => ({ id: '', code: 200 }), user: 'ha', version: '0', log: pino({ level: 'silent' }) });
  t.like(controls.requestFor({ target: 'workload', kind: 'deployment', namespace: 'default', name: 'web', action: 'replicas' }, '3'), { verb: 'scale', group: 'apps', resource: 'deployments', name: 'web', body: { replicas: 3 } });
  t.regex(controls.requestFor({ target: 'workload', kind: 'deployment', namespace: 'default', name: 'web', action: 'replicas' }, 'lots') as string, /whole number/);
  const restart = controls.requestFor({ target: 'workload', kind: 'statefulset', namespace: 'default', name: 'db', action: 'restart' }, 'PRESS');
  t.like(restart, { verb: 'patch', resource: 'statefulsets', patchType: 'merge' });
  t.like(controls.requestFor({ target: 'workload', kind: 'cronjob', namespace: 'ops', name: 'backup', action: 'suspend' }, 'ON'), { verb: 'patch', resource: 'cronjobs', body: { spec: { suspend: true } } });
  t.like(controls.requestFor({ target: 'node', node: 'pi-01' }, 'OFF'), { verb: 'patch', resource: 'nodes', name: 'pi-01', body: { spec: { unschedulable: null } } });
  t.regex(controls.requestFor({ target: 'node', node: 'pi-01' }, 'maybe') as string, /ON or OFF/);
});
