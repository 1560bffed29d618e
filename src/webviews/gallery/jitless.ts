// zod 4 probes `new Function('')` when the first object schema is created, to decide whether it
// may compile fast parsers. The webview's CSP has no 'unsafe-eval', so the probe is refused and
// reported as a CSP violation every time the gallery opens. jitless skips the probe; parsing is
// what it was already (interpreted, since eval is refused). Imported first, before any schema.
import { config } from 'zod/mini';

config({ jitless: true });
