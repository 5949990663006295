export { migrateTable } from './migrate-table';
export { migrateFleet } from './fleet';
