export { migrateTable, statusQuery, progressSignal, progressReportsSignal, cutOverSignal } from './migrate-table';
export { migrateFleet, fleetStatusQuery } from './fleet';
