/**
 * Password hashing: argon2id with the OWASP Password Storage Cheat Sheet's parameters (19 MiB, 2 iterations,
 * 1 lane). @node-rs/argon2 hashes on libuv's thread pool, so a hash never blocks the event loop.
 */
import { randomBytes } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';

const ARGON2_OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Verified against when an account has no hash, so an unknown email costs what a wrong password costs. */
  private dummyHash?: Promise<string>;

  onModuleInit(): void {
    this.dummyHash = hash(randomBytes(32).toString('base64'), ARGON2_OPTIONS);
  }

  hash(password: string): Promise<string> {
    return hash(password, ARGON2_OPTIONS);
  }

  /** False for a missing hash too, after the same work as a real check. */
  async verify(passwordHash: string | null | undefined, password: string): Promise<boolean> {
    if (!passwordHash) {
      await verify(await (this.dummyHash ??= this.hash(randomBytes(32).toString('base64'))), password).catch(() => false);
      return false;
    }
    return verify(passwordHash, password).catch(() => false);
  }
}
