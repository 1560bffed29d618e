import { randomBytes } from 'node:crypto';

// Time-ordered unique ids (ULID layout: 48-bit millisecond time + 80 random bits, Crockford
// base32), so ids sort by creation and two processes never collide.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = 0;
let lastRandom = Buffer.alloc(10);

function encode(bytes: Uint8Array, chars: number, value?: number): string {
  let out = '';
  if (value !== undefined) {
    let v = value;
    for (let i = 0; i < chars; i++) {
      out = ALPHABET[v % 32] + out;
      v = Math.floor(v / 32);
    }
    return out;
  }
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.slice(0, chars);
}

export function newId(now: number = Date.now()): string {
  if (now <= lastTime) {
    // Same millisecond: increment the random part so ids stay strictly increasing here.
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      lastRandom[i] = (lastRandom[i] + 1) & 0xff;
      if (lastRandom[i] !== 0) break;
    }
    now = lastTime;
  } else {
    lastTime = now;
    lastRandom = randomBytes(10);
  }
  return encode(new Uint8Array(), 10, now) + encode(lastRandom, 16);
}
