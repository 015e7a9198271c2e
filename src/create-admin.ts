/**
 * Creates an admin account: the way to get the first one, since the API lets only admins make admins.
 * Usage: npm run user:create-admin -- --email ada@example.com --name "Ada Lovelace"
 * In a deployment (a production install has no tsx): node dist/create-admin.js --email … --name …
 *
 * The password comes from ADMIN_PASSWORD or, when that is unset, from standard input (asked for, without echo,
 * on a terminal; read whole when piped). There is no default password. The input is checked with the rules of the
 * API's CreateUser body, hashed with the app's PasswordHasher and stored through the app's UsersRepository (so the audit trail records it,
 * with no actor), against
 * DATABASE_URL or the embedded server, as the db:* scripts do. An email a live user already has is refused.
 */
import { parseArgs } from 'node:util';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { UniqueConstraintError } from 'sequelize';
import { Sequelize } from 'sequelize-typescript';
import { normaliseEmail } from './common/validation/email';
import { installModelHooks } from './database/model-hooks';
import { pendingMigrations } from './database/pending-migrations';
import { Post } from './posts/models/post.model';
import { CreateAccountDto } from './users/dto/create-user.dto';
import { User } from './users/models/user.model';
import { PasswordHasher } from './users/password-hasher';
import { UsersRepository } from './users/users.repository';
import { withAppDatabase } from './database/app-database';

const USAGE = 'Usage: npm run user:create-admin -- --email <email> --name <name>  (password from ADMIN_PASSWORD or standard input)';

/** A failure the operator can fix: printed as it is, without a stack. */
class CommandError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.email === undefined || values.name === undefined) throw new CommandError(`--email and --name are required.\n${USAGE}`);

  const password = await readPassword(values.email);
  const account = validAccount({ name: values.name, email: values.email, password });

  await withAppDatabase(async (url) => {
    const sequelize = new Sequelize(url, { dialect: 'postgres', logging: false, models: [User, Post] });
    installModelHooks(sequelize);
    try {
      const pending = await pendingMigrations(sequelize);
      if (pending.length > 0) {
        throw new CommandError(`The database has ${pending.length} pending migration(s): ${pending.join(', ')}. Run \`npm run db:migrate\` first.`);
      }
      const passwordHash = await new PasswordHasher().hash(account.password);
      const user = await new UsersRepository(User, sequelize).create({ name: account.name, email: account.email, role: 'admin', passwordHash }).catch((error: unknown) => {
        // The partial unique index on live emails decides, so two concurrent runs cannot both succeed.
        if (error instanceof UniqueConstraintError) throw new CommandError(`A live user already has the email ${normaliseEmail(account.email)}: nothing was changed.`);
        throw error;
      });
      console.log(`Created admin #${user.id} ${user.email}`);
    } finally {
      await sequelize.close();
    }
    // The direct connection when there is one: a one-off command has no use for a transaction pooler.
  }, { schema: true });
}

/** The fields as the API's CreateUser body would take them (trimmed email, 2–100 character name, 12–128 character password). */
function validAccount(input: { name: string; email: string; password: string }): Required<Pick<CreateAccountDto, 'name' | 'email' | 'password'>> {
  const dto = plainToInstance(CreateAccountDto, { ...input, role: 'admin' });
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const messages = errors.flatMap((error) => Object.values(error.constraints ?? {}));
    throw new CommandError(`Invalid input:\n${messages.map((message) => `  - ${message}`).join('\n')}`);
  }
  return { name: dto.name, email: dto.email, password: dto.password ?? '' };
}

async function readPassword(email: string): Promise<string> {
  const fromEnvironment = process.env.ADMIN_PASSWORD;
  // Empty means unset, as for every other variable.
  if (fromEnvironment) return fromEnvironment;
  if (process.stdin.isTTY) {
    const password = await promptHidden(`Password for ${email}: `);
    if (password && (await promptHidden('Repeat it: ')) !== password) throw new CommandError('The two passwords differ: nothing was changed.');
    if (!password) throw new CommandError('No password given: nothing was changed.');
    return password;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One line; the newline that ends it (echo, a file) is not part of the password.
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!password) throw new CommandError(`No password: set ADMIN_PASSWORD or write it to standard input.\n${USAGE}`);
  if (/[\r\n]/.test(password)) throw new CommandError('The password on standard input must be a single line.');
  return password;
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let input: string[] = [];
    const finish = (outcome: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      outcome();
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish(() => resolve(input.join('')));
        // Ctrl-C, Ctrl-D
        if (char === '\u0003' || char === '\u0004') return finish(() => reject(new CommandError('Cancelled: nothing was changed.')));
        if (char === '\u007f' || char === '\b') input = input.slice(0, -1);
        else input.push(char);
      }
    };
    stdin.on('data', onData);
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof CommandError ? error.message : error);
    process.exit(1);
  },
);
