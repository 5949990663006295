export { migrateTable, statusQuery, progressSignal, cutOverSignal } from './migrate-table';
export { migrateFleet, fleetStatusQuery } from './fleet';
