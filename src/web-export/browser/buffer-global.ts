/** esbuild injects this as the bundle's `Buffer` (src/text uses Node's Buffer for UTF-8 bytes and base64). */
export { Buffer } from 'buffer';
