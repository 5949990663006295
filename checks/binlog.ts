// The binlog revenant reads: on, in ROW format, with whole rows, and none of the settings that
// change what a row event holds (flavor.binlogSettingProblems).
import { binlogSettingProblems } from '../mysql/flavor';
import { refuse } from './refuse';
import { registerServerCheck } from './registry';

registerServerCheck({
  name: 'log-bin',
  stage: 'settings',
  order: 10,
  async run({ variables }) {
    if (Number(variables.log_bin) !== 1) {
      refuse(
        'binary logging is off (log_bin=OFF) on the server: revenant reads row changes from the binlog; start it with --log-bin --binlog-format=ROW --binlog-row-image=FULL',
      );
    }
  },
});

registerServerCheck({
  name: 'binlog-format',
  stage: 'settings',
  order: 20,
  async run({ variables, options }) {
    if (String(variables.binlog_format).toUpperCase() !== 'ROW' && !options.assumeRbr) {
      refuse(
        `binlog_format is ${variables.binlog_format}, but revenant needs ROW: SET GLOBAL binlog_format='ROW' (and restart replication threads), or start the server with --binlog-format=ROW`,
      );
    }
  },
});

registerServerCheck({
  name: 'binlog-row-image',
  stage: 'settings',
  order: 30,
  async run({ variables }) {
    if (String(variables.binlog_row_image).toUpperCase() !== 'FULL') {
      refuse(
        `binlog_row_image is ${variables.binlog_row_image}, but revenant needs FULL: its binlog events must carry whole rows (SET GLOBAL binlog_row_image='FULL')`,
      );
    }
  },
});

registerServerCheck({
  name: 'binlog-settings',
  stage: 'settings',
  order: 40,
  async run({ conn, flavor }) {
    const [problem] = await binlogSettingProblems(conn, flavor);
    if (problem) refuse(problem);
  },
});
