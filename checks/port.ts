// gh-ost's port check: the server reached is the one named, not a proxy's or a forwarded port's
// other end (whose binlog and grants would be another server's).
import { otherPorts } from '../mysql/flavor';
import { rows } from '../mysql/query';
import { refuse } from './refuse';
import { registerServerCheck } from './registry';

registerServerCheck({
  name: 'port',
  stage: 'reached',
  order: 10,
  async run({ conn, flavor, variables, options }) {
    if (options.skipPortValidation) return;
    const reached = Number(conn.config.port);
    const other = otherPorts(flavor);
    const [extra] = other ? await rows(conn, other) : [];
    if (reached !== Number(variables.port) && reached !== Number(extra?.port ?? 0)) {
      refuse(
        `unexpected database port reported: the server reached on port ${reached} says its port is ${variables.port}; ` +
          'through a proxy or a forwarded port, add --skip-port-validation (or --aliyun-rds, --gcp, --azure)',
      );
    }
  },
});
