export { migrateTable, statusQuery, progressSignal, cutOverSignal } from './migrate-table';
