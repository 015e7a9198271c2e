import { lsnValue } from './replica-monitor';
import { connectionOptionsOf, replicationOptions, serverName } from './replication';

describe('replication options', () => {
  it('none without replicas; otherwise the primary writes and each replica URL reads', () => {
    expect(replicationOptions('postgres://app@primary:5432/app', [])).toBe(false);
    expect(replicationOptions('postgres://app:s%40cret@primary/app', ['postgres://app@r1:6000/app', 'postgresql://r2/app'])).toEqual({
      write: { host: 'primary', port: 5432, username: 'app', password: 's@cret', database: 'app' },
      read: [
        { host: 'r1', port: '6000', username: 'app', password: undefined, database: 'app' },
        { host: 'r2', port: 5432, username: undefined, password: undefined, database: 'app' },
      ],
    });
  });

  it('names a server by host and port, never its credentials', () => {
    expect(serverName('postgres://app:secret@replica-1:6000/app')).toBe('replica-1:6000');
    expect(connectionOptionsOf('postgres://h/db').port).toBe(5432);
  });
});

describe('lsnValue', () => {
  it('orders WAL positions as PostgreSQL does (high word first, hexadecimal)', () => {
    expect(lsnValue('0/16B3748') < lsnValue('0/16B3749')).toBe(true);
    expect(lsnValue('0/FFFFFFFF') < lsnValue('1/0')).toBe(true);
    expect(lsnValue('A/0') > lsnValue('9/FFFFFFFF')).toBe(true);
    expect(lsnValue('16/B374D848')).toBe((0x16n << 32n) + 0xb374d848n);
  });
});
