/**
 * Preloaded (`node --require`) into BOTH benchmarked servers, so one instrument counts for both:
 * every call of pg's `Client.prototype.query` is one statement sent to PostgreSQL. Sequelize and the
 * baseline both talk to the server through that method (Pool#query calls it too), including BEGIN,
 * COMMIT, ROLLBACK and the session setup Sequelize runs on a new connection.
 *
 * The harness asks for the count over the IPC channel it opened, and stops the server through it
 * (falling back to signals); when that channel closes (the harness died), the server exits instead of
 * lingering as an orphan holding a port.
 */
'use strict';

const pg = require('pg');

let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(...args) {
  statements += 1;
  return query.apply(this, args);
};

if (typeof process.send === 'function') {
  process.on('message', (message) => {
    if (message && message.type === 'bench:statements') {
      process.send({ type: 'bench:statements', id: message.id, statements });
    } else if (message && message.type === 'bench:exit') {
      // A plain exit (not a signal) lets `node --cpu-prof` write its profile.
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  // The channel must not keep a server alive that wants to exit on its own.
  if (process.channel) process.channel.unref();
}
