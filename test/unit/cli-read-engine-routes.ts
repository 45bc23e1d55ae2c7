// The fake engine's routes for the read-only command tests (the answers of cli-read-fixtures.ts).
import type { ServerResponse } from 'node:http';
import * as fx from './cli-read-fixtures.js';
import { notFoundAnswer, type FakeAnswer, type FakeRequest } from './cli-read-fake-engine.js';

const jsonLines = (items: unknown[]) => (_req: FakeRequest, res: ServerResponse): void => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  for (const item of items) res.write(JSON.stringify(item) + '\n');
  res.end();
};

export function readRoutes(now: number): Record<string, FakeAnswer> {
  return {
    'GET /containers/json': fx.containers(now),
    'GET /images/json': fx.images(now),
    'GET /images/nginx:1.25/history': fx.history(now),
    'GET /version': fx.version,
    'GET /info': fx.info(),
    'GET /system/df': fx.diskUsage(now),
    'GET /containers/web/json': fx.inspectContainer(now),
    'GET /containers/nope/json': notFoundAnswer('No such container: nope'),
    'GET /images/nope/json': notFoundAnswer('No such image: nope:latest'),
    'GET /containers/web/stats': jsonLines([fx.stats(fx.ID1, '/web')]),
    'GET /containers/web/top': {
      Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      Processes: [['root', '1234', '1200', '0', '12:00', '?', '00:00:00', 'nginx: master process nginx -g daemon off;'], ['www-data', '1300', '1234', '0', '12:00', '?', '00:00:00', 'nginx: worker']],
    },
    'GET /containers/web/changes': [{ Path: '/etc', Kind: 0 }, { Path: '/etc/x', Kind: 1 }, { Path: '/tmp/y', Kind: 2 }],
    'GET /events': jsonLines(fx.EVENTS),
    'POST /containers/prune': { ContainersDeleted: [fx.ID2], SpaceReclaimed: 12345 },
    'POST /images/prune': { ImagesDeleted: [{ Untagged: 'foo:latest' }, { Deleted: fx.IMG2 }], SpaceReclaimed: 4860000 },
    'POST /networks/prune': { NetworksDeleted: null },
    'POST /build/prune': { CachesDeleted: null, SpaceReclaimed: 0 },
  };
}
