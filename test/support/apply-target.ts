// A ghost the unit tests apply row changes to: `d`.`_t_gho`, columns id (an integer primary
// key) and v, v named `vGhost` in the ghost.
import type { ApplyTarget } from '../../binlog/row-events';

export const applyTarget = (vGhost = 'v'): ApplyTarget => ({
  database: 'd',
  ghostTable: '_t_gho',
  columns: [
    { source: 'id', ghost: 'id' },
    { source: 'v', ghost: vGhost },
  ],
  key: { name: 'PRIMARY', columns: ['id'], integer: [true] },
});
