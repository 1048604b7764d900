/**
 * Loaded (`--import`) into a process a callgrind bench measures: on the shared machine something
 * outside the bench sent SIGINT to running targets, stopping runs that take ten minutes under
 * callgrind. The target keeps running; the bench stops it with SIGTERM.
 */
const on = process.on.bind(process);
process.on = (event, listener) => (event === 'SIGINT' ? process : on(event, listener));
process.addListener = process.on;
on('SIGINT', () => {});
