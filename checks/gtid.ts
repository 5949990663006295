// GTID mode: one revenant can checkpoint by (MariaDB always; MySQL ON or OFF, not a transition).
import { gtidModeProblem, gtidVariables } from '../mysql/flavor';
import { rows } from '../mysql/query';
import { refuse } from './refuse';
import { registerServerCheck } from './registry';

registerServerCheck({
  name: 'gtid-mode',
  stage: 'settings',
  order: 50,
  async run({ conn, flavor }) {
    const [g] = await rows(conn, gtidVariables(flavor));
    const problem = gtidModeProblem(flavor, String(g.mode));
    if (problem) refuse(problem);
  },
});
